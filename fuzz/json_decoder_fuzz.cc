// libFuzzer target: the JSON Lines decoder on arbitrary bytes.
//
// Input: byte 0 = flags (on_error skip/fail, rows_max, line_bytes_max), byte 1 = block size in
// which the rest is revealed (0: all at once). Checks, besides ASan/UBSan: batches stay within
// rows_max, `consumed` within the input, every column has num_rows rows and VARCHARs are valid
// UTF-8; and decode(encode(rows)) == rows with the JSON encoder (INTERVAL excluded: its text can
// leave the bounded range the decoder accepts after normalisation).
//   ./build-fuzz/fuzz/json_decoder_fuzz -max_total_time=60
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
  const int64_t rows_max = (flags & 0x20) ? 3 : 4096;

  Options options;
  (void)options.Set("on_error", (flags & 2) ? "skip" : "fail");
  if (flags & 0x80) (void)options.Set("line_bytes_max", "64");

  std::vector<int> all = {0, 1, 2, 3, 4, 5, 6, 7, 8};
  Run("json", text, len, options, all, rows_max, chunk, false);
  Run("json", text, len, options, {5, 1, 5}, rows_max, chunk, false);

  std::vector<int> no_interval = {0, 1, 2, 3, 4, 5, 6, 8};
  Decoded kept = Run("json", text, len, options, no_interval, rows_max, chunk, true);
  if (kept.batches.empty()) return 0;
  auto out_schema = kept.batches[0].schema();
  auto encoder = MakeEncoder("json", out_schema, false, Options());
  if (!encoder.ok()) Fail("encoder options");
  Buffer encoded;
  for (const RecordBatch& b : kept.batches) (*encoder)->Encode(b, &encoded);
  std::vector<std::string> expected;
  for (const RecordBatch& b : kept.batches) AppendRows(b, &expected);
  BadRecordHandler handler("roundtrip", ErrorPolicy::kFail);
  auto decoder = MakeDecoder("json", out_schema, {0, 1, 2, 3, 4, 5, 6, 7}, Options(), &handler);
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
      Fail("re-decoding encoded JSON failed");
    }
    AppendRows(batch, &got);
    p += consumed;
    left -= consumed;
    if (consumed == 0) break;
  }
  if (got != expected) Fail("decode(encode(rows)) != rows");
  return 0;
}
