// libFuzzer target: the CSV decoder on arbitrary bytes.
//
// Input: byte 0 = flags (header, on_error skip/fail, delimiter, null_string, rows_max,
// line_bytes_max), byte 1 = block size in which the rest is revealed (0: all at once).
// Checks, besides ASan/UBSan: batches stay within rows_max, `consumed` within the input, every
// column has num_rows rows and VARCHARs are valid UTF-8; and, for rows decoded without
// null_string, decode(encode(rows)) == rows (INTERVAL excluded: its text can legitimately leave
// the bounded range the decoder accepts after normalisation, e.g. 9999999 years * 2).
//   ./build-fuzz/fuzz/csv_decoder_fuzz -max_total_time=60
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "formats/format.h"

namespace weir {
namespace {

SchemaPtr FuzzSchema() {
  static const SchemaPtr schema =
      std::make_shared<Schema>(std::vector<Field>{{"b", DataType::Boolean()},
                                                  {"i", DataType::Int32()},
                                                  {"l", DataType::Int64()},
                                                  {"d", DataType::Double()},
                                                  {"m", DataType::Decimal(12, 3)},
                                                  {"s", DataType::Varchar()},
                                                  {"t", DataType::Timestamp()},
                                                  {"v", DataType::IntervalType()},
                                                  {"s2", DataType::Varchar()}});
  return schema;
}

[[noreturn]] void Fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

void CheckBatch(const RecordBatch& batch, int64_t rows_max) {
  if (batch.num_rows() > rows_max) Fail("batch larger than rows_max");
  for (const ColumnPtr& col : batch.columns()) {
    if (col->length() != batch.num_rows()) Fail("column length != num_rows");
    if (col->type().id != TypeId::kVarchar) continue;
    for (int64_t r = 0; r < batch.num_rows(); ++r) {
      std::string_view s = col->GetString(r);
      if (!IsValidUtf8(s.data(), s.size())) Fail("invalid UTF-8 in a decoded VARCHAR");
    }
  }
}

// Renders rows cell by cell; NULL and "NULL" are told apart.
void AppendRows(const RecordBatch& batch, std::vector<std::string>* rows) {
  for (int64_t r = 0; r < batch.num_rows(); ++r) {
    std::string row;
    for (const ColumnPtr& col : batch.columns()) {
      row += col->IsNull(r) ? std::string("\x01N") : col->ValueToString(r);
      row += '\x02';
    }
    rows->push_back(std::move(row));
  }
}

struct Decoded {
  Status status;
  std::vector<std::string> rows;
  std::vector<RecordBatch> batches;
};

Decoded Run(const std::string& format, const char* data, size_t size, const Options& options,
            const std::vector<int>& projection, int64_t rows_max, size_t chunk, bool keep) {
  Decoded out;
  std::string dead_letter_path;
  auto policy = ParseErrorPolicy(options, &dead_letter_path);
  if (!policy.ok()) Fail("policy options");
  BadRecordHandler handler("fuzz", *policy);
  auto decoder = MakeDecoder(format, FuzzSchema(), projection, options, &handler);
  if (!decoder.ok()) Fail("decoder options");
  size_t pos = 0, visible = chunk == 0 ? size : std::min(chunk, size);
  for (int step = 0; step < 1'000'000; ++step) {
    bool eof = visible == size;
    // An exactly sized heap copy, so that ASan sees any read past what the decoder was given.
    std::vector<char> window(data + pos, data + visible);
    RecordBatch batch;
    size_t consumed = 0;
    out.status = (*decoder)->Decode(window.data(), window.size(), eof, rows_max, &batch, &consumed);
    if (!out.status.ok()) return out;
    if (consumed > window.size()) Fail("consumed more than given");
    CheckBatch(batch, rows_max);
    pos += consumed;
    AppendRows(batch, &out.rows);
    bool progress = batch.num_rows() > 0 || consumed > 0;
    if (keep && batch.num_rows() > 0) out.batches.push_back(std::move(batch));
    if (!progress) {
      if (eof) return out;
      visible = std::min(size, visible + std::max<size_t>(chunk, 1));
    }
  }
  Fail("no end after 1e6 steps");
}

}  // namespace
}  // namespace weir

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace weir;
  if (size < 2) return 0;
  const uint8_t flags = data[0];
  const size_t chunk = data[1];
  const char* text = reinterpret_cast<const char*>(data + 2);
  const size_t len = size - 2;
  static const char kDelimiters[] = {',', ';', '\t', ' '};
  const char delimiter = kDelimiters[(flags >> 2) & 3];
  const int64_t rows_max = (flags & 0x20) ? 3 : 4096;

  Options options;
  (void)options.Set("header", (flags & 1) ? "true" : "false");
  (void)options.Set("on_error", (flags & 2) ? "skip" : "fail");
  (void)options.Set("delimiter", std::string(1, delimiter));
  if (flags & 0x40) (void)options.Set("null_string", "NA");
  if (flags & 0x80) (void)options.Set("line_bytes_max", "64");

  std::vector<int> all = {0, 1, 2, 3, 4, 5, 6, 7, 8};
  Run("csv", text, len, options, all, rows_max, chunk, false);
  // A projection (with a duplicate) must give the same rows for its columns when all rows
  // were fine; exercised for crashes either way.
  Run("csv", text, len, options, {5, 1, 5}, rows_max, chunk, false);

  // Round trip, without INTERVAL and null_string.
  if ((flags & 0x40) == 0) {
    std::vector<int> no_interval = {0, 1, 2, 3, 4, 5, 6, 8};
    Decoded kept = Run("csv", text, len, options, no_interval, rows_max, chunk, true);
    if (kept.batches.empty()) return 0;
    auto out_schema = kept.batches[0].schema();
    Options enc_options;
    (void)enc_options.Set("header", "false");
    (void)enc_options.Set("delimiter", std::string(1, delimiter));
    auto encoder = MakeEncoder("csv", out_schema, false, enc_options);
    if (!encoder.ok()) Fail("encoder options");
    Buffer encoded;
    for (const RecordBatch& b : kept.batches) (*encoder)->Encode(b, &encoded);
    std::vector<std::string> expected;
    for (const RecordBatch& b : kept.batches) AppendRows(b, &expected);
    // Decode the encoded text with a schema equal to the projected one.
    Options dec_options;
    (void)dec_options.Set("delimiter", std::string(1, delimiter));
    BadRecordHandler handler("roundtrip", ErrorPolicy::kFail);
    auto decoder = MakeDecoder("csv", out_schema, {0, 1, 2, 3, 4, 5, 6, 7}, dec_options, &handler);
    if (!decoder.ok()) Fail("round-trip decoder");
    std::vector<std::string> got;
    const char* p = reinterpret_cast<const char*>(encoded.data());
    size_t left = encoded.size();
    while (left > 0) {
      RecordBatch batch;
      size_t consumed = 0;
      Status st = (*decoder)->Decode(p, left, true, 4096, &batch, &consumed);
      if (!st.ok()) {
        std::fprintf(stderr, "%s\n", st.ToString().c_str());
        Fail("re-decoding encoded CSV failed");
      }
      AppendRows(batch, &got);
      p += consumed;
      left -= consumed;
      if (consumed == 0) break;
    }
    if (got != expected) Fail("decode(encode(rows)) != rows");
  }
  return 0;
}
