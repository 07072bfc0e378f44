// Source checkpoints: SavePosition at every batch boundary, then a fresh source from the same
// options + RestorePosition returns exactly the rest of the rows (file source: CSV with quotes,
// CRLF, bad rows under skip / dead_letter, a header, JSON lines, follow mode, a changed file;
// Nexmark: random positions N, every table, the remaining stream value for value).
// Randomized parts take their seed from WEIR_TEST_SEED (test_util.h).
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "connectors/file/file_source.h"
#include "connectors/nexmark/nexmark_source.h"
#include "test_util.h"

namespace weir {
namespace {

using weir_test::ReadFile;
using weir_test::WriteFile;

namespace fs = std::filesystem;

Options MakeOptions(const std::vector<std::pair<std::string, std::string>>& kv) {
  Options o;
  for (const auto& [k, v] : kv) EXPECT_TRUE(o.Set(k, v).ok());
  return o;
}

std::vector<std::string> RowsOf(const RecordBatch& batch) {
  std::vector<std::string> rows;
  for (int64_t r = 0; r < batch.num_rows(); ++r) {
    std::string row;
    for (size_t c = 0; c < batch.num_columns(); ++c) {
      if (c > 0) row += "|";
      row += batch.column(c)->IsValid(r) ? batch.column(c)->ValueToString(r) : "NULL";
    }
    rows.push_back(row);
  }
  return rows;
}

class SourcePositionTest : public ::testing::Test {
 protected:
  weir_test::TempDir tmp_{"weir_srcpos_test", /*in_memory=*/false};
  const std::string dir_ = tmp_.path();
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  struct Run {
    std::vector<std::string> rows;
    std::vector<size_t> boundaries;       // rows before each saved position
    std::vector<std::string> positions;   // SavePosition after each batch (and at the start)
    SourceStats stats;
  };

  // Reads `source` to its end in batches of rows_max (random in [1, rows_max] when `rng`),
  // saving the position before the first batch and after every batch.
  static Run ReadSaving(Source* source, int64_t rows_max, std::mt19937_64* rng) {
    Run run;
    RecordBatch batch;
    auto save = [&] {
      StateWriter w;
      Status st = source->SavePosition(&w);
      EXPECT_TRUE(st.ok()) << st.ToString();
      run.positions.push_back(w.buffer());
      run.boundaries.push_back(run.rows.size());
    };
    save();
    while (true) {
      int64_t n = rng ? 1 + static_cast<int64_t>((*rng)() % static_cast<uint64_t>(rows_max)) : rows_max;
      auto r = source->Next(&batch, n);
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok() || *r == PollResult::kEnd) break;
      if (*r == PollResult::kIdle) break;
      for (std::string& row : RowsOf(batch)) run.rows.push_back(std::move(row));
      save();
    }
    run.stats = source->stats();
    return run;
  }

  // For every saved position of a full run: a fresh source restored there reads exactly the
  // remaining rows and ends with the same stats; the dead-letter file (if any) ends the same.
  void CheckEveryBoundary(const std::vector<std::pair<std::string, std::string>>& kv,
                          SchemaPtr schema, std::vector<int> projection, int64_t rows_max,
                          const std::string& dead_letter = "") {
    std::mt19937_64 rng(weir_test::TestSeed());
    auto full_source = MakeFileSource(MakeOptions(kv), schema, projection);
    ASSERT_TRUE(full_source.ok()) << full_source.status().ToString();
    Run full = ReadSaving(full_source->get(), rows_max, &rng);
    full_source->reset();
    const std::string dead_letter_text = dead_letter.empty() ? "" : ReadFile(dead_letter);
    for (size_t k = 0; k < full.positions.size(); ++k) {
      SCOPED_TRACE("boundary " + std::to_string(k) + " of " + std::to_string(full.positions.size()) +
                   " (rows before it: " + std::to_string(full.boundaries[k]) + ")");
      auto source = MakeFileSource(MakeOptions(kv), schema, projection);
      ASSERT_TRUE(source.ok());
      StateReader reader(full.positions[k], "test position");
      ASSERT_OK((*source)->RestorePosition(&reader));
      ASSERT_TRUE(reader.at_end());
      Run rest = ReadSaving(source->get(), rows_max, &rng);
      std::vector<std::string> want(full.rows.begin() + static_cast<ptrdiff_t>(full.boundaries[k]),
                                    full.rows.end());
      ASSERT_EQ(rest.rows, want);
      EXPECT_EQ(rest.stats.rows_read, full.stats.rows_read);
      EXPECT_EQ(rest.stats.rows_skipped, full.stats.rows_skipped);
      EXPECT_EQ(rest.stats.rows_dead_letter, full.stats.rows_dead_letter);
      EXPECT_EQ(rest.stats.bytes_read, full.stats.bytes_read);
      if (!dead_letter.empty()) {
        EXPECT_EQ(ReadFile(dead_letter), dead_letter_text);
      }
    }
  }

};

SchemaPtr RowsSchema() {
  return std::make_shared<Schema>(std::vector<Field>{{"id", DataType::Int64()},
                                                     {"name", DataType::Varchar()},
                                                     {"x", DataType::Double()}});
}

// CSV with a header after a BOM, quoted fields with delimiters, quotes and line breaks, CRLF
// and LF line ends, blank lines and malformed rows, about `rows` records.
std::string MessyCsv(int rows, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string text = "\xEF\xBB\xBFid,name,x\r\n";
  for (int i = 0; i < rows; ++i) {
    switch (rng() % 10) {
      case 0: text += std::to_string(i) + ",\"a,\"\"quoted\"\"\nline\"," + std::to_string(i) + ".5\r\n"; break;
      case 1: text += "oops," + std::to_string(i) + ",1\n"; break;          // bad BIGINT
      case 2: text += std::to_string(i) + ",too,many,fields\r\n"; break;    // bad field count
      case 3: text += "\n"; break;                                          // blank
      default: text += std::to_string(i) + ",n" + std::to_string(i) + "," + std::to_string(i % 7) + "\n";
    }
  }
  text += "999999,last-without-newline,1";
  return text;
}

TEST_F(SourcePositionTest, CsvSkipEveryBoundary) {
  WriteFile(Path("a.csv"), MessyCsv(300, weir_test::TestSeed()));
  CheckEveryBoundary({{"path", Path("a.csv")}, {"header", "true"}, {"on_error", "skip"}},
                     RowsSchema(), {2, 0, 1}, 7);
}

TEST_F(SourcePositionTest, CsvDeadLetterEveryBoundary) {
  WriteFile(Path("a.csv"), MessyCsv(300, weir_test::TestSeed() + 1));
  CheckEveryBoundary({{"path", Path("a.csv")}, {"header", "true"}, {"on_error", "dead_letter"},
                      {"dead_letter_path", Path("dead.jsonl")}},
                     RowsSchema(), {0, 1, 2}, 5, Path("dead.jsonl"));
}

TEST_F(SourcePositionTest, CsvOverlongRecordsAndBlocks) {
  // Records longer than line_bytes_max are discarded as they stream by; a position may fall
  // inside one. Plus a file of several 1 MiB read blocks.
  std::string text = "id,name,x\n";
  std::mt19937_64 rng(weir_test::TestSeed());
  for (int i = 0; text.size() < (size_t{5} << 19); ++i) {
    if (rng() % 50 == 0) {
      text += std::to_string(i) + ",\"" + std::string(300 + rng() % 200, 'y') + "\n\",1\n";
    } else {
      text += std::to_string(i) + ",name" + std::to_string(i) + ",0.25\n";
    }
  }
  WriteFile(Path("big.csv"), text);
  CheckEveryBoundary({{"path", Path("big.csv")}, {"header", "true"}, {"on_error", "skip"},
                      {"line_bytes_max", "256"}},
                     RowsSchema(), {0, 1}, 4096);
}

TEST_F(SourcePositionTest, JsonLinesEveryBoundary) {
  std::mt19937_64 rng(weir_test::TestSeed());
  std::string text;
  for (int i = 0; i < 400; ++i) {
    switch (rng() % 8) {
      case 0: text += "{\"id\": \"bad\"}\n"; break;
      case 1: text += "not json\r\n"; break;
      case 2: text += "{\"name\": \"q\\\"u\\note\", \"id\": " + std::to_string(i) + "}\r\n"; break;
      default: text += "{\"id\":" + std::to_string(i) + ",\"name\":\"n" + std::to_string(i) + "\",\"x\":1.5}\n";
    }
  }
  WriteFile(Path("a.jsonl"), text);
  CheckEveryBoundary({{"path", Path("a.jsonl")}, {"format", "json"}, {"on_error", "dead_letter"},
                      {"dead_letter_path", Path("dl.jsonl")}},
                     RowsSchema(), {1, 0}, 6, Path("dl.jsonl"));
}

TEST_F(SourcePositionTest, FollowResumesAfterAppends) {
  WriteFile(Path("f.csv"), "id,name,x\n1,a,1\n2,b,2\n3,partial");
  auto opts = MakeOptions({{"path", Path("f.csv")}, {"header", "true"}, {"follow", "true"}});
  auto source = MakeFileSource(opts, RowsSchema(), {0, 1});
  ASSERT_TRUE(source.ok());
  RecordBatch batch;
  ASSERT_EQ((*source)->Next(&batch, 100).value(), PollResult::kBatch);
  EXPECT_EQ(RowsOf(batch), (std::vector<std::string>{"1|a", "2|b"}));
  ASSERT_EQ((*source)->Next(&batch, 100).value(), PollResult::kIdle);  // "3,partial" waits
  StateWriter w;
  ASSERT_OK((*source)->SavePosition(&w));
  source->reset();
  WriteFile(Path("f.csv"), ",3\n4,d,4\n", /*append=*/true);
  auto again = MakeFileSource(MakeOptions({{"path", Path("f.csv")}, {"header", "true"}, {"follow", "true"}}),
                              RowsSchema(), {0, 1});
  ASSERT_TRUE(again.ok());
  StateReader r(w.buffer(), "follow");
  ASSERT_OK((*again)->RestorePosition(&r));
  ASSERT_EQ((*again)->Next(&batch, 100).value(), PollResult::kBatch);
  EXPECT_EQ(RowsOf(batch), (std::vector<std::string>{"3|partial", "4|d"}));
  EXPECT_EQ((*again)->stats().rows_read, 4);
}

TEST_F(SourcePositionTest, ChangedFileIsAnError) {
  WriteFile(Path("c.csv"), "id,name,x\n1,a,1\n2,b,2\n3,c,3\n");
  auto kv = std::vector<std::pair<std::string, std::string>>{{"path", Path("c.csv")}, {"header", "true"}};
  auto source = MakeFileSource(MakeOptions(kv), RowsSchema(), {0});
  ASSERT_TRUE(source.ok());
  RecordBatch batch;
  ASSERT_EQ((*source)->Next(&batch, 2).value(), PollResult::kBatch);
  StateWriter w;
  ASSERT_OK((*source)->SavePosition(&w));
  // Shorter than the saved offset.
  WriteFile(Path("c.csv"), "id,name,x\n1,a,1\n");
  auto shorter = MakeFileSource(MakeOptions(kv), RowsSchema(), {0});
  StateReader r1(w.buffer(), "pos");
  Status st = (*shorter)->RestorePosition(&r1);
  EXPECT_EQ(st.code(), StatusCode::kDataError);
  EXPECT_NE(st.message().find("changed since the checkpoint"), std::string::npos) << st.ToString();
  // Same length, other bytes before the offset.
  WriteFile(Path("c.csv"), "id,name,x\n1,a,1\n7,b,2\n3,c,3\n");
  auto rewritten = MakeFileSource(MakeOptions(kv), RowsSchema(), {0});
  StateReader r2(w.buffer(), "pos");
  st = (*rewritten)->RestorePosition(&r2);
  EXPECT_EQ(st.code(), StatusCode::kDataError);
  // Another format, or a truncated state.
  auto json = MakeFileSource(MakeOptions({{"path", Path("c.csv")}, {"format", "json"}}), RowsSchema(), {0});
  StateReader r3(w.buffer(), "pos");
  EXPECT_FALSE((*json)->RestorePosition(&r3).ok());
  auto cut = MakeFileSource(MakeOptions(kv), RowsSchema(), {0});
  StateReader r4(std::string_view(w.buffer()).substr(0, w.size() - 3), "pos");
  EXPECT_FALSE((*cut)->RestorePosition(&r4).ok());
}

// ---- Nexmark --------------------------------------------------------------------------------

std::vector<std::string> ReadRest(Source* source, std::mt19937_64* rng) {
  std::vector<std::string> rows;
  RecordBatch batch;
  while (true) {
    auto r = source->Next(&batch, 1 + static_cast<int64_t>((*rng)() % 5000));
    EXPECT_TRUE(r.ok());
    if (!r.ok() || *r != PollResult::kBatch) break;
    for (std::string& row : RowsOf(batch)) rows.push_back(std::move(row));
  }
  return rows;
}

TEST(NexmarkPositionTest, RandomPositionsReproduceTheStream) {
  std::mt19937_64 rng(weir_test::TestSeed());
  for (const char* table : {"bid", "auction", "person"}) {
    SCOPED_TRACE(table);
    const std::string events = "300000";
    const std::string seed = std::to_string(rng() % 1000);
    auto opts = [&] { return MakeOptions({{"table", table}, {"events", events}, {"seed", seed}}); };
    auto schema = NexmarkTableSchema(table);
    ASSERT_TRUE(schema.ok());
    std::vector<int> projection;
    for (size_t i = 0; i < (*schema)->num_fields(); ++i) projection.push_back(static_cast<int>(i));
    auto full_source = MakeNexmarkSource(opts(), nullptr, projection);
    ASSERT_TRUE(full_source.ok());
    std::vector<std::string> full = ReadRest(full_source->get(), &rng);
    ASSERT_GT(full.size(), 1000u);
    for (int trial = 0; trial < 25; ++trial) {
      // Position N: read exactly N rows (batches never exceed rows_max), save, restore.
      const size_t n = trial == 0 ? 0 : trial == 1 ? full.size() : rng() % full.size();
      SCOPED_TRACE("N = " + std::to_string(n));
      auto source = MakeNexmarkSource(opts(), nullptr, projection);
      ASSERT_TRUE(source.ok());
      size_t read = 0;
      RecordBatch batch;
      while (read < n) {
        const auto want = static_cast<int64_t>(std::min<size_t>(n - read, 1 + rng() % 3000));
        auto r = (*source)->Next(&batch, want);
        ASSERT_TRUE(r.ok() && *r == PollResult::kBatch);
        read += static_cast<size_t>(batch.num_rows());
      }
      StateWriter w;
      ASSERT_OK((*source)->SavePosition(&w));
      auto restored = MakeNexmarkSource(opts(), nullptr, projection);
      ASSERT_TRUE(restored.ok());
      StateReader r(w.buffer(), "nexmark");
      ASSERT_OK((*restored)->RestorePosition(&r));
      EXPECT_TRUE(r.at_end());
      std::vector<std::string> rest = ReadRest(restored->get(), &rng);
      ASSERT_EQ(rest.size(), full.size() - n);
      ASSERT_TRUE(std::equal(rest.begin(), rest.end(), full.begin() + static_cast<ptrdiff_t>(n)));
      EXPECT_EQ((*restored)->stats().rows_read, static_cast<int64_t>(full.size()));
    }
    // Another seed or event count is refused.
    auto other = MakeNexmarkSource(MakeOptions({{"table", table}, {"events", "1000"}, {"seed", seed}}),
                                   nullptr, projection);
    StateWriter w;
    ASSERT_OK((*full_source)->SavePosition(&w));
    StateReader r(w.buffer(), "nexmark");
    EXPECT_EQ((*other)->RestorePosition(&r).code(), StatusCode::kDataError);
  }
}

}  // namespace
}  // namespace weir
