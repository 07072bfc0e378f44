#include "expr/functions/kernel.h"

#include <vector>

#include "types/datetime.h"

namespace weir::fn {

void AndBytes(uint8_t* __restrict dst, const uint8_t* __restrict src, size_t n);

const uint8_t* PropagateValidity(const Column* const* args, int nargs, int64_t rows, Column* out) {
  const uint8_t* first = nullptr;
  bool all_null = false;
  int with_bitmap = 0;
  for (int k = 0; k < nargs; ++k) {
    const Column& c = *args[k];
    if (!c.has_validity()) continue;
    if (c.is_constant()) {
      all_null |= !c.IsValid(0);
      continue;
    }
    if (first == nullptr) first = c.validity();
    ++with_bitmap;
  }
  if (!all_null && with_bitmap == 0) {
    out->DropValidity();
    return nullptr;
  }
  uint8_t* o = out->EnsureValidity();
  const size_t bytes = static_cast<size_t>(BitmapBytes(rows));
  if (all_null) {
    std::memset(o, 0, bytes);
    return o;
  }
  std::memcpy(o, first, bytes);
  for (int k = 0; k < nargs; ++k) {
    const Column& c = *args[k];
    if (!c.has_validity() || c.is_constant() || c.validity() == first) continue;
    AndBytes(o, c.validity(), bytes);
  }
  return o;
}

void AndBytes(uint8_t* __restrict dst, const uint8_t* __restrict src, size_t n) {
  size_t b = 0;
  for (; b + 32 <= n; b += 32)  // fixed-size blocks: vectorized at -O2
    for (size_t j = 0; j < 32; ++j) dst[b + j] &= src[b + j];
  for (; b < n; ++b) dst[b] &= src[b];
}

uint8_t* ScratchBytes(size_t bytes) {
  thread_local std::vector<uint8_t> scratch;
  if (scratch.size() < bytes) scratch.resize(bytes);
  return scratch.data();
}

std::string DoubleText(double v) {
  char buf[kDoubleTextMax];
  return std::string(buf, FormatDouble(v, buf));
}
std::string DecimalText(int64_t v, int scale) {
  char buf[kDecimalTextMax];
  return std::string(buf, FormatDecimal(v, scale, buf));
}
std::string TimestampText(int64_t us) {
  char buf[kTimestampTextMax];
  return std::string(buf, FormatTimestamp(us, buf));
}
std::string IntervalText(const Interval& iv) {
  char buf[kIntervalTextMax];
  return std::string(buf, FormatInterval(iv, buf));
}

}  // namespace weir::fn
