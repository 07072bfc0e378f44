// Byte-string helpers shared by the state module's hot loops (internal to src/state).
//
// Unaligned word loads/stores via memcpy (one instruction on x86-64), and equality / copy of
// the short strings typical of group keys without a library call: two overlapping word
// accesses cover 4..16 bytes; longer strings fall back to memcmp / memcpy. With n == 0 neither
// function touches its pointers (null is allowed). Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace weir::state_internal {

inline uint64_t Load64(const void* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint32_t Load32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline void Store64(void* p, uint64_t v) { std::memcpy(p, &v, 8); }
inline void Store32(void* p, uint32_t v) { std::memcpy(p, &v, 4); }

/// Whether the n bytes at a and b are equal. The branches depend on n only, which is constant
/// per hash table for fixed-width keys, so they predict perfectly there.
inline bool BytesEqual(const uint8_t* a, const uint8_t* b, size_t n) {
  if (n >= 8) {
    if (n <= 16) return (Load64(a) == Load64(b)) & (Load64(a + n - 8) == Load64(b + n - 8));
    return std::memcmp(a, b, n) == 0;
  }
  if (n >= 4) return (Load32(a) == Load32(b)) & (Load32(a + n - 4) == Load32(b + n - 4));
  if (n == 0) return true;
  return (a[0] == b[0]) & (a[n >> 1] == b[n >> 1]) & (a[n - 1] == b[n - 1]);
}

/// Copies n bytes from src to dst (non-overlapping).
inline void CopyBytes(uint8_t* dst, const void* src_ptr, size_t n) {
  const auto* src = static_cast<const uint8_t*>(src_ptr);
  if (n >= 8) {
    if (n <= 16) {
      const uint64_t a = Load64(src), b = Load64(src + n - 8);
      Store64(dst, a);
      Store64(dst + n - 8, b);
    } else {
      std::memcpy(dst, src, n);
    }
  } else if (n >= 4) {
    const uint32_t a = Load32(src), b = Load32(src + n - 4);
    Store32(dst, a);
    Store32(dst + n - 4, b);
  } else if (n > 0) {
    const uint8_t first = src[0], middle = src[n >> 1], last = src[n - 1];
    dst[0] = first;
    dst[n >> 1] = middle;
    dst[n - 1] = last;
  }
}

}  // namespace weir::state_internal
