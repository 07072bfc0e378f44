// File source, file sink and stdout sink: options, stats, errors naming paths, multi-block
// files, line_bytes_max, each on_error policy, follow mode on a growing file, and
// sink -> source round trips.
#include <gtest/gtest.h>

#include "test_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "connectors/file/file_sink.h"
#include "connectors/file/file_source.h"
#include "connectors/file/partitioned_sink.h"
#include "connectors/stdout/stdout_sink.h"

namespace weir {
namespace {

using weir_test::ReadFile;
using weir_test::WriteFile;

namespace fs = std::filesystem;

SchemaPtr MakeSchema(std::vector<Field> fields) {
  return std::make_shared<Schema>(std::move(fields));
}

Options MakeOptions(std::vector<std::pair<std::string, std::string>> kv) {
  Options o;
  for (auto& [k, v] : kv) EXPECT_TRUE(o.Set(k, v).ok());
  return o;
}

// A fresh directory per test, removed afterwards.
class FileConnectorTest : public ::testing::Test {
 protected:
  weir_test::TempDir tmp_{"weir_file_test", /*in_memory=*/false};
  const std::string dir_ = tmp_.path();

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

};

std::vector<std::string> RowsOf(const RecordBatch& batch) {
  std::vector<std::string> rows;
  for (int64_t r = 0; r < batch.num_rows(); ++r) {
    std::string row;
    for (size_t c = 0; c < batch.num_columns(); ++c) {
      if (c > 0) row += ", ";
      row += batch.column(c)->ValueToString(r);
    }
    rows.push_back(row);
  }
  return rows;
}

struct ReadResult {
  Status status;
  std::vector<std::string> rows;
  int64_t batches = 0;
};

ReadResult ReadAll(Source* source, int64_t rows_max) {
  ReadResult result;
  RecordBatch batch;
  while (true) {
    auto r = source->Next(&batch, rows_max);
    if (!r.ok()) {
      result.status = r.status();
      return result;
    }
    if (*r == PollResult::kEnd) return result;
    EXPECT_EQ(*r, PollResult::kBatch);  // a bounded file never idles
    EXPECT_GE(batch.num_rows(), 1);
    EXPECT_LE(batch.num_rows(), rows_max);
    ++result.batches;
    for (std::string& row : RowsOf(batch)) result.rows.push_back(std::move(row));
  }
}

SchemaPtr FlightsSchema() {
  return MakeSchema({{"date", DataType::Timestamp()},
                     {"delay", DataType::Int64()},
                     {"distance", DataType::Int64()},
                     {"origin", DataType::Varchar()},
                     {"destination", DataType::Varchar()}});
}

// ---- file source --------------------------------------------------------------------------

TEST_F(FileConnectorTest, ReadsCsvWithHeaderAndReportsStats) {
  std::string text =
      "date,delay,distance,origin,destination\n"
      "2001-01-01 00:01:00,33,2176,LAS,PHL\n"
      "2001-01-01 00:01:00,-13,2345,ANC,LAX\n";
  WriteFile(Path("f.csv"), text);
  auto source = MakeFileSource(MakeOptions({{"path", Path("f.csv")}, {"header", "true"}}),
                               FlightsSchema(), {3, 1});
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_TRUE((*source)->bounded());
  EXPECT_EQ((*source)->Describe(), "file " + Path("f.csv") + " (csv)");
  EXPECT_EQ((*source)->output_schema()->ToString(), "origin VARCHAR, delay BIGINT");
  auto r = ReadAll(source->get(), 4096);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rows, (std::vector<std::string>{"LAS, 33", "ANC, -13"}));
  SourceStats stats = (*source)->stats();
  EXPECT_EQ(stats.rows_read, 2);
  EXPECT_EQ(stats.rows_skipped, 0);
  EXPECT_EQ(stats.bytes_read, static_cast<int64_t>(text.size()));
  EXPECT_EQ(stats.bytes_total, static_cast<int64_t>(text.size()));
  RecordBatch batch;
  EXPECT_EQ((*source)->Next(&batch, 10).value(), PollResult::kEnd);  // stays ended
}

TEST_F(FileConnectorTest, OpenErrorsNameThePath) {
  auto r = MakeFileSource(MakeOptions({{"path", Path("missing.csv")}}), FlightsSchema(), {0});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "cannot open '" + Path("missing.csv") + "': No such file or directory");
  r = MakeFileSource(MakeOptions({{"path", dir_}}), FlightsSchema(), {0});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "cannot read '" + dir_ + "': Is a directory");
  r = MakeFileSource(MakeOptions({}), FlightsSchema(), {0});
  EXPECT_EQ(r.status().message(), "missing required option 'path'");
  WriteFile(Path("f.csv"), "");
  r = MakeFileSource(MakeOptions({{"path", Path("f.csv")}, {"format", "xml"}}), FlightsSchema(),
                     {0});
  EXPECT_FALSE(r.ok());
  r = MakeFileSource(MakeOptions({{"path", Path("f.csv")}, {"line_bytes_max", "0"}}),
                     FlightsSchema(), {0});
  EXPECT_FALSE(r.ok());
  r = MakeFileSource(MakeOptions({{"path", Path("f.csv")}}), FlightsSchema(), {7});
  EXPECT_FALSE(r.ok());
}

TEST_F(FileConnectorTest, EveryOptionIsMarkedUsed) {
  WriteFile(Path("f.csv"), "");
  Options options = MakeOptions({{"path", Path("f.csv")},
                                 {"format", "csv"},
                                 {"header", "true"},
                                 {"delimiter", ","},
                                 {"quote", "\""},
                                 {"null_string", "NA"},
                                 {"on_error", "dead_letter"},
                                 {"dead_letter_path", Path("dlq.jsonl")},
                                 {"follow", "false"},
                                 {"line_bytes_max", "1000"}});
  auto r = MakeFileSource(options, FlightsSchema(), {0});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(options.CheckAllUsed("connector 'file'").ok());
  // A CSV option with the JSON format is left unused, so the registry reports it.
  Options json = MakeOptions({{"path", Path("f.csv")}, {"format", "json"}, {"header", "true"}});
  ASSERT_TRUE(MakeFileSource(json, FlightsSchema(), {0}).ok());
  EXPECT_EQ(json.CheckAllUsed("connector 'file'").message(),
            "unknown option 'header' for connector 'file'");
}

// A file of several read blocks: every row arrives once, in order, whatever the batch size.
TEST_F(FileConnectorTest, MultiBlockFileAndBatchSizes) {
  std::string text = "n,s\n";
  const int rows = 150'000;  // about 3 MiB
  for (int i = 0; i < rows; ++i)
    text += std::to_string(i) + (i % 10 == 0 ? ",\"quoted\nvalue\"\n" : ",some text here\n");
  WriteFile(Path("big.csv"), text);
  auto schema = MakeSchema({{"n", DataType::Int64()}, {"s", DataType::Varchar()}});
  for (int64_t rows_max : {int64_t{4096}, int64_t{1}, int64_t{65536}}) {
    auto source =
        MakeFileSource(MakeOptions({{"path", Path("big.csv")}, {"header", "true"}}), schema, {0});
    ASSERT_TRUE(source.ok());
    RecordBatch batch;
    int64_t expect = 0, batches = 0;
    while (true) {
      auto r = (*source)->Next(&batch, rows_max);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      if (*r == PollResult::kEnd) break;
      ++batches;
      ASSERT_LE(batch.num_rows(), rows_max);
      const int64_t* n = batch.column(0)->data<int64_t>();
      for (int64_t i = 0; i < batch.num_rows(); ++i) ASSERT_EQ(n[i], expect++);
    }
    EXPECT_EQ(expect, rows);
    if (rows_max == 4096) {
      EXPECT_EQ(batches, (rows + 4095) / 4096);  // batches are topped up across blocks
    }
    EXPECT_EQ((*source)->stats().bytes_read, static_cast<int64_t>(text.size()));
  }
}

TEST_F(FileConnectorTest, OnErrorPolicies) {
  std::string text = "1,a\nx,b\n3,c\n4\n";
  WriteFile(Path("f.csv"), text);
  auto schema = MakeSchema({{"n", DataType::Int64()}, {"s", DataType::Varchar()}});
  auto fail = MakeFileSource(MakeOptions({{"path", Path("f.csv")}}), schema, {0, 1});
  ASSERT_TRUE(fail.ok());
  auto r = ReadAll(fail->get(), 4096);
  EXPECT_EQ(r.status.message(), Path("f.csv") + ":2: column 'n': invalid BIGINT 'x'");

  auto skip =
      MakeFileSource(MakeOptions({{"path", Path("f.csv")}, {"on_error", "skip"}}), schema, {0, 1});
  ASSERT_TRUE(skip.ok());
  r = ReadAll(skip->get(), 4096);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.rows, (std::vector<std::string>{"1, a", "3, c"}));
  EXPECT_EQ((*skip)->stats().rows_skipped, 2);
  EXPECT_EQ((*skip)->stats().rows_read, 2);

  auto dlq = MakeFileSource(MakeOptions({{"path", Path("f.csv")},
                                         {"on_error", "dead_letter"},
                                         {"dead_letter_path", Path("bad.jsonl")}}),
                            schema, {1});
  ASSERT_TRUE(dlq.ok());
  r = ReadAll(dlq->get(), 1);
  ASSERT_TRUE(r.status.ok());
  // Only s is projected: the bad n on line 2 is not parsed, the short line 4 still counts.
  EXPECT_EQ(r.rows, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ((*dlq)->stats().rows_dead_letter, 1);
  EXPECT_EQ(ReadFile(Path("bad.jsonl")),
            "{\"source\":\"" + Path("f.csv") +
                "\",\"line\":4,\"reason\":\"expected 2 fields, found 1\",\"raw\":\"4\"}\n");

  auto unusable = MakeFileSource(MakeOptions({{"path", Path("f.csv")},
                                              {"on_error", "dead_letter"},
                                              {"dead_letter_path", Path("no/such/dir.jsonl")}}),
                                 schema, {0});
  ASSERT_TRUE(unusable.ok());  // opened lazily, on the first bad record
  r = ReadAll(unusable->get(), 4096);
  EXPECT_EQ(r.status.message(), "cannot open dead-letter file '" + Path("no/such/dir.jsonl") +
                                    "': No such file or directory");
}

TEST_F(FileConnectorTest, HugeLinesAreSkippedWithoutUnboundedBuffering) {
  std::string huge(3 << 20, 'z');  // 3 MiB, several read blocks
  std::string text = "{\"s\":\"a\"}\n{\"s\":\"" + huge + "\"}\n{\"s\":\"b\"}\n";
  WriteFile(Path("f.jsonl"), text);
  auto schema = MakeSchema({{"s", DataType::Varchar()}});
  auto source = MakeFileSource(MakeOptions({{"path", Path("f.jsonl")},
                                            {"format", "json"},
                                            {"on_error", "skip"},
                                            {"line_bytes_max", "1048576"}}),
                               schema, {0});
  ASSERT_TRUE(source.ok());
  auto r = ReadAll(source->get(), 4096);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rows, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ((*source)->stats().rows_skipped, 1);
  EXPECT_EQ((*source)->stats().bytes_read, static_cast<int64_t>(text.size()));

  auto fail = MakeFileSource(
      MakeOptions({{"path", Path("f.jsonl")}, {"format", "json"}, {"line_bytes_max", "1048576"}}),
      schema, {0});
  ASSERT_TRUE(fail.ok());
  r = ReadAll(fail->get(), 4096);
  EXPECT_EQ(r.status.message(),
            Path("f.jsonl") + ":2: record longer than line_bytes_max (1048576 bytes)");
}

TEST_F(FileConnectorTest, FollowTailsAGrowingFile) {
  auto schema = MakeSchema({{"n", DataType::Int64()}, {"s", DataType::Varchar()}});
  WriteFile(Path("live.csv"), "n,s\n1,a\n");
  auto source = MakeFileSource(
      MakeOptions({{"path", Path("live.csv")}, {"header", "true"}, {"follow", "true"}}), schema,
      {0, 1});
  ASSERT_TRUE(source.ok());
  EXPECT_FALSE((*source)->bounded());
  EXPECT_EQ((*source)->stats().bytes_total, -1);
  RecordBatch batch;
  auto next = [&] { return (*source)->Next(&batch, 4096).value(); };
  ASSERT_EQ(next(), PollResult::kBatch);
  EXPECT_EQ(RowsOf(batch), (std::vector<std::string>{"1, a"}));
  EXPECT_EQ(next(), PollResult::kIdle);
  WriteFile(Path("live.csv"), "2,b\n3,", /*append=*/true);  // a partial last line waits
  ASSERT_EQ(next(), PollResult::kBatch);
  EXPECT_EQ(RowsOf(batch), (std::vector<std::string>{"2, b"}));
  EXPECT_EQ(next(), PollResult::kIdle);
  EXPECT_EQ(next(), PollResult::kIdle);
  WriteFile(Path("live.csv"), "\"c\nd\"\n4,e\n", /*append=*/true);
  ASSERT_EQ(next(), PollResult::kBatch);
  EXPECT_EQ(RowsOf(batch), (std::vector<std::string>{"3, c\nd", "4, e"}));
  EXPECT_EQ(next(), PollResult::kIdle);
  EXPECT_EQ((*source)->stats().rows_read, 4);
}

// ---- sinks --------------------------------------------------------------------------------

RecordBatch SampleBatch(SchemaPtr schema) {
  RecordBatch batch(schema);
  for (const Field& f : schema->fields())
    batch.columns().push_back(std::make_shared<Column>(f.type));
  batch.columns()[0]->Append<int64_t>(1);
  batch.columns()[0]->Append<int64_t>(2);
  batch.columns()[1]->AppendString("x,y");
  batch.columns()[1]->AppendNull();
  batch.set_num_rows(2);
  return batch;
}

TEST_F(FileConnectorTest, FileSinkWritesHeaderOnceAndFlushes) {
  auto schema = MakeSchema({{"n", DataType::Int64()}, {"s", DataType::Varchar()}});
  auto sink = MakeFileSink(MakeOptions({{"path", Path("out.csv")}}), schema, false);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  EXPECT_EQ((*sink)->Describe(), "file " + Path("out.csv") + " (csv)");
  EXPECT_EQ(ReadFile(Path("out.csv")), "");  // created (truncated) at once, nothing written yet
  RecordBatch batch = SampleBatch(schema);
  ASSERT_TRUE((*sink)->Write(batch).ok());
  ASSERT_TRUE((*sink)->Flush().ok());
  EXPECT_EQ(ReadFile(Path("out.csv")), "n,s\n1,\"x,y\"\n2,\n");
  ASSERT_TRUE((*sink)->Write(batch).ok());
  ASSERT_TRUE((*sink)->Close().ok());
  ASSERT_TRUE((*sink)->Close().ok());  // idempotent
  EXPECT_EQ(ReadFile(Path("out.csv")), "n,s\n1,\"x,y\"\n2,\n1,\"x,y\"\n2,\n");
  EXPECT_EQ((*sink)->stats().rows_written, 4);
  EXPECT_EQ((*sink)->stats().bytes_written, 26);

  // An empty result still gets its header; JSON and changelog output.
  auto empty = MakeFileSink(MakeOptions({{"path", Path("empty.csv")}}), schema, true);
  ASSERT_TRUE(empty.ok());
  ASSERT_TRUE((*empty)->Close().ok());
  EXPECT_EQ(ReadFile(Path("empty.csv")), "op,n,s\n");
  auto json =
      MakeFileSink(MakeOptions({{"path", Path("out.jsonl")}, {"format", "json"}}), schema, true);
  ASSERT_TRUE(json.ok());
  batch.EnableOps()[1] = Op::kDelete;
  batch.EnableOps()[0] = Op::kInsert;
  ASSERT_TRUE((*json)->Write(batch).ok());
  json->reset();  // the destructor closes (and flushes)
  EXPECT_EQ(ReadFile(Path("out.jsonl")),
            "{\"op\":\"+\",\"n\":1,\"s\":\"x,y\"}\n{\"op\":\"-\",\"n\":2,\"s\":null}\n");
}

TEST_F(FileConnectorTest, PartitionedSinkWritesHiveDirectories) {
  auto schema = MakeSchema({{"n", DataType::Int64()}, {"dt", DataType::Varchar()},
                            {"hm", DataType::Varchar()}});
  auto sink = MakeFileSink(MakeOptions({{"path", Path("out")}, {"partition_by", "dt, hm"},
                                        {"partitions_open_max", "2"}}),
                           schema, false);
  ASSERT_TRUE(sink.ok()) << sink.status().ToString();
  struct Row {
    int64_t n;
    const char* dt;
    const char* hm;  // nullptr: NULL
  };
  auto batch_of = [&](const std::vector<Row>& rows) {
    RecordBatch b(schema);
    for (const Field& f : schema->fields()) b.columns().push_back(std::make_shared<Column>(f.type));
    for (const Row& r : rows) {
      b.columns()[0]->Append<int64_t>(r.n);
      b.columns()[1]->AppendString(r.dt);
      if (r.hm == nullptr) {
        b.columns()[2]->AppendNull();
      } else {
        b.columns()[2]->AppendString(r.hm);
      }
    }
    b.set_num_rows(static_cast<int64_t>(rows.size()));
    return b;
  };
  ASSERT_TRUE((*sink)->Write(batch_of({{1, "2015-07-15", "00:00"}, {2, "2015-07-15", "00:00"},
                                       {3, "2015-07-15", "00:01"}, {4, "2015-07-15", "00:00"}}))
                  .ok());
  // A third partition closes the least recently written one (00:00, written before 00:01 in
  // the last batch); a later row of 00:00 starts its part-1.
  ASSERT_TRUE((*sink)->Write(batch_of({{5, "a/b=c", nullptr}})).ok());
  ASSERT_TRUE((*sink)->Write(batch_of({{6, "2015-07-15", "00:00"}})).ok());
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_EQ(ReadFile(Path("out/dt=2015-07-15/hm=00%3A00/part-0.csv")), "n\n1\n2\n4\n");
  EXPECT_EQ(ReadFile(Path("out/dt=2015-07-15/hm=00%3A01/part-0.csv")), "n\n3\n");
  EXPECT_EQ(ReadFile(Path("out/dt=a%2Fb%3Dc/hm=__HIVE_DEFAULT_PARTITION__/part-0.csv")), "n\n5\n");
  EXPECT_EQ(ReadFile(Path("out/dt=2015-07-15/hm=00%3A00/part-1.csv")), "n\n6\n");
  EXPECT_EQ((*sink)->stats().rows_written, 6);
  EXPECT_EQ(EscapePartitionValue(""), "__HIVE_DEFAULT_PARTITION__");
  EXPECT_EQ(EscapePartitionValue("a b%#\x01"), "a b%25%23%01");

  // Errors: unknown or repeated column, every column a partition, unsupported type.
  auto unknown = MakeFileSink(MakeOptions({{"path", Path("o2")}, {"partition_by", "day"}}), schema, false);
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().message().substr(0, 45), "partition_by: column \"day\" is not a column of");
  EXPECT_FALSE(MakeFileSink(MakeOptions({{"path", Path("o3")}, {"partition_by", "dt,dt"}}), schema, false).ok());
  auto one = MakeSchema({{"dt", DataType::Varchar()}});
  EXPECT_FALSE(MakeFileSink(MakeOptions({{"path", Path("o4")}, {"partition_by", "dt"}}), one, false).ok());
  auto dbl = MakeSchema({{"x", DataType::Double()}, {"n", DataType::Int64()}});
  EXPECT_FALSE(MakeFileSink(MakeOptions({{"path", Path("o5")}, {"partition_by", "x"}}), dbl, false).ok());
}

TEST_F(FileConnectorTest, FileSinkErrorsNameThePath) {
  auto schema = MakeSchema({{"n", DataType::Int64()}});
  // Missing directories are created, like mkdir -p.
  auto made = MakeFileSink(MakeOptions({{"path", Path("new/dir/out.csv")}}), schema, false);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  made->reset();
  EXPECT_EQ(ReadFile(Path("new/dir/out.csv")), "n\n");
  // A parent that is a regular file cannot become a directory.
  { std::ofstream(Path("blocker")) << "x"; }
  auto sink = MakeFileSink(MakeOptions({{"path", Path("blocker/out.csv")}}), schema, false);
  ASSERT_FALSE(sink.ok());
  EXPECT_NE(sink.status().message().find("cannot create"), std::string::npos) << sink.status().message();
  EXPECT_NE(sink.status().message().find(Path("blocker/out.csv")), std::string::npos) << sink.status().message();
  EXPECT_FALSE(MakeFileSink(MakeOptions({}), schema, false).ok());
  EXPECT_FALSE(
      MakeFileSink(MakeOptions({{"path", Path("x")}, {"format", "avro"}}), schema, false).ok());
  // A device that refuses writes: /dev/full.
  if (access("/dev/full", W_OK) == 0) {
    auto full = MakeFileSink(MakeOptions({{"path", "/dev/full"}}), schema, false);
    ASSERT_TRUE(full.ok());
    Status st = (*full)->Flush();
    EXPECT_EQ(st.message(), "cannot write '/dev/full': No space left on device");
    EXPECT_FALSE((*full)->Close().ok());  // the error is sticky
  }
}

TEST_F(FileConnectorTest, StdoutSinkWritesEachBatch) {
  auto schema = MakeSchema({{"n", DataType::Int64()}, {"s", DataType::Varchar()}});
  fflush(stdout);
  int saved = dup(STDOUT_FILENO);
  int fd = open(Path("stdout.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_GE(fd, 0);
  dup2(fd, STDOUT_FILENO);
  close(fd);
  {
    auto sink = MakeStdoutSink(MakeOptions({{"format", "json"}}), schema, false);
    ASSERT_TRUE(sink.ok());
    EXPECT_EQ((*sink)->Describe(), "stdout (json)");
    ASSERT_TRUE((*sink)->Write(SampleBatch(schema)).ok());
    EXPECT_EQ(ReadFile(Path("stdout.txt")), "{\"n\":1,\"s\":\"x,y\"}\n{\"n\":2,\"s\":null}\n");
    ASSERT_TRUE((*sink)->Close().ok());
    auto csv = MakeStdoutSink(MakeOptions({{"header", "false"}}), schema, false);
    ASSERT_TRUE(csv.ok());
    ASSERT_TRUE((*csv)->Write(SampleBatch(schema)).ok());
    ASSERT_TRUE((*csv)->Close().ok());
  }
  dup2(saved, STDOUT_FILENO);
  close(saved);
  EXPECT_EQ(ReadFile(Path("stdout.txt")),
            "{\"n\":1,\"s\":\"x,y\"}\n{\"n\":2,\"s\":null}\n1,\"x,y\"\n2,\n");
  EXPECT_EQ(fcntl(STDOUT_FILENO, F_GETFD), 0);  // stdout is still open
}

// What a file sink writes, a file source reads back to the same rows.
TEST_F(FileConnectorTest, SinkThenSourceRoundTrip) {
  auto schema = MakeSchema({{"t", DataType::Timestamp()},
                            {"d", DataType::Double()},
                            {"s", DataType::Varchar()},
                            {"m", DataType::Decimal(12, 3)}});
  std::mt19937_64 rng(7);
  std::vector<std::string> expected;
  for (const char* format : {"csv", "json"}) {
    std::string path = Path(std::string("rt.") + format);
    auto sink = MakeFileSink(MakeOptions({{"path", path}, {"format", format}}), schema, false);
    ASSERT_TRUE(sink.ok());
    expected.clear();
    for (int b = 0; b < 50; ++b) {
      RecordBatch batch(schema);
      for (const Field& f : schema->fields())
        batch.columns().push_back(std::make_shared<Column>(f.type));
      int64_t rows = 1 + static_cast<int64_t>(rng() % 500);
      for (int64_t r = 0; r < rows; ++r) {
        batch.columns()[0]->Append(static_cast<int64_t>(rng() % 4'000'000'000'000'000ULL));
        batch.columns()[1]->Append(static_cast<double>(static_cast<int64_t>(rng())) / 7.0);
        if (rng() % 5 == 0) {
          batch.columns()[2]->AppendNull();
        } else {
          batch.columns()[2]->AppendString(std::string(rng() % 4, "a,\"\n"[rng() % 4]));
        }
        batch.columns()[3]->Append(static_cast<int64_t>(rng() % 1'000'000'000'000ULL));
      }
      batch.set_num_rows(rows);
      for (std::string& row : RowsOf(batch)) expected.push_back(std::move(row));
      ASSERT_TRUE((*sink)->Write(batch).ok());
    }
    ASSERT_TRUE((*sink)->Close().ok());
    Options read = MakeOptions({{"path", path}, {"format", format}});
    if (std::string(format) == "csv") {
      EXPECT_TRUE(read.Set("header", "true").ok());
    }
    auto source = MakeFileSource(read, schema, {0, 1, 2, 3});
    ASSERT_TRUE(source.ok());
    auto r = ReadAll(source->get(), 1000);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_EQ(r.rows, expected) << format;
  }
}

// The real data set, when present (skipped in a clone without ../shared).
TEST_F(FileConnectorTest, FlightsFile) {
  std::string path;
  for (const char* p : {"data/flights-3m.csv", "../shared/data/flights-3m.csv"})
    if (access(p, R_OK) == 0) path = p;
  if (const char* env = std::getenv("WEIR_FLIGHTS_CSV")) path = env;
  if (path.empty() || access(path.c_str(), R_OK) != 0)
    GTEST_SKIP() << "data/flights-3m.csv not found (see ../shared/data/README.md)";
  auto source = MakeFileSource(MakeOptions({{"path", path}, {"header", "true"}}), FlightsSchema(),
                               {0, 1, 2, 3, 4});
  ASSERT_TRUE(source.ok());
  RecordBatch batch;
  int64_t rows = 0, delay_sum = 0, last_date = INT64_MIN;
  while (true) {
    auto r = (*source)->Next(&batch, 4096);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if (*r == PollResult::kEnd) break;
    const int64_t* date = batch.column(0)->data<int64_t>();
    const int64_t* delay = batch.column(1)->data<int64_t>();
    for (int64_t i = 0; i < batch.num_rows(); ++i) {
      ASSERT_GE(date[i], last_date);  // in departure-time order
      last_date = date[i];
      delay_sum += delay[i];
    }
    rows += batch.num_rows();
  }
  EXPECT_EQ(rows, 3'000'000);
  EXPECT_EQ((*source)->stats().bytes_read, (*source)->stats().bytes_total);
  EXPECT_NE(delay_sum, 0);
}

}  // namespace
}  // namespace weir
