// CRC32C: the Castagnoli CRC (polynomial 0x1EDC6F41, reflected 0x82F63B78), as used by iSCSI
// (RFC 3720 §12.1 and the test vectors of §B.4), ext4, Btrfs and SSE4.2's CRC32 instruction.
//
// Two implementations give identical results: a portable table-driven one (slicing-by-8: eight
// 256-entry tables consume eight input bytes per step) and, on x86-64 CPUs that report SSE4.2 in
// cpuid, the hardware `crc32` instruction (`_mm_crc32_u64`, eight bytes per instruction). The
// choice is made once, at first use.
//
// Thread-safety: pure functions. Limits: none (any length; Extend composes over pieces).
#pragma once

#include <cstddef>
#include <cstdint>

namespace weir::crc32c {

/// CRC32C of `data[0, n)` continued from `crc` (the CRC of the bytes before it; 0 to start).
/// Extend(Extend(0, a), b) == Value(a ++ b).
uint32_t Extend(uint32_t crc, const void* data, size_t n);

/// CRC32C of `data[0, n)`.
inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

/// The two implementations, exposed for tests and benchmarks.
uint32_t ExtendPortable(uint32_t crc, const void* data, size_t n);
/// Requires HardwareAvailable().
uint32_t ExtendHardware(uint32_t crc, const void* data, size_t n);
bool HardwareAvailable();

/// A CRC stored next to the data it covers is masked, so that the CRC of a byte string that
/// itself contains CRCs is not degenerate (a CRC over data + its own CRC is a constant).
/// Mask: rotate right by 15 bits, add a constant. Unmask(Mask(c)) == c.
inline uint32_t Mask(uint32_t crc) {
  constexpr uint32_t kMaskDelta = 0xa282ead8u;
  return ((crc >> 15) | (crc << 17)) + kMaskDelta;
}
inline uint32_t Unmask(uint32_t masked) {
  constexpr uint32_t kMaskDelta = 0xa282ead8u;
  uint32_t rot = masked - kMaskDelta;
  return (rot >> 17) | (rot << 15);
}

}  // namespace weir::crc32c
