// CSV decoder and encoder: RFC 4180 quoting, CRLF, header mapping, NULLs, every type, bad
// records under each on_error policy, batch/block boundaries, and encode/decode round trips.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "formats/csv/csv_decoder.h"
#include "formats/csv/csv_encoder.h"
#include "formats/format.h"
#include "types/datetime.h"

#include "counting_malloc.h"

namespace weir {
namespace {

SchemaPtr MakeSchema(std::vector<Field> fields) {
  return std::make_shared<Schema>(std::move(fields));
}

Options MakeOptions(std::vector<std::pair<std::string, std::string>> kv) {
  Options o;
  for (auto& [k, v] : kv) EXPECT_TRUE(o.Set(k, v).ok());
  return o;
}

// One string per row: "v1, v2, ..." ("NULL" for NULL); a changelog batch's op comes first
// as "+" or "-", as it does when a changelog CSV is decoded with an `op` column.
std::vector<std::string> RowsOf(const RecordBatch& batch) {
  std::vector<std::string> rows;
  for (int64_t r = 0; r < batch.num_rows(); ++r) {
    std::string row;
    if (batch.has_ops()) row = batch.ops()[r] == Op::kInsert ? "+" : "-";
    for (size_t c = 0; c < batch.num_columns(); ++c) {
      if (!row.empty() || c > 0) row += ", ";
      row += batch.column(c)->ValueToString(r);
    }
    rows.push_back(row);
  }
  return rows;
}

struct DecodeResult {
  Status status;
  std::vector<std::string> rows;  // RecordBatch::ToString lines ("NULL" for NULL)
  int64_t skipped = 0;
  int64_t dead_lettered = 0;
  int64_t batches = 0;
};

// Feeds `text` to a decoder the way the file source does: `chunk` bytes become visible at a
// time (the unconsumed tail is offered again), batches of at most `rows_max` rows.
DecodeResult DecodeText(std::string_view text, SchemaPtr schema, const Options& options,
                        std::vector<int> projection = {}, int64_t rows_max = 4096,
                        size_t chunk = SIZE_MAX, std::string_view format = "csv",
                        std::string source = "t.csv") {
  DecodeResult result;
  std::string dead_letter_path;
  auto policy = ParseErrorPolicy(options, &dead_letter_path);
  if (!policy.ok()) {
    result.status = policy.status();
    return result;
  }
  BadRecordHandler handler(source, *policy, dead_letter_path);
  if (projection.empty())
    for (size_t i = 0; i < schema->num_fields(); ++i) projection.push_back(static_cast<int>(i));
  auto decoder = MakeDecoder(format, schema, projection, options, &handler);
  if (!decoder.ok()) {
    result.status = decoder.status();
    return result;
  }
  // The decoder may only read what it is given: copy the visible part into its own buffer so
  // that ASan catches any over-read.
  size_t pos = 0, visible = std::min(chunk, text.size());
  RecordBatch batch;
  for (int guard = 0; guard < 10'000'000; ++guard) {
    bool eof = visible == text.size();
    std::string window(text.substr(pos, visible - pos));
    batch.set_num_rows(0);
    size_t consumed = 0;
    Status st = (*decoder)->Decode(window.data(), window.size(), eof, rows_max, &batch, &consumed);
    if (!st.ok()) {
      result.status = st;
      break;
    }
    EXPECT_LE(batch.num_rows(), rows_max);
    EXPECT_LE(consumed, window.size());
    pos += consumed;
    if (batch.num_rows() > 0) {
      ++result.batches;
      for (std::string& row : RowsOf(batch)) result.rows.push_back(std::move(row));
    }
    if (batch.num_rows() == 0 && consumed == 0) {
      if (eof) break;
      visible = std::min(text.size(), visible + std::max<size_t>(chunk, 1));
    }
  }
  result.skipped = handler.skipped();
  result.dead_lettered = handler.dead_lettered();
  return result;
}

SchemaPtr AllTypes() {
  return MakeSchema({{"b", DataType::Boolean()},
                     {"i", DataType::Int32()},
                     {"l", DataType::Int64()},
                     {"d", DataType::Double()},
                     {"m", DataType::Decimal(10, 2)},
                     {"s", DataType::Varchar()},
                     {"t", DataType::Timestamp()},
                     {"v", DataType::IntervalType()}});
}

std::vector<std::string> Rows(std::initializer_list<std::string> rows) { return rows; }

// ---- decoding: syntax ---------------------------------------------------------------------

TEST(CsvDecode, EveryType) {
  std::string text =
      "true,1,10000000000,1.5,12.34,hello,2001-01-01 00:05:00,90 minutes\n"
      "F,-2147483648,-9223372036854775808,-0.25,-0.5,,2001-02-03 04:05:06.5,1 day\n"
      "1,2147483647,9223372036854775807,1e300,7,\"x\",2001-01-01,01:30:00\n"
      "0,0,0,inf,0.005,y,2015-07-15T10:00:00,3 mons\n"
      "TRUE,,,NaN,,z,,\n";
  auto r = DecodeText(text, AllTypes(), Options());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rows, Rows({
                        "true, 1, 10000000000, 1.5, 12.34, hello, 2001-01-01 00:05:00, 01:30:00",
                        "false, -2147483648, -9223372036854775808, -0.25, -0.50, NULL, "
                        "2001-02-03 04:05:06.5, 1 day",
                        "true, 2147483647, 9223372036854775807, 1e+300, 7.00, x, 2001-01-01 "
                        "00:00:00, 01:30:00",
                        "false, 0, 0, Infinity, 0.01, y, 2015-07-15 10:00:00, 3 mons",
                        "true, NULL, NULL, NaN, NULL, z, NULL, NULL",
                    }));
}

TEST(CsvDecode, QuotingAndEmbeddedSeparators) {
  auto schema = MakeSchema({{"a", DataType::Varchar()}, {"b", DataType::Int64()}});
  std::string text =
      "\"x,y\",1\n"
      "\"say \"\"hi\"\"\",2\n"
      "\"two\nlines\",3\n"
      "\"\",4\n"
      ",5\n"
      "\"\"\"\",6\n";
  auto r = DecodeText(text, schema, Options());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rows, Rows({"x,y, 1", "say \"hi\", 2", "two\nlines, 3", ", 4", "NULL, 5", "\", 6"}));
}

TEST(CsvDecode, CrlfAndBlankLinesAndBom) {
  auto schema = MakeSchema({{"a", DataType::Varchar()}, {"b", DataType::Int64()}});
  std::string text =
      "\xEF\xBB\xBF"
      "a,1\r\n\r\n\"b\r\nc\",2\r\n\nd,3";
  auto r = DecodeText(text, schema, Options());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rows, Rows({"a, 1", "b\r\nc, 2", "d, 3"}));
}

TEST(CsvDecode, HeaderMapsColumnsCaseInsensitively) {
  auto schema = MakeSchema({{"delay", DataType::Int64()}, {"Origin", DataType::Varchar()}});
  auto opts = MakeOptions({{"header", "true"}});
  auto r = DecodeText("ORIGIN,extra,Delay\nSFO,zz,5\nLAX,,-3\n", schema, opts);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rows, Rows({"5, SFO", "-3, LAX"}));
  // Quoted and padded header names work too.
  r = DecodeText("\"origin\" , delay\nSFO,5\n", schema, opts);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rows, Rows({"5, SFO"}));
}

TEST(CsvDecode, HeaderMissingColumnIsAnError) {
  auto schema = MakeSchema({{"delay", DataType::Int64()}, {"origin", DataType::Varchar()}});
  auto r = DecodeText("\n\ndelay,dest\n1,x\n", schema, MakeOptions({{"header", "true"}}), {0});
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.message(),
            "t.csv:3: column 'origin' not found in the CSV header (delay, dest)");
}

TEST(CsvDecode, HeaderOnlyAndEmptyInput) {
  auto schema = MakeSchema({{"a", DataType::Int64()}});
  auto opts = MakeOptions({{"header", "true"}});
  EXPECT_TRUE(DecodeText("", schema, opts).rows.empty());
  EXPECT_TRUE(DecodeText("a", schema, opts).rows.empty());
  EXPECT_TRUE(DecodeText("a\n", schema, opts).rows.empty());
  EXPECT_TRUE(DecodeText("", schema, Options()).rows.empty());
  EXPECT_TRUE(DecodeText("\n\r\n", schema, Options()).rows.empty());
}

TEST(CsvDecode, NullsAndEmptyStrings) {
  auto schema = MakeSchema({{"s", DataType::Varchar()}, {"n", DataType::Int64()}});
  auto r = DecodeText(",\n\"\",\"\"\nNA,NA\n", schema,
                      MakeOptions({{"null_string", "NA"}, {"on_error", "skip"}}));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.rows, Rows({"NULL, NULL", ", NULL", "NULL, NULL"}));
  // A quoted null_string is a value.
  r = DecodeText("\"NA\",1\n", schema, MakeOptions({{"null_string", "NA"}}));
  EXPECT_EQ(r.rows, Rows({"NA, 1"}));
}

TEST(CsvDecode, DelimiterAndQuoteOptions) {
  auto schema = MakeSchema({{"a", DataType::Varchar()}, {"b", DataType::Int64()}});
  auto r =
      DecodeText("'x;y';1\n'it''s';2\n", schema, MakeOptions({{"delimiter", ";"}, {"quote", "'"}}));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rows, Rows({"x;y, 1", "it's, 2"}));
  r = DecodeText("a\t1\n", schema, MakeOptions({{"delimiter", "\\t"}}));
  EXPECT_EQ(r.rows, Rows({"a, 1"}));
  EXPECT_FALSE(DecodeText("", schema, MakeOptions({{"delimiter", ",,"}})).status.ok());
  EXPECT_FALSE(DecodeText("", schema, MakeOptions({{"delimiter", "\""}})).status.ok());
  EXPECT_FALSE(DecodeText("", schema, MakeOptions({{"quote", "\n"}})).status.ok());
}

TEST(CsvDecode, Projection) {
  auto schema =
      MakeSchema({{"a", DataType::Int64()}, {"b", DataType::Varchar()}, {"c", DataType::Int64()}});
  // Column a holds garbage, but it is not projected: never parsed.
  auto r = DecodeText("zz,x,1\nqq,\"y,z\",2\n", schema, Options(), {2, 1, 2});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rows, Rows({"1, x, 1", "2, y,z, 2"}));
  // The field count is still checked.
  r = DecodeText("1,x\n", schema, Options(), {2});
  EXPECT_EQ(r.status.message(), "t.csv:1: expected 3 fields, found 2");
}

// ---- decoding: bad records ----------------------------------------------------------------

TEST(CsvDecode, BadValueMessages) {
  auto schema = MakeSchema({{"date", DataType::Timestamp()},
                            {"delay", DataType::Int64()},
                            {"distance", DataType::Int32()}});
  auto check = [&](const std::string& text, const std::string& message) {
    auto r = DecodeText(text, schema, Options(), {}, 4096, SIZE_MAX, "csv", "flights.csv");
    ASSERT_FALSE(r.status.ok()) << text;
    EXPECT_EQ(r.status.code(), StatusCode::kDataError);
    EXPECT_EQ(r.status.message(), message);
  };
  check("2001-01-01,1,2\n2001-01-01,abc,2\n",
        "flights.csv:2: column 'delay': invalid BIGINT 'abc'");
  check("2001-01-01,1,2147483648\n",
        "flights.csv:1: column 'distance': INT out of range '2147483648'");
  check("2001-01-01,9223372036854775808,1\n",
        "flights.csv:1: column 'delay': BIGINT out of range '9223372036854775808'");
  check("2001-13-01,1,1\n", "flights.csv:1: column 'date': invalid TIMESTAMP '2001-13-01'");
  check("2001-01-01,1,2\n\n\n2001-01-01,1\n", "flights.csv:4: expected 3 fields, found 2");
  check("2001-01-01,1,2,3\n", "flights.csv:1: expected 3 fields, found 4");
  // Physical lines: newlines inside quoted fields count.
  check("\"2001-01-01\",\"1\",\"2\"\n\"2001-01-01\",\"1\n\n\",2\n2001-01-01,x,1\n",
        "flights.csv:2: column 'delay': invalid BIGINT '1\n\n'");
  check("2001-01-01,\"1\n\n\",2\nx,1,1\n", "flights.csv:1: column 'delay': invalid BIGINT '1\n\n'");
}

TEST(CsvDecode, FirstErrorInFileOrderWins) {
  auto schema = MakeSchema({{"a", DataType::Int64()}, {"b", DataType::Int64()}});
  // Column b fails on line 2, column a on line 3: line 2 is reported.
  auto r = DecodeText("1,1\n1,x\ny,1\n", schema, Options());
  EXPECT_EQ(r.status.message(), "t.csv:2: column 'b': invalid BIGINT 'x'");
  // Two errors in one row: the first column's.
  r = DecodeText("p,q\n", schema, Options());
  EXPECT_EQ(r.status.message(), "t.csv:1: column 'a': invalid BIGINT 'p'");
}

TEST(CsvDecode, InvalidUtf8IsABadRecord) {
  auto schema = MakeSchema({{"s", DataType::Varchar()}, {"n", DataType::Int64()}});
  auto r = DecodeText("caf\xC3\xA9,1\nbad\xC3(,2\n\xED\xA0\x80,3\n\xF4\x90\x80\x80,4\n\xC0\xAF,5\n",
                      schema, MakeOptions({{"on_error", "skip"}}));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.rows, Rows({"caf\xC3\xA9, 1"}));
  EXPECT_EQ(r.skipped, 4);
  r = DecodeText("ok,1\nbad\xFF,2\n", schema, Options());
  EXPECT_EQ(r.status.message(), "t.csv:2: column 's': invalid UTF-8 in VARCHAR 'bad\xFF'");
}

TEST(CsvDecode, MalformedQuotes) {
  auto schema = MakeSchema({{"s", DataType::Varchar()}, {"n", DataType::Int64()}});
  auto r = DecodeText("ab\"c\"d,1\n", schema, Options());
  EXPECT_EQ(r.status.message(), "t.csv:1: column 's': quote inside an unquoted field 'ab\"c\"d'");
  // A lone quote inside a field opens a quoted region that never closes.
  r = DecodeText("ab\"c,1\n", schema, Options());
  EXPECT_EQ(r.status.message(), "t.csv:1: unterminated quoted field");
  r = DecodeText("\"ab\"c,1\n", schema, Options());
  EXPECT_EQ(r.status.message(), "t.csv:1: column 's': malformed quoted field '\"ab\"c'");
  r = DecodeText("x,1\n\"never closed,2\nmore\n", schema, Options());
  EXPECT_EQ(r.status.message(), "t.csv:2: unterminated quoted field");
  r = DecodeText("x,1\n\"never closed,2\nmore\n", schema, MakeOptions({{"on_error", "skip"}}));
  EXPECT_EQ(r.rows, Rows({"x, 1"}));
  EXPECT_EQ(r.skipped, 1);
}

TEST(CsvDecode, SkipAndDeadLetterPolicies) {
  auto schema = MakeSchema({{"a", DataType::Int64()}, {"b", DataType::Varchar()}});
  std::string text = "1,x\nbad,y\n3,z\n4\n5,\"q\"\n";
  auto r = DecodeText(text, schema, MakeOptions({{"on_error", "skip"}}));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.rows, Rows({"1, x", "3, z", "5, q"}));
  EXPECT_EQ(r.skipped, 2);

  char tmpl[] = "/tmp/weir_csv_dlq_XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  close(fd);
  r = DecodeText(text, schema,
                 MakeOptions({{"on_error", "dead_letter"}, {"dead_letter_path", tmpl}}));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rows.size(), 3u);
  EXPECT_EQ(r.dead_lettered, 2);
  std::ifstream in(tmpl);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(all,
            "{\"source\":\"t.csv\",\"line\":2,\"reason\":\"column 'a': invalid BIGINT 'bad'\","
            "\"raw\":\"bad,y\"}\n"
            "{\"source\":\"t.csv\",\"line\":4,\"reason\":\"expected 2 fields, found 1\","
            "\"raw\":\"4\"}\n");
  std::remove(tmpl);
}

TEST(CsvDecode, ErrorPolicyOptions) {
  std::string path;
  EXPECT_EQ(ParseErrorPolicy(Options(), &path).value(), ErrorPolicy::kFail);
  EXPECT_EQ(ParseErrorPolicy(MakeOptions({{"on_error", "SKIP"}}), &path).value(),
            ErrorPolicy::kSkip);
  auto r = ParseErrorPolicy(MakeOptions({{"on_error", "dead_letter"}}), &path);
  EXPECT_EQ(r.status().message(), "on_error = 'dead_letter' requires option 'dead_letter_path'");
  r = ParseErrorPolicy(MakeOptions({{"dead_letter_path", "x"}}), &path);
  EXPECT_FALSE(r.ok());
  r = ParseErrorPolicy(MakeOptions({{"on_error", "ignore"}}), &path);
  EXPECT_FALSE(r.ok());
}

TEST(CsvDecode, DeadLetterSanitizesInvalidUtf8) {
  char tmpl[] = "/tmp/weir_csv_dlq_XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  close(fd);
  auto schema = MakeSchema({{"s", DataType::Varchar()}});
  auto r = DecodeText("a\"\xFF\n", schema,
                      MakeOptions({{"on_error", "dead_letter"}, {"dead_letter_path", tmpl}}));
  ASSERT_TRUE(r.status.ok());
  std::ifstream in(tmpl);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(all.find("\"raw\":\"a\\\"\xEF\xBF\xBD"), std::string::npos) << all;
  std::remove(tmpl);
}

TEST(CsvDecode, LongRecordsAreBadRecordsNotBuffered) {
  auto schema = MakeSchema({{"s", DataType::Varchar()}, {"n", DataType::Int64()}});
  std::string big(5000, 'x');
  std::string text = "a,1\n" + big + ",2\nb,3\n\"" + big + "\n" + big + "\",4\nc,5\n";
  for (size_t chunk : {size_t{7}, size_t{100}, size_t{4096}, SIZE_MAX}) {
    auto r =
        DecodeText(text, schema, MakeOptions({{"on_error", "skip"}, {"line_bytes_max", "1000"}}),
                   {}, 4096, chunk);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_EQ(r.rows, Rows({"a, 1", "b, 3", "c, 5"})) << chunk;
    EXPECT_EQ(r.skipped, 2) << chunk;
    auto f = DecodeText(text, schema, MakeOptions({{"line_bytes_max", "1000"}}), {}, 4096, chunk);
    EXPECT_EQ(f.status.message(), "t.csv:2: record longer than line_bytes_max (1000 bytes)");
    // Line numbers after skipped (multi-line) records stay right; the dead-letter raw text of
    // an over-long record is its start, cut to kOverlongRawBytesMax.
    char tmpl[] = "/tmp/weir_csv_dlq_XXXXXX";
    int fd = mkstemp(tmpl);
    ASSERT_GE(fd, 0);
    close(fd);
    auto g = DecodeText(
        text + "bad,x\n", schema,
        MakeOptions(
            {{"line_bytes_max", "1000"}, {"on_error", "dead_letter"}, {"dead_letter_path", tmpl}}),
        {}, 4096, chunk);
    ASSERT_TRUE(g.status.ok());
    EXPECT_EQ(g.dead_lettered, 3);
    std::ifstream in(tmpl);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    std::remove(tmpl);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_EQ(lines[0].rfind("{\"source\":\"t.csv\",\"line\":2,\"reason\":\"record longer than "
                             "line_bytes_max (1000 bytes)\",\"raw\":\"xxxxx",
                             0),
              0u);
    EXPECT_LT(lines[0].size(), BadRecordHandler::kOverlongRawBytesMax + 200);
    EXPECT_EQ(lines[1].rfind("{\"source\":\"t.csv\",\"line\":4,", 0), 0u) << chunk;
    EXPECT_EQ(lines[2],
              "{\"source\":\"t.csv\",\"line\":7,\"reason\":\"column 'n': invalid BIGINT 'x'\","
              "\"raw\":\"bad,x\"}")
        << chunk;
  }
}

TEST(CsvDecode, NumericEdgeCases) {
  auto schema = MakeSchema({{"i", DataType::Int32()},
                            {"d", DataType::Double()},
                            {"m", DataType::Decimal(4, 2)},
                            {"b", DataType::Boolean()}});
  auto r = DecodeText(" 7 ,+1.5,  1.005,t\n+0,-0,-0.01, FALSE \n", schema, Options());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rows, Rows({"7, 1.5, 1.01, true", "0, -0, -0.01, false"}));
  for (const char* bad :
       {"1x,1,1,t\n", "1,1e999,1,t\n", "1,1,100.00,t\n", "1,1,1,yes\n", "--1,1,1,t\n",
        "1,+-1,1,t\n", "1,0x10,1,t\n", "99999999999999999999,1,1,t\n"}) {
    auto b = DecodeText(bad, schema, Options());
    EXPECT_FALSE(b.status.ok()) << bad;
  }
  // Underflow is not an error: the nearest double.
  r = DecodeText("1,1e-400,1,t\n", schema, Options());
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.rows, Rows({"1, 0, 1.00, true"}));
}

TEST(CsvDecode, IntervalsOutsideTheSafeRangeAreRejected) {
  auto schema = MakeSchema({{"v", DataType::IntervalType()}});
  auto r = DecodeText("9999999 years\n99999999 years\n1 day 2 hours\n", schema,
                      MakeOptions({{"on_error", "skip"}}));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.rows, Rows({"9999999 years", "1 day 02:00:00"}));
  EXPECT_EQ(r.skipped, 1);
}

// ---- decoding: the answer does not depend on batch size or block boundaries ---------------

std::string RandomCsv(std::mt19937_64& rng, int rows) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  std::string out;
  for (int r = 0; r < rows; ++r) {
    if (pick(20) == 0) out += pick(2) ? "\n" : "\r\n";  // blank line
    int fields = pick(30) == 0 ? 2 : 3;                 // sometimes a wrong field count
    for (int f = 0; f < fields; ++f) {
      if (f) out += ',';
      switch (f) {
        case 0:
          out += pick(25) == 0
                     ? "oops"
                     : std::to_string(static_cast<int64_t>(rng() >> 20) - (int64_t{1} << 42));
          break;
        case 1: {
          int kind = pick(6);
          if (kind == 0) {
            out += "";
          } else if (kind == 1) {
            out += "\"a,b\"\"c\nd\"";
          } else if (kind == 2) {
            out += "\"\"";
          } else {
            for (int k = pick(12); k > 0; --k) out += static_cast<char>('a' + pick(26));
          }
          break;
        }
        default:
          out += pick(2) ? "2001-01-01 00:00:00" : "2024-02-29 23:59:59.25";
      }
    }
    out += pick(3) == 0 ? "\r\n" : "\n";
  }
  return out;
}

TEST(CsvDecode, BatchAndBlockBoundariesDoNotChangeTheAnswer) {
  uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto schema = MakeSchema(
      {{"n", DataType::Int64()}, {"s", DataType::Varchar()}, {"t", DataType::Timestamp()}});
  for (int round = 0; round < 5; ++round) {
    std::string text = RandomCsv(rng, 300);
    auto skip = MakeOptions({{"on_error", "skip"}});
    auto reference = DecodeText(text, schema, skip);
    ASSERT_TRUE(reference.status.ok());
    auto fail_reference = DecodeText(text, schema, Options());
    for (int64_t rows_max : {int64_t{1}, int64_t{3}, int64_t{4096}}) {
      for (size_t chunk : {size_t{1}, size_t{13}, size_t{64}, size_t{1000}, SIZE_MAX}) {
        auto r = DecodeText(text, schema, skip, {}, rows_max, chunk);
        ASSERT_TRUE(r.status.ok());
        EXPECT_EQ(r.rows, reference.rows) << rows_max << "/" << chunk;
        EXPECT_EQ(r.skipped, reference.skipped) << rows_max << "/" << chunk;
        auto f = DecodeText(text, schema, Options(), {}, rows_max, chunk);
        EXPECT_EQ(f.status.message(), fail_reference.status.message());
      }
    }
  }
}

// ---- encoding -----------------------------------------------------------------------------

std::string Encode(const RecordBatch& batch, bool changelog, const Options& options = Options()) {
  auto encoder = MakeEncoder("csv", batch.schema(), changelog, options);
  EXPECT_TRUE(encoder.ok());
  Buffer out;
  (*encoder)->WriteHeader(&out);
  (*encoder)->Encode(batch, &out);
  return std::string(reinterpret_cast<const char*>(out.data()), out.size());
}

RecordBatch MakeBatch(SchemaPtr schema, int64_t rows) {
  RecordBatch batch(schema);
  for (const Field& f : schema->fields())
    batch.columns().push_back(std::make_shared<Column>(f.type));
  batch.set_num_rows(rows);
  return batch;
}

TEST(CsvEncode, QuotesOnlyWhenNeeded) {
  auto schema = MakeSchema({{"s", DataType::Varchar()}, {"n", DataType::Int64()}});
  RecordBatch batch = MakeBatch(schema, 7);
  Column& s = *batch.columns()[0];
  for (const char* v : {"plain", "a,b", "say \"hi\"", "two\nlines", "cr\rhere", ""})
    s.AppendString(v);
  s.AppendNull();
  Column& n = *batch.columns()[1];
  for (int64_t i = 0; i < 6; ++i) n.Append<int64_t>(i - 3);
  n.AppendNull();
  EXPECT_EQ(Encode(batch, false),
            "s,n\nplain,-3\n\"a,b\",-2\n\"say \"\"hi\"\"\",-1\n\"two\nlines\",0\n\"cr\rhere\",1\n"
            "\"\",2\n,\n");
  EXPECT_EQ(
      Encode(batch, false, MakeOptions({{"header", "false"}, {"delimiter", ";"}})),
      "plain;-3\na,b;-2\n\"say \"\"hi\"\"\";-1\n\"two\nlines\";0\n\"cr\rhere\";1\n\"\";2\n;\n");
}

TEST(CsvEncode, EveryTypeChangelogAndConstants) {
  auto schema = MakeSchema({{"b", DataType::Boolean()},
                            {"d", DataType::Double()},
                            {"m", DataType::Decimal(6, 2)},
                            {"t", DataType::Timestamp()},
                            {"v", DataType::IntervalType()},
                            {"k", DataType::Varchar()}});
  RecordBatch batch = MakeBatch(schema, 3);
  auto& c = batch.columns();
  c[0]->Append<uint8_t>(1);
  c[0]->Append<uint8_t>(0);
  c[0]->AppendNull();
  c[1]->Append(0.1);
  c[1]->Append(std::nan(""));
  c[1]->Append(-HUGE_VAL);
  c[2]->Append<int64_t>(-5);
  c[2]->Append<int64_t>(123456);
  c[2]->Append<int64_t>(0);
  int64_t ts;
  ASSERT_TRUE(ParseTimestamp("2001-01-01 00:05:00.25", &ts));
  c[3]->Append(ts);
  c[3]->MakeConstant(3);
  c[4]->Append(Interval{0, 1, 2 * kMicrosPerHour});
  c[4]->Append(Interval{14, 0, 0});
  c[4]->AppendNull();
  c[5]->AppendString("same, for all");
  c[5]->MakeConstant(3);
  Op* ops = batch.EnableOps();
  ops[0] = Op::kInsert;
  ops[1] = Op::kDelete;
  ops[2] = Op::kInsert;
  EXPECT_EQ(Encode(batch, true),
            "op,b,d,m,t,v,k\n"
            "+,true,0.1,-0.05,2001-01-01 00:05:00.25,1 day 02:00:00,\"same, for all\"\n"
            "-,false,NaN,1234.56,2001-01-01 00:05:00.25,1 year 2 mons,\"same, for all\"\n"
            "+,,-Infinity,0.00,2001-01-01 00:05:00.25,,\"same, for all\"\n");
  // A constant NULL column.
  auto one = MakeSchema({{"x", DataType::Int64()}, {"y", DataType::Int64()}});
  RecordBatch b2 = MakeBatch(one, 2);
  b2.columns()[0]->AppendNull();
  b2.columns()[0]->MakeConstant(2);
  b2.columns()[1]->Append<int64_t>(1);
  b2.columns()[1]->Append<int64_t>(2);
  EXPECT_EQ(Encode(b2, false), "x,y\n,1\n,2\n");
  // A changelog batch without ops is all inserts.
  b2.DisableOps();
  EXPECT_EQ(Encode(b2, true, MakeOptions({{"header", "false"}})), "+,,1\n+,,2\n");
}

TEST(CsvEncode, RiskyDelimiterQuotesFormattedValues) {
  auto schema = MakeSchema({{"t", DataType::Timestamp()}, {"v", DataType::IntervalType()}});
  RecordBatch batch = MakeBatch(schema, 1);
  batch.columns()[0]->Append<int64_t>(0);
  batch.columns()[1]->AppendNull();
  std::string text = Encode(batch, false, MakeOptions({{"delimiter", " "}, {"header", "false"}}));
  EXPECT_EQ(text, "\"1970-01-01 00:00:00\" \n");
  auto r = DecodeText(text, schema, MakeOptions({{"delimiter", " "}}));
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rows, Rows({"1970-01-01 00:00:00, NULL"}));
}

TEST(CsvEncode, LoneNonVarcharColumnNullSurvivesARoundTrip) {
  auto schema = MakeSchema({{"n", DataType::Int64()}});
  RecordBatch batch = MakeBatch(schema, 2);
  batch.columns()[0]->AppendNull();
  batch.columns()[0]->Append<int64_t>(4);
  std::string text = Encode(batch, false);
  EXPECT_EQ(text, "n\n\"\"\n4\n");
  auto r = DecodeText(text, schema, MakeOptions({{"header", "true"}}));
  EXPECT_EQ(r.rows, Rows({"NULL", "4"}));
}

// Random batches of every type: decode(encode(batch)) == batch, for several seeds.
RecordBatch RandomBatch(std::mt19937_64& rng, SchemaPtr schema, int64_t rows) {
  RecordBatch batch = MakeBatch(schema, rows);
  auto pick = [&](uint64_t n) { return rng() % n; };
  for (size_t c = 0; c < schema->num_fields(); ++c) {
    Column& col = *batch.columns()[c];
    bool constant = pick(8) == 0;
    int64_t n = constant ? 1 : rows;
    for (int64_t r = 0; r < n; ++r) {
      if (pick(7) == 0) {
        col.AppendNull();
        continue;
      }
      switch (col.type().id) {
        case TypeId::kBoolean:
          col.Append<uint8_t>(static_cast<uint8_t>(pick(2)));
          break;
        case TypeId::kInt32:
          col.Append(static_cast<int32_t>(rng()));
          break;
        case TypeId::kInt64:
          col.Append(static_cast<int64_t>(rng()));
          break;
        case TypeId::kDouble: {
          double v;
          switch (pick(5)) {
            case 0:
              v = std::nan("");
              break;
            case 1:
              v = pick(2) ? HUGE_VAL : -HUGE_VAL;
              break;
            case 2:
              v = static_cast<double>(static_cast<int64_t>(rng() % 2000) - 1000) / 8;
              break;
            default: {
              uint64_t bits = rng();
              std::memcpy(&v, &bits, 8);
              if (std::isnan(v)) v = 0.5;
            }
          }
          col.Append(v);
          break;
        }
        case TypeId::kDecimal:
          col.Append(static_cast<int64_t>(rng() % 1'999'999'999'999'999'999ULL) -
                     999'999'999'999'999'999LL);
          break;
        case TypeId::kTimestamp:
          col.Append(static_cast<int64_t>(rng() % 253'402'300'799'000'000ULL));  // years 1970..9999
          break;
        case TypeId::kInterval:
          col.Append(Interval{static_cast<int32_t>(pick(2000)) - 1000,
                              static_cast<int32_t>(pick(2000)) - 1000,
                              static_cast<int64_t>(pick(1'000'000'000'000ULL)) - 500'000'000'000});
          break;
        case TypeId::kVarchar: {
          static const char* kPieces[] = {"a", ",", "\"",   "\n",  "\r\n",
                                          " ", "é", "日本", "x y", "'"};
          std::string s;
          for (uint64_t k = pick(6); k > 0; --k) s += kPieces[pick(10)];
          col.AppendString(s);
          break;
        }
        case TypeId::kNull:
          col.AppendNull();
          break;
      }
    }
    if (constant) col.MakeConstant(rows);
  }
  return batch;
}

SchemaPtr RoundTripSchema() {
  return MakeSchema({{"b", DataType::Boolean()},
                     {"i", DataType::Int32()},
                     {"l", DataType::Int64()},
                     {"d", DataType::Double()},
                     {"m", DataType::Decimal(18, 3)},
                     {"s", DataType::Varchar()},
                     {"t", DataType::Timestamp()},
                     {"v", DataType::IntervalType()},
                     {"s2", DataType::Varchar()}});
}

TEST(CsvRoundTrip, DecodeOfEncodeIsIdentity) {
  uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto schema = RoundTripSchema();
  for (int round = 0; round < 20; ++round) {
    RecordBatch batch = RandomBatch(rng, schema, 1 + static_cast<int64_t>(rng() % 200));
    bool changelog = round % 2 == 1;
    if (changelog) {
      Op* ops = batch.EnableOps();
      for (int64_t r = 0; r < batch.num_rows(); ++r) ops[r] = rng() % 2 ? Op::kInsert : Op::kDelete;
    }
    std::string text = Encode(batch, changelog);
    std::vector<Field> fields = schema->fields();
    if (changelog) fields.insert(fields.begin(), Field{"op", DataType::Varchar()});
    auto r = DecodeText(text, MakeSchema(fields), MakeOptions({{"header", "true"}}), {}, 7, 100);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString() << "\n" << text;
    EXPECT_EQ(r.rows, RowsOf(batch));
  }
}

// ---- steady state -------------------------------------------------------------------------

TEST(CsvSteadyState, DecodeAndEncodeAllocateNothing) {
#ifdef WEIR_NO_MALLOC_INTERPOSE
  GTEST_SKIP() << "malloc is not interposed under ASan";
#else
  auto schema = MakeSchema({{"date", DataType::Timestamp()},
                            {"delay", DataType::Int64()},
                            {"origin", DataType::Varchar()},
                            {"note", DataType::Varchar()},
                            {"ratio", DataType::Double()}});
  std::string csv;
  for (int i = 0; i < 20000; ++i)
    csv += "2001-01-01 00:" + std::to_string(10 + i % 50) + ":00," + std::to_string(i - 500) +
           ",SFO," + (i % 7 == 0 ? "\"a, \"\"quoted\"\"\nnote\"" : std::string(i % 5, 'n')) + "," +
           std::to_string(i) + ".25\n";
  BadRecordHandler handler("t.csv", ErrorPolicy::kFail);
  auto csv_decoder = MakeDecoder("csv", schema, {0, 1, 2, 3, 4}, Options(), &handler);
  auto csv_encoder = MakeEncoder("csv", schema, false, Options());
  auto json_encoder = MakeEncoder("json", schema, false, Options());
  ASSERT_TRUE(csv_decoder.ok() && csv_encoder.ok() && json_encoder.ok());
  // The JSON text of the same rows, for the JSON decoder.
  std::string json;
  {
    RecordBatch batch;
    size_t consumed = 0;
    BadRecordHandler h("x", ErrorPolicy::kFail);
    auto d = MakeDecoder("csv", schema, {0, 1, 2, 3, 4}, Options(), &h);
    Buffer out;
    for (size_t pos = 0; pos < csv.size(); pos += consumed) {
      batch.set_num_rows(0);
      ASSERT_TRUE(
          (*d)->Decode(csv.data() + pos, csv.size() - pos, true, 4096, &batch, &consumed).ok());
      (*json_encoder)->Encode(batch, &out);
    }
    json.assign(reinterpret_cast<const char*>(out.data()), out.size());
  }
  auto json_decoder = MakeDecoder("json", schema, {0, 1, 2, 3, 4}, Options(), &handler);
  ASSERT_TRUE(json_decoder.ok());

  RecordBatch batch;
  Buffer out;
  bool ok = true;
  int64_t rows = 0;
  // One pass over both texts: decode, and encode each batch to CSV and JSON. The texts end
  // with a newline, so at_eof = false consumes them whole and the decoders can run again.
  auto pass = [&] {
    for (auto* text : {&csv, &json}) {
      Decoder* decoder = text == &csv ? csv_decoder->get() : json_decoder->get();
      size_t consumed = 0;
      for (size_t pos = 0; pos < text->size(); pos += consumed) {
        batch.set_num_rows(0);
        ok &=
            decoder->Decode(text->data() + pos, text->size() - pos, false, 4096, &batch, &consumed)
                .ok();
        ok &= consumed > 0;
        if (!ok) return;
        rows += batch.num_rows();
        (*csv_encoder)->Encode(batch, &out);
        (*json_encoder)->Encode(batch, &out);
        out.Clear();
      }
    }
  };
  int64_t cold = weir_test::AllocationCount();
  pass();
  cold = weir_test::AllocationCount() - cold;
  pass();  // warm: every buffer at its high-water mark
  int64_t before = weir_test::AllocationCount();
  pass();
  int64_t allocations = weir_test::AllocationCount() - before;
  ASSERT_TRUE(ok);
  EXPECT_EQ(rows, 3 * 2 * 20000);
  EXPECT_GT(cold, 0);  // the counter works: the first pass grows the buffers
  EXPECT_EQ(allocations, 0);
#endif
}

}  // namespace
}  // namespace weir
