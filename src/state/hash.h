// Hashing for keyed state: 64-bit hashes of byte strings, of single values and of whole columns.
//
// Contract. Hashes are deterministic within one build (no per-process seed), so they may be
// used for sharding and, later, for partitioning across processes of the same version; they are
// NOT stable across Weir versions and must never be persisted. They are not keyed: an adversary
// who can choose keys can force collisions (the hash table then degrades to long probe runs but
// stays correct). All functions are pure and thread-safe; nothing allocates.
//
// SQL equality is respected where the key encoding respects it (state/key_encoder.h): DOUBLE
// -0.0 and +0.0 hash alike and every NaN hashes alike (Weir compares NaN = NaN, as PostgreSQL
// does); INT and BIGINT holding the same number hash alike; NULL hashes to kNullHash whatever
// bytes lie under it. INTERVAL hashes by its fields (months, days, micros), so '1 month' and
// '30 days' hash (and group) apart although `=` calls them equal — see state/README.md.
//
// Technique: the "folded multiply" mixer — the full 128-bit product of two 64-bit words, its
// halves xor-ed together — as used by wyhash (Wang Yi, 2019) and foldhash (Orson Peters,
// 2024). Each output bit of the high half depends on every input bit, and the low half spreads
// the low input bits, so one fold is a strong mixer for a word; strings are absorbed 16 bytes
// a fold. This is Weir's own formulation; the constants are the fractional parts of the
// square roots of the first primes (the SHA-512 initial values, FIPS 180-4 §5.3.5), chosen only
// to be unstructured odd numbers. Quality is checked by tests/unit/state_test.cc (distinct
// hashes, bucket spread of sequential integers) and by probe lengths in bench/state_bench.cc.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace weir {

class Column;

namespace hash_internal {
inline constexpr uint64_t kK0 = 0x6a09e667f3bcc909ULL;  // frac(sqrt(2)), made odd
inline constexpr uint64_t kK1 = 0xbb67ae8584caa73bULL;  // frac(sqrt(3))
inline constexpr uint64_t kK2 = 0x3c6ef372fe94f82bULL;  // frac(sqrt(5))
inline constexpr uint64_t kK3 = 0xa54ff53a5f1d36f1ULL;  // frac(sqrt(7))
inline constexpr uint64_t kK4 = 0x510e527fade682d1ULL;  // frac(sqrt(11))

/// Low and high halves of the 128-bit product a*b, xor-ed.
inline uint64_t FoldedMultiply(uint64_t a, uint64_t b) {
  const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(p) ^ static_cast<uint64_t>(p >> 64);
}
inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
inline uint64_t Load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
}  // namespace hash_internal

/// The hash of a SQL NULL in HashColumn (frac(sqrt(13))).
inline constexpr uint64_t kNullHash = 0x9b05688c2b3e6c1fULL;

/// The bits of `v` with -0.0 folded onto +0.0 and every NaN onto one quiet NaN, so that values
/// SQL calls equal hash and encode alike. Compiles to conditional moves.
inline uint64_t CanonicalDoubleBits(double v) {
  uint64_t bits = std::bit_cast<uint64_t>(v);
  bits = v == 0.0 ? 0 : bits;
  bits = v != v ? 0x7ff8000000000000ULL : bits;
  return bits;
}

/// Hashes `len` bytes at `data`. Inputs up to 16 bytes cost one load pair and two folds;
/// longer inputs one fold per 16 bytes (two independent lanes above 32 bytes).
inline uint64_t HashBytes(const void* data, size_t len, uint64_t seed = 0) {
  using namespace hash_internal;
  const uint8_t* p = static_cast<const uint8_t*>(data);
  uint64_t s = seed ^ kK0;
  uint64_t a, b;
  if (len <= 16) {
    if (len >= 8) {  // two overlapping words cover 8..16 bytes
      a = Load64(p);
      b = Load64(p + len - 8);
    } else if (len >= 4) {
      a = Load32(p);
      b = Load32(p + len - 4);
    } else if (len > 0) {  // 1..3 bytes: first, middle, last
      a = (uint64_t{p[0]} << 16) | (uint64_t{p[len >> 1]} << 8) | p[len - 1];
      b = 0;
    } else {
      a = b = 0;
    }
  } else {
    size_t rest = len;
    if (rest > 32) {
      uint64_t s1 = s ^ kK4;
      do {
        s = FoldedMultiply(Load64(p) ^ kK1, Load64(p + 8) ^ s);
        s1 = FoldedMultiply(Load64(p + 16) ^ kK2, Load64(p + 24) ^ s1);
        p += 32;
        rest -= 32;
      } while (rest > 32);
      s ^= s1;
    }
    while (rest > 16) {
      s = FoldedMultiply(Load64(p) ^ kK1, Load64(p + 8) ^ s);
      p += 16;
      rest -= 16;
    }
    a = Load64(p + rest - 16);  // the last 16 bytes, overlapping what was absorbed
    b = Load64(p + rest - 8);
  }
  return FoldedMultiply(FoldedMultiply(a ^ kK1, b ^ s) ^ kK2, uint64_t{len} ^ kK3);
}

/// Hashes one 64-bit word (fixed-width values are widened to 64 bits first).
inline uint64_t HashWord(uint64_t v) {
  return hash_internal::FoldedMultiply(v ^ hash_internal::kK0, hash_internal::kK4);
}

/// Mixes the hash `v` of a further key column into the running hash `h`. Order-dependent:
/// HashCombine(a, b) != HashCombine(b, a) in general.
inline uint64_t HashCombine(uint64_t h, uint64_t v) {
  return hash_internal::FoldedMultiply(h ^ hash_internal::kK2, v ^ hash_internal::kK3);
}

/// Hashes rows [0, n) of `col` into hashes[0..n): with combine == false it writes the column's
/// hashes, with combine == true it folds them into the hashes already there (HashCombine), so
/// a multi-column key is hashed by one call per column, first with combine = false.
/// Fixed-width values hash by value (BOOLEAN, INT widened to BIGINT, DOUBLE canonicalized),
/// VARCHAR by its bytes, NULL rows to kNullHash, a constant column's one value for every row.
/// One type switch per call; the loops inside are specialized for validity and combine.
/// Requires n <= col.length().
void HashColumn(const Column& col, int64_t n, bool combine, uint64_t* hashes);

}  // namespace weir
