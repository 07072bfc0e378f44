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

#include "decoder_fuzz_common.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace weir;
  using namespace weir::fuzz;
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
