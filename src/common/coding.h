// Fixed-width little-endian fields at unaligned addresses (one instruction each on x86-64, via
// memcpy): Load*/Store* read and write in place; PutU32/PutU64 append to a byte string. Shared
// by the durable formats (WAL, checkpoints) and the in-memory record layouts (join and Top-N
// arenas, hash tables). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace weir {

inline uint32_t LoadU32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t LoadU64(const void* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline int64_t LoadI64(const void* p) {
  int64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline void StoreU32(void* p, uint32_t v) { std::memcpy(p, &v, 4); }
inline void StoreU64(void* p, uint64_t v) { std::memcpy(p, &v, 8); }
inline void StoreI64(void* p, int64_t v) { std::memcpy(p, &v, 8); }

inline void PutU32(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }
inline void PutU64(std::string* out, uint64_t v) { out->append(reinterpret_cast<const char*>(&v), 8); }

}  // namespace weir
