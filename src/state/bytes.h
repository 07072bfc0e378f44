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

#include "common/coding.h"

namespace weir::state_internal {

// Word loads/stores: common/coding.h.
using weir::LoadU32;
using weir::LoadU64;
using weir::StoreU32;
using weir::StoreU64;

/// Whether the n bytes at a and b are equal. The branches depend on n only, which is constant
/// per hash table for fixed-width keys, so they predict perfectly there.
inline bool BytesEqual(const uint8_t* a, const uint8_t* b, size_t n) {
  if (n >= 8) {
    if (n <= 16) return (LoadU64(a) == LoadU64(b)) & (LoadU64(a + n - 8) == LoadU64(b + n - 8));
    return std::memcmp(a, b, n) == 0;
  }
  if (n >= 4) return (LoadU32(a) == LoadU32(b)) & (LoadU32(a + n - 4) == LoadU32(b + n - 4));
  if (n == 0) return true;
  return (a[0] == b[0]) & (a[n >> 1] == b[n >> 1]) & (a[n - 1] == b[n - 1]);
}

/// Copies n bytes from src to dst (non-overlapping).
inline void CopyBytes(uint8_t* dst, const void* src_ptr, size_t n) {
  const auto* src = static_cast<const uint8_t*>(src_ptr);
  if (n >= 8) {
    if (n <= 16) {
      const uint64_t a = LoadU64(src), b = LoadU64(src + n - 8);
      StoreU64(dst, a);
      StoreU64(dst + n - 8, b);
    } else {
      std::memcpy(dst, src, n);
    }
  } else if (n >= 4) {
    const uint32_t a = LoadU32(src), b = LoadU32(src + n - 4);
    StoreU32(dst, a);
    StoreU32(dst + n - 4, b);
  } else if (n > 0) {
    const uint8_t first = src[0], middle = src[n >> 1], last = src[n - 1];
    dst[0] = first;
    dst[n >> 1] = middle;
    dst[n - 1] = last;
  }
}

}  // namespace weir::state_internal
