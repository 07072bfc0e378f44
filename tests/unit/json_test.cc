// JSON Lines decoder and encoder: key matching, types, strings and escapes, bad records with
// line numbers under each on_error policy, batch/block boundaries, encode/decode round trips.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>

#include "formats/format.h"
#include "formats/json/json_decoder.h"
#include "formats/json/json_encoder.h"
#include "types/datetime.h"

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
  std::vector<std::string> rows;
  int64_t skipped = 0;
  int64_t dead_lettered = 0;
};

// Feeds `text` `chunk` bytes at a time (each window copied, so ASan sees over-reads).
DecodeResult DecodeJson(std::string_view text, SchemaPtr schema, const Options& options,
                        std::vector<int> projection = {}, int64_t rows_max = 4096,
                        size_t chunk = SIZE_MAX) {
  DecodeResult result;
  std::string dead_letter_path;
  auto policy = ParseErrorPolicy(options, &dead_letter_path);
  if (!policy.ok()) {
    result.status = policy.status();
    return result;
  }
  BadRecordHandler handler("t.jsonl", *policy, dead_letter_path);
  if (projection.empty())
    for (size_t i = 0; i < schema->num_fields(); ++i) projection.push_back(static_cast<int>(i));
  auto decoder = MakeDecoder("json", schema, projection, options, &handler);
  if (!decoder.ok()) {
    result.status = decoder.status();
    return result;
  }
  size_t pos = 0, visible = std::min(chunk, text.size());
  RecordBatch batch;
  while (true) {
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
    pos += consumed;
    for (std::string& row : RowsOf(batch)) result.rows.push_back(std::move(row));
    if (batch.num_rows() == 0 && consumed == 0) {
      if (eof) break;
      visible = std::min(text.size(), visible + std::max<size_t>(chunk, 1));
    }
  }
  result.skipped = handler.skipped();
  result.dead_lettered = handler.dead_lettered();
  return result;
}

using Rows = std::vector<std::string>;

SchemaPtr AllTypes() {
  return MakeSchema({{"b", DataType::Boolean()},
                     {"i", DataType::Int32()},
                     {"l", DataType::Int64()},
                     {"d", DataType::Double()},
                     {"m", DataType::Decimal(18, 15)},
                     {"s", DataType::Varchar()},
                     {"t", DataType::Timestamp()},
                     {"v", DataType::IntervalType()}});
}

// ---- decoding -----------------------------------------------------------------------------

TEST(JsonDecode, EveryType) {
  std::string text =
      R"({"b":true,"i":-7,"l":10000000000,"d":1.5e3,"m":123.456789012345678,"s":"hi","t":"2001-01-01 00:05:00","v":"90 minutes"})"
      "\n"
      R"({"B":false,"I":"12","L":"-3","D":"NaN","M":"1","S":"","T":"2001-01-01T01:02:03.5","V":"1 day"})"
      "\n"
      R"({"b":null,"i":null})"
      "\n"
      R"({"b":"t","d":-0.0,"m":-0.000000000000001,"extra":{"nested":[1,2,{"x":null}]},"s":"x"})"
      "\n";
  auto r = DecodeJson(text, AllTypes(), Options());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rows, (Rows{"true, -7, 10000000000, 1500, 123.456789012345678, hi, "
                          "2001-01-01 00:05:00, 01:30:00",
                          "false, 12, -3, NaN, 1.000000000000000, , 2001-01-01 01:02:03.5, 1 day",
                          "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL",
                          "true, NULL, NULL, -0, -0.000000000000001, x, NULL, NULL"}));
}

TEST(JsonDecode, StringsAndEscapes) {
  auto schema = MakeSchema({{"s", DataType::Varchar()}});
  std::string text = R"({"s":"a\"b\\c\/d\n\t\r\b\f"})"
                     "\n"
                     R"({"s":"\u00e9\u65e5\ud83d\ude00"})"
                     "\n"
                     "{\"s\":\"raw \xC3\xA9 utf8\"}\n"
                     R"({"s\u0041":"escaped key is still 's'?"})"
                     "\n";
  auto r = DecodeJson(text, schema, Options());
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rows, (Rows{"a\"b\\c/d\n\t\r\b\f", "\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80",
                          "raw \xC3\xA9 utf8", "NULL"}));
}

TEST(JsonDecode, KeysCaseInsensitiveDuplicatesAndProjection) {
  auto schema = MakeSchema(
      {{"Alpha", DataType::Int64()}, {"beta", DataType::Varchar()}, {"gamma", DataType::Int64()}});
  std::string text = R"({"ALPHA":1,"beta":"x","alpha":2,"gamma":"not a number"})"
                     "\n"
                     R"({"gamma":3,"Beta":"y"})"
                     "\n";
  // gamma is not projected: its bad value is never looked at.
  auto r = DecodeJson(text, schema, Options(), {1, 0});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rows, (Rows{"x, 2", "y, NULL"}));
}

TEST(JsonDecode, BadRecordsCarryLineNumbers) {
  auto schema = MakeSchema({{"n", DataType::Int64()}, {"s", DataType::Varchar()}});
  auto check = [&](const std::string& text, const std::string& message) {
    auto r = DecodeJson(text, schema, Options());
    ASSERT_FALSE(r.status.ok()) << text;
    EXPECT_EQ(r.status.code(), StatusCode::kDataError);
    EXPECT_EQ(r.status.message(), message) << text;
  };
  check("{\"n\":1}\n\n{\"n\":true}\n", "t.jsonl:3: column 'n': expected BIGINT, found boolean");
  check("{\"n\":\"abc\"}\n", "t.jsonl:1: column 'n': invalid BIGINT 'abc'");
  check("{\"n\":1.5}\n", "t.jsonl:1: column 'n': invalid BIGINT '1.5'");
  check("{\"n\":99999999999999999999}\n",
        "t.jsonl:1: column 'n': BIGINT out of range '99999999999999999999'");
  check("{\"s\":5}\n", "t.jsonl:1: column 's': expected VARCHAR, found number");
  check("{\"s\":[1]}\n", "t.jsonl:1: column 's': expected VARCHAR, found object or array");
  check("{\"s\":\"\\ud800\"}\n", "t.jsonl:1: column 's': invalid escape in JSON string");
  check("[1,2]\n", "t.jsonl:1: expected a JSON object");
  check("{\"n\":1} {\"n\":2}\n", "t.jsonl:1: trailing content after the JSON object");
  auto r = DecodeJson("{\"n\":1}\n{\"n\":\n", schema, Options());
  ASSERT_FALSE(r.status.ok());
  EXPECT_EQ(r.status.message().rfind("t.jsonl:2: malformed JSON", 0), 0u) << r.status.message();
  r = DecodeJson("{\"n\" 1}\n", schema, Options());
  EXPECT_EQ(r.status.message().rfind("t.jsonl:1: malformed JSON", 0), 0u) << r.status.message();
  r = DecodeJson("{\"n\":nul}\n", schema, Options());
  EXPECT_FALSE(r.status.ok());
  r = DecodeJson("{\"n\":tru}\n", MakeSchema({{"n", DataType::Boolean()}}), Options());
  EXPECT_FALSE(r.status.ok());
}

TEST(JsonDecode, SkipDeadLetterAndBlankLines) {
  auto schema = MakeSchema({{"n", DataType::Int64()}});
  std::string text = "{\"n\":1}\r\n   \n{\"n\":\"x\"}\n{oops\n{\"n\":4}";
  auto r = DecodeJson(text, schema, MakeOptions({{"on_error", "skip"}}));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.rows, (Rows{"1", "4"}));
  EXPECT_EQ(r.skipped, 2);

  char tmpl[] = "/tmp/weir_json_dlq_XXXXXX";
  int fd = mkstemp(tmpl);
  ASSERT_GE(fd, 0);
  close(fd);
  r = DecodeJson(text, schema,
                 MakeOptions({{"on_error", "dead_letter"}, {"dead_letter_path", tmpl}}));
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.dead_lettered, 2);
  std::ifstream in(tmpl);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::remove(tmpl);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(
      lines[0],
      R"({"source":"t.jsonl","line":3,"reason":"column 'n': invalid BIGINT 'x'","raw":"{\"n\":\"x\"}"})");
  EXPECT_EQ(lines[1].rfind(R"({"source":"t.jsonl","line":4,"reason":"malformed JSON)", 0), 0u)
      << lines[1];
}

TEST(JsonDecode, LongLines) {
  auto schema = MakeSchema({{"s", DataType::Varchar()}});
  std::string big = "{\"s\":\"" + std::string(3000, 'y') + "\"}";
  std::string text = "{\"s\":\"a\"}\n" + big + "\n{\"s\":\"b\"}\n";
  for (size_t chunk : {size_t{5}, size_t{128}, SIZE_MAX}) {
    auto r =
        DecodeJson(text, schema, MakeOptions({{"on_error", "skip"}, {"line_bytes_max", "1000"}}),
                   {}, 4096, chunk);
    ASSERT_TRUE(r.status.ok());
    EXPECT_EQ(r.rows, (Rows{"a", "b"})) << chunk;
    EXPECT_EQ(r.skipped, 1);
    auto f = DecodeJson(text + "{\"s\":1}\n", schema, MakeOptions({{"line_bytes_max", "1000"}}), {},
                        4096, chunk);
    EXPECT_EQ(f.status.message(), "t.jsonl:2: record longer than line_bytes_max (1000 bytes)");
  }
  // Within the limit, a long line decodes (the parser grows as needed).
  auto r = DecodeJson(big + "\n", schema, Options());
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.rows, (Rows{std::string(3000, 'y')}));
}

TEST(JsonDecode, BatchAndBlockBoundariesDoNotChangeTheAnswer) {
  uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto schema = MakeSchema({{"n", DataType::Int64()}, {"s", DataType::Varchar()}});
  std::string text;
  for (int i = 0; i < 300; ++i) {
    switch (rng() % 8) {
      case 0:
        text += "\n";
        break;
      case 1:
        text += "{\"n\":\"bad\"}\n";
        break;
      case 2:
        text += "{\"s\":\"only s \\u00e9\"}\r\n";
        break;
      default:
        text += "{\"n\":" + std::to_string(static_cast<int64_t>(rng() >> 1)) + ",\"s\":\"v" +
                std::to_string(i) + "\"}\n";
    }
  }
  auto skip = MakeOptions({{"on_error", "skip"}});
  auto reference = DecodeJson(text, schema, skip);
  ASSERT_TRUE(reference.status.ok());
  auto fail_reference = DecodeJson(text, schema, Options());
  for (int64_t rows_max : {int64_t{1}, int64_t{5}, int64_t{4096}}) {
    for (size_t chunk : {size_t{1}, size_t{17}, size_t{100}, SIZE_MAX}) {
      auto r = DecodeJson(text, schema, skip, {}, rows_max, chunk);
      ASSERT_TRUE(r.status.ok());
      EXPECT_EQ(r.rows, reference.rows) << rows_max << "/" << chunk;
      EXPECT_EQ(r.skipped, reference.skipped);
      EXPECT_EQ(DecodeJson(text, schema, Options(), {}, rows_max, chunk).status.message(),
                fail_reference.status.message());
    }
  }
}

TEST(JsonUnescape, Rules) {
  std::string out;
  EXPECT_TRUE(UnescapeJsonString(R"(\u0000x)", &out));
  EXPECT_EQ(out, std::string("\0x", 2));
  EXPECT_FALSE(UnescapeJsonString(R"(\x)", &out));
  EXPECT_FALSE(UnescapeJsonString(R"(\u12)", &out));
  EXPECT_FALSE(UnescapeJsonString(R"(\udc00)", &out));
  EXPECT_FALSE(UnescapeJsonString(R"(\ud800\u0041)", &out));
  EXPECT_FALSE(UnescapeJsonString("\\", &out));
}

// ---- encoding -----------------------------------------------------------------------------

RecordBatch MakeBatch(SchemaPtr schema, int64_t rows) {
  RecordBatch batch(schema);
  for (const Field& f : schema->fields())
    batch.columns().push_back(std::make_shared<Column>(f.type));
  batch.set_num_rows(rows);
  return batch;
}

std::string Encode(const RecordBatch& batch, bool changelog) {
  auto encoder = MakeEncoder("json", batch.schema(), changelog, Options());
  EXPECT_TRUE(encoder.ok());
  Buffer out;
  (*encoder)->WriteHeader(&out);
  (*encoder)->Encode(batch, &out);
  return std::string(reinterpret_cast<const char*>(out.data()), out.size());
}

TEST(JsonEncode, ValuesAndEscaping) {
  auto schema = MakeSchema({{"s", DataType::Varchar()},
                            {"d", DataType::Double()},
                            {"m", DataType::Decimal(5, 2)},
                            {"t", DataType::Timestamp()},
                            {"v", DataType::IntervalType()},
                            {"b", DataType::Boolean()},
                            {"we\"ird", DataType::Int32()}});
  RecordBatch batch = MakeBatch(schema, 3);
  auto& c = batch.columns();
  c[0]->AppendString("q\"b\\n\n\x01\xC3\xA9");
  c[0]->AppendNull();
  c[0]->AppendString("");
  c[1]->Append(0.1);
  c[1]->Append(std::nan(""));
  c[1]->Append(-HUGE_VAL);
  c[2]->Append<int64_t>(-1);
  c[2]->Append<int64_t>(12345);
  c[2]->AppendNull();
  c[3]->Append<int64_t>(0);
  c[3]->Append<int64_t>(1);
  c[3]->AppendNull();
  c[4]->Append(Interval{0, 0, kMicrosPerHour});
  c[4]->MakeConstant(3);
  c[5]->Append<uint8_t>(1);
  c[5]->Append<uint8_t>(0);
  c[5]->Append<uint8_t>(1);
  c[6]->Append<int32_t>(-5);
  c[6]->MakeConstant(3);
  EXPECT_EQ(
      Encode(batch, false),
      R"({"s":"q\"b\\n\n\u0001é","d":0.1,"m":-0.01,"t":"1970-01-01 00:00:00","v":"01:00:00","b":true,"we\"ird":-5})"
      "\n"
      R"({"s":null,"d":"NaN","m":123.45,"t":"1970-01-01 00:00:00.000001","v":"01:00:00","b":false,"we\"ird":-5})"
      "\n"
      R"({"s":"","d":"-Infinity","m":null,"t":null,"v":"01:00:00","b":true,"we\"ird":-5})"
      "\n");
}

TEST(JsonEncode, Changelog) {
  auto schema = MakeSchema({{"k", DataType::Int64()}});
  RecordBatch batch = MakeBatch(schema, 2);
  batch.columns()[0]->Append<int64_t>(1);
  batch.columns()[0]->Append<int64_t>(2);
  Op* ops = batch.EnableOps();
  ops[0] = Op::kDelete;
  ops[1] = Op::kInsert;
  EXPECT_EQ(Encode(batch, true), "{\"op\":\"-\",\"k\":1}\n{\"op\":\"+\",\"k\":2}\n");
  auto empty = MakeSchema({});
  RecordBatch none = MakeBatch(empty, 1);
  EXPECT_EQ(Encode(none, false), "{}\n");
  EXPECT_EQ(Encode(none, true), "{\"op\":\"+\"}\n");
}

TEST(JsonRoundTrip, DecodeOfEncodeIsIdentity) {
  uint64_t seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto schema = MakeSchema({{"b", DataType::Boolean()},
                            {"i", DataType::Int32()},
                            {"l", DataType::Int64()},
                            {"d", DataType::Double()},
                            {"m", DataType::Decimal(18, 4)},
                            {"s", DataType::Varchar()},
                            {"t", DataType::Timestamp()},
                            {"v", DataType::IntervalType()}});
  auto pick = [&](uint64_t n) { return rng() % n; };
  for (int round = 0; round < 20; ++round) {
    int64_t rows = 1 + static_cast<int64_t>(pick(100));
    RecordBatch batch = MakeBatch(schema, rows);
    for (size_t c = 0; c < schema->num_fields(); ++c) {
      Column& col = *batch.columns()[c];
      bool constant = pick(6) == 0;
      for (int64_t r = 0; r < (constant ? 1 : rows); ++r) {
        if (pick(6) == 0) {
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
            uint64_t bits = rng();
            double v;
            std::memcpy(&v, &bits, 8);
            if (pick(10) == 0) v = std::nan("");
            if (pick(10) == 0) v = -HUGE_VAL;
            col.Append(v);
            break;
          }
          case TypeId::kDecimal:
            col.Append(static_cast<int64_t>(pick(1'999'999'999'999'999'999ULL)) -
                       999'999'999'999'999'999LL);
            break;
          case TypeId::kTimestamp:
            col.Append(static_cast<int64_t>(pick(253'402'300'799'000'000ULL)) -
                       62'135'596'800'000'000LL);
            break;
          case TypeId::kInterval:
            col.Append(Interval{static_cast<int32_t>(pick(100)),
                                static_cast<int32_t>(pick(100)) - 50,
                                static_cast<int64_t>(pick(1'000'000'000'000ULL))});
            break;
          case TypeId::kVarchar: {
            std::string s;
            for (uint64_t k = pick(8); k > 0; --k) {
              uint32_t ch = static_cast<uint32_t>(pick(0x300));
              if (pick(20) == 0) ch = 0x1F600;  // outside the BMP
              if (ch < 0x80) {
                s.push_back(static_cast<char>(ch));
              } else if (ch < 0x800) {
                s.push_back(static_cast<char>(0xC0 | (ch >> 6)));
                s.push_back(static_cast<char>(0x80 | (ch & 0x3F)));
              } else {
                s += "\xF0\x9F\x98\x80";
              }
            }
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
    bool changelog = round % 2 == 1;
    if (changelog) {
      Op* ops = batch.EnableOps();
      for (int64_t r = 0; r < rows; ++r) ops[r] = pick(2) ? Op::kInsert : Op::kDelete;
    }
    std::string text = Encode(batch, changelog);
    std::vector<Field> fields = schema->fields();
    if (changelog) fields.insert(fields.begin(), Field{"op", DataType::Varchar()});
    auto r = DecodeJson(text, MakeSchema(fields), Options(), {}, 7, 200);
    ASSERT_TRUE(r.status.ok()) << r.status.ToString() << "\n" << text;
    EXPECT_EQ(r.rows, RowsOf(batch));
  }
}

}  // namespace
}  // namespace weir
