#include "state/hash_table.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <new>
#include <utility>

#include <sys/mman.h>

#include "common/coding.h"
#include "state/bytes.h"

namespace weir {
namespace {

using state_internal::BytesEqual;
using state_internal::CopyBytes;

inline uint32_t RoundUp8(uint32_t v) { return (v + 7) & ~uint32_t{7}; }

}  // namespace

// ---- construction ---------------------------------------------------------------------------

HashTable::HashTable(uint32_t payload_bytes, uint32_t fixed_key_bytes)
    : payload_bytes_(RoundUp8(payload_bytes)), fixed_key_bytes_(fixed_key_bytes) {
  WEIR_CHECK(fixed_key_bytes <= (1u << 20));  // a fixed key lives in the slot
  payload_offset_ = fixed_key_bytes_ != 0 ? RoundUp8(kTagBytes + fixed_key_bytes_)
                                          : kVarInlineOffset + kInlineKeyBytesMax;
  slot_bytes_ = payload_offset_ + payload_bytes_;
  Rehash(kMinCapacity);
}

HashTable::~HashTable() { FreeSlots(); }

void HashTable::FreeSlots() {
  std::free(slots_);
  slots_ = nullptr;
  slots_bytes_ = 0;
}

HashTable::HashTable(HashTable&& o) noexcept
    : payload_bytes_(o.payload_bytes_),
      fixed_key_bytes_(o.fixed_key_bytes_),
      payload_offset_(o.payload_offset_),
      slot_bytes_(o.slot_bytes_),
      slots_(std::exchange(o.slots_, nullptr)),
      slots_bytes_(std::exchange(o.slots_bytes_, 0)),
      capacity_(std::exchange(o.capacity_, 0)),
      mask_(std::exchange(o.mask_, 0)),
      size_(std::exchange(o.size_, 0)),
      size_max_(std::exchange(o.size_max_, 0)),
      arena_(std::move(o.arena_)),
      arena_dead_bytes_(std::exchange(o.arena_dead_bytes_, 0)) {}

HashTable& HashTable::operator=(HashTable&& o) noexcept {
  if (this != &o) {
    FreeSlots();
    payload_bytes_ = o.payload_bytes_;
    fixed_key_bytes_ = o.fixed_key_bytes_;
    payload_offset_ = o.payload_offset_;
    slot_bytes_ = o.slot_bytes_;
    slots_ = std::exchange(o.slots_, nullptr);
    slots_bytes_ = std::exchange(o.slots_bytes_, 0);
    capacity_ = std::exchange(o.capacity_, 0);
    mask_ = std::exchange(o.mask_, 0);
    size_ = std::exchange(o.size_, 0);
    size_max_ = std::exchange(o.size_max_, 0);
    arena_ = std::move(o.arena_);
    arena_dead_bytes_ = std::exchange(o.arena_dead_bytes_, 0);
  }
  return *this;
}

// ---- probing --------------------------------------------------------------------------------

template <bool kFixed>
inline uint8_t* HashTable::Probe(const uint8_t* key, uint32_t len, uint32_t tag,
                                 size_t* index) const {
  // Terminates: the load factor stays below 0.7, so an empty slot always exists.
  size_t i = tag & mask_;
  for (;;) {
    uint8_t* s = Slot(i);
    const uint32_t t = LoadU32(s);
    if (t == tag) {
      if constexpr (kFixed) {
        if (BytesEqual(s + kTagBytes, key, fixed_key_bytes_)) {
          *index = i;
          return s;
        }
      } else {
        if (LoadU32(s + kTagBytes) == len && BytesEqual(VarKeyBytes(s, len), key, len)) {
          *index = i;
          return s;
        }
      }
    } else if (t == 0) {
      *index = i;
      return nullptr;
    }
    i = (i + 1) & mask_;
  }
}

template <bool kFixed>
inline uint8_t* HashTable::InsertAt(size_t index, const uint8_t* key, uint32_t len, uint32_t tag) {
  uint8_t* s = Slot(index);
  WEIR_DCHECK(LoadU32(s) == 0);
  StoreU32(s, tag);
  if constexpr (kFixed) {
    CopyBytes(s + kTagBytes, key, fixed_key_bytes_);
  } else {
    StoreU32(s + kTagBytes, len);
    if (len <= kInlineKeyBytesMax) {
      CopyBytes(s + kVarInlineOffset, key, len);
    } else {
      WEIR_CHECK(len <= kKeyBytesMax);
      const uint64_t offset = arena_.size();
      uint8_t header[kArenaHeaderBytes];
      StoreU32(header, tag);
      StoreU32(header + 4, len);
      arena_.Reserve(arena_.size() + kArenaHeaderBytes + len);
      arena_.Append(header, kArenaHeaderBytes);
      arena_.Append(key, len);
      StoreU64(s + kVarInlineOffset, offset);
    }
  }
  ++size_;
  return s;  // the payload is zero already: empty slots are all-zero bytes
}

template <bool kFixed>
inline uint8_t* HashTable::FindOrInsertReserved(const uint8_t* key, uint32_t len, uint64_t hash,
                                                bool* inserted) {
  const uint32_t tag = TagOf(hash);
  size_t index;
  uint8_t* s = Probe<kFixed>(key, len, tag, &index);
  if (s != nullptr) {
    *inserted = false;
    return s + payload_offset_;
  }
  WEIR_CHECK(size_ < size_max_);  // the caller reserved room (else a full table would spin)
  *inserted = true;
  return InsertAt<kFixed>(index, key, len, tag) + payload_offset_;
}

uint8_t* HashTable::FindOrInsert(const uint8_t* key, uint32_t len, uint64_t hash, bool* inserted) {
  const uint32_t tag = TagOf(hash);
  const bool fixed = fixed_key_bytes_ != 0;
  WEIR_DCHECK(!fixed || len == fixed_key_bytes_);
  size_t index;
  uint8_t* s = fixed ? Probe<true>(key, len, tag, &index) : Probe<false>(key, len, tag, &index);
  if (s != nullptr) {
    if (inserted) *inserted = false;
    return s + payload_offset_;
  }
  if (size_ >= size_max_) {  // grow, then find the empty slot the key goes to
    Rehash(capacity_ * 2);
    index = tag & mask_;
    while (LoadU32(Slot(index)) != 0) index = (index + 1) & mask_;
  }
  if (inserted) *inserted = true;
  s = fixed ? InsertAt<true>(index, key, len, tag) : InsertAt<false>(index, key, len, tag);
  return s + payload_offset_;
}

uint8_t* HashTable::Find(const uint8_t* key, uint32_t len, uint64_t hash) const {
  const uint32_t tag = TagOf(hash);
  size_t index;
  uint8_t* s = fixed_key_bytes_ != 0 ? Probe<true>(key, len, tag, &index)
                                     : Probe<false>(key, len, tag, &index);
  return s != nullptr ? s + payload_offset_ : nullptr;
}

// ---- batch paths ----------------------------------------------------------------------------

template <bool kFixed>
void HashTable::FindOrInsertBatchImpl(const KeyEncoder& keys, const uint64_t* hashes, int64_t n,
                                      uint8_t** payloads, uint8_t* inserted) {
  const int64_t ahead = std::min(n, kPrefetchDistance);
  for (int64_t i = 0; i < ahead; ++i) Prefetch(hashes[i]);
  const uint8_t* data = keys.data();
  for (int64_t i = 0; i < n; ++i) {
    if (i + kPrefetchDistance < n) Prefetch(hashes[i + kPrefetchDistance]);
    bool ins;
    if constexpr (kFixed) {
      payloads[i] = FindOrInsertReserved<true>(data + static_cast<size_t>(i) * fixed_key_bytes_,
                                               fixed_key_bytes_, hashes[i], &ins);
    } else {
      payloads[i] = FindOrInsertReserved<false>(keys.key(i), keys.key_len(i), hashes[i], &ins);
    }
    if (inserted) inserted[i] = ins;
  }
}

void HashTable::FindOrInsertBatch(const KeyEncoder& keys, const uint64_t* hashes, int64_t n,
                                  uint8_t** payloads, uint8_t* inserted) {
  WEIR_DCHECK(keys.num_keys() >= n);
  // Room for n new keys up front: no growth inside the loop, so the n payload pointers are
  // valid together.
  Reserve(size_ + static_cast<size_t>(n));
  if (fixed_key_bytes_ != 0) {
    WEIR_CHECK(keys.fixed_key_bytes() == fixed_key_bytes_);
    FindOrInsertBatchImpl<true>(keys, hashes, n, payloads, inserted);
  } else {
    FindOrInsertBatchImpl<false>(keys, hashes, n, payloads, inserted);
  }
}

template <bool kFixed>
void HashTable::FindBatchImpl(const KeyEncoder& keys, const uint64_t* hashes, int64_t n,
                              uint8_t** payloads) const {
  const int64_t ahead = std::min(n, kPrefetchDistance);
  for (int64_t i = 0; i < ahead; ++i) Prefetch(hashes[i]);
  const uint8_t* data = keys.data();
  for (int64_t i = 0; i < n; ++i) {
    if (i + kPrefetchDistance < n) Prefetch(hashes[i + kPrefetchDistance]);
    size_t index;
    uint8_t* s;
    if constexpr (kFixed) {
      s = Probe<true>(data + static_cast<size_t>(i) * fixed_key_bytes_, fixed_key_bytes_,
                      TagOf(hashes[i]), &index);
    } else {
      s = Probe<false>(keys.key(i), keys.key_len(i), TagOf(hashes[i]), &index);
    }
    payloads[i] = s != nullptr ? s + payload_offset_ : nullptr;
  }
}

void HashTable::FindBatch(const KeyEncoder& keys, const uint64_t* hashes, int64_t n,
                          uint8_t** payloads) const {
  WEIR_DCHECK(keys.num_keys() >= n);
  if (fixed_key_bytes_ != 0) {
    WEIR_CHECK(keys.fixed_key_bytes() == fixed_key_bytes_);
    FindBatchImpl<true>(keys, hashes, n, payloads);
  } else {
    FindBatchImpl<false>(keys, hashes, n, payloads);
  }
}

// ---- erase ----------------------------------------------------------------------------------

void HashTable::RemoveAt(size_t hole) {
  // Knuth, TAOCP vol. 3 §6.4, Algorithm R (deletion with linear probing): walk the run after
  // the hole; an entry whose home slot is not cyclically within (hole, j] may move back into
  // the hole, which then moves to j. The run ends at an empty slot.
  size_t j = hole;
  for (;;) {
    j = (j + 1) & mask_;
    uint8_t* s = Slot(j);
    const uint32_t t = LoadU32(s);
    if (t == 0) break;
    const size_t home = t & mask_;
    const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
    if (!stays) {
      std::memcpy(Slot(hole), s, slot_bytes_);
      hole = j;
    }
  }
  std::memset(Slot(hole), 0, slot_bytes_);  // keep the all-zero empty-slot invariant
}

void HashTable::MarkKeyDead(uint8_t* s, uint32_t len) {
  if (fixed_key_bytes_ != 0 || len <= kInlineKeyBytesMax) return;
  uint8_t* record = arena_.data() + LoadU64(s + kVarInlineOffset);
  StoreU32(record + 4, LoadU32(record + 4) | kDeadBit);
  arena_dead_bytes_ += kArenaHeaderBytes + len;
}

bool HashTable::Erase(const uint8_t* key, uint32_t len, uint64_t hash) {
  const uint32_t tag = TagOf(hash);
  const bool fixed = fixed_key_bytes_ != 0;
  size_t index;
  uint8_t* s = fixed ? Probe<true>(key, len, tag, &index) : Probe<false>(key, len, tag, &index);
  if (s == nullptr) return false;
  MarkKeyDead(s, len);
  RemoveAt(index);
  --size_;
  if (arena_dead_bytes_ >= kArenaCompactMinBytes && arena_dead_bytes_ * 2 > arena_.size()) {
    CompactArena();
  }
  return true;
}

void HashTable::CompactArena() {
  // Sliding compaction in address order: live records move down over dead ones; the single
  // slot that refers to a moved record is found by probing from the record's tag for the slot
  // holding its old offset (it is in that probe run — the linear-probing invariant).
  uint8_t* a = arena_.data();
  const size_t end = arena_.size();
  size_t read = 0, write = 0;
  while (read < end) {
    const uint32_t tag = LoadU32(a + read);
    const uint32_t len_and_flag = LoadU32(a + read + 4);
    const uint32_t len = len_and_flag & ~kDeadBit;
    const size_t record_bytes = kArenaHeaderBytes + len;
    if ((len_and_flag & kDeadBit) == 0) {
      if (write != read) {
        size_t i = tag & mask_;
        for (size_t steps = 0;; ++steps) {
          uint8_t* s = Slot(i);
          const uint32_t t = LoadU32(s);
          WEIR_CHECK(t != 0 && steps < capacity_);  // the referring slot must exist
          if (t == tag && LoadU32(s + kTagBytes) == len && LoadU64(s + kVarInlineOffset) == read) {
            StoreU64(s + kVarInlineOffset, write);
            break;
          }
          i = (i + 1) & mask_;
        }
        std::memmove(a + write, a + read, record_bytes);
      }
      write += record_bytes;
    }
    read += record_bytes;
  }
  arena_.Resize(write);
  arena_dead_bytes_ = 0;
  // Return memory when live keys use under a quarter of the arena (hysteresis: a churning
  // table that compacts at half dead never shrinks and regrows).
  const size_t floor_bytes = 16 * kArenaCompactMinBytes;
  if (arena_.capacity() > floor_bytes && arena_.capacity() / 4 > write) {
    Buffer smaller;
    smaller.Reserve(std::max(write * 2, floor_bytes));
    smaller.Append(arena_.data(), write);
    arena_ = std::move(smaller);
  }
}

// ---- capacity -------------------------------------------------------------------------------

void HashTable::Reserve(size_t keys) {
  if (keys <= size_max_) return;
  size_t capacity = capacity_;
  while (capacity * kLoadNum / kLoadDen < keys) capacity *= 2;
  Rehash(capacity);
}

/// Allocates a zero-filled slot array of `bytes` (rounded up to 64); returns its size in
/// *allocated. Arrays of at least kHugePageBytes start on a huge-page boundary and their whole
/// huge pages are advised as such (Linux transparent huge pages): a lookup in a table larger
/// than the caches then costs one cache miss instead of a miss plus a page walk, since 4 KiB
/// pages would need far more TLB entries than the CPU has (measured: 1 M BIGINT keys, batch
/// update ≈ 23 -> 18 ns/row). The size is not padded to whole huge pages — that would waste up
/// to half of a 3 MiB shard — so a tail under 2 MiB stays on small pages. Without THP the
/// advice is a no-op.
static uint8_t* AllocateSlots(size_t bytes, size_t* allocated, bool zero = true) {
  constexpr size_t kHugePageBytes = size_t{2} << 20;
  bytes = (bytes + 63) & ~size_t{63};
  const size_t align = bytes >= kHugePageBytes ? kHugePageBytes : 64;
  void* p = nullptr;
  if (posix_memalign(&p, align, bytes) != 0) throw std::bad_alloc();  // OOM ends the process
#ifdef MADV_HUGEPAGE
  if (align == kHugePageBytes) {
    madvise(p, bytes & ~(kHugePageBytes - 1), MADV_HUGEPAGE);  // advice only; errors ignored
  }
#endif
  if (zero) std::memset(p, 0, bytes);
  *allocated = bytes;
  return static_cast<uint8_t*>(p);
}

void HashTable::Rehash(size_t new_capacity) {
  WEIR_CHECK(new_capacity <= kCapacityMax && std::has_single_bit(new_capacity));
  size_t bytes;
  uint8_t* fresh = AllocateSlots(new_capacity * slot_bytes_, &bytes);
  const size_t new_mask = new_capacity - 1;
  for (size_t i = 0; i < capacity_; ++i) {
    const uint8_t* s = Slot(i);
    const uint32_t t = LoadU32(s);
    if (t == 0) continue;
    size_t j = t & new_mask;
    while (LoadU32(fresh + j * slot_bytes_) != 0) j = (j + 1) & new_mask;
    std::memcpy(fresh + j * slot_bytes_, s, slot_bytes_);
  }
  FreeSlots();
  slots_ = fresh;
  slots_bytes_ = bytes;
  capacity_ = new_capacity;
  mask_ = new_mask;
  size_max_ = new_capacity * kLoadNum / kLoadDen;
}

void HashTable::Clear() {
  std::memset(slots_, 0, capacity_ * slot_bytes_);
  size_ = 0;
  arena_.Clear();
  arena_dead_bytes_ = 0;
}

double HashTable::AverageProbeLength() const {
  if (size_ == 0) return 0;
  size_t total = 0;
  for (size_t i = 0; i < capacity_; ++i) {
    const uint32_t t = LoadU32(Slot(i));
    if (t != 0) total += ((i - (t & mask_)) & mask_) + 1;
  }
  return static_cast<double>(total) / static_cast<double>(size_);
}

// ---- checkpoints ----------------------------------------------------------------------------

/// A fingerprint of the hash functions (HashColumn over every key type, NULLs, combining):
/// slot positions and tags derive from hashes, so a table is only valid for the hash it was
/// built with. A snapshot records it; a build whose hashing differs refuses the state rather
/// than look keys up in the wrong slots.
uint64_t HashTable::HashFingerprint() {
  static const uint64_t fingerprint = [] {
    const DataType types[] = {DataType::Boolean(), DataType::Int32(),     DataType::Int64(),
                              DataType::Double(),  DataType::Decimal(12, 2), DataType::Varchar(),
                              DataType::Timestamp(), DataType::IntervalType()};
    uint64_t hashes[3] = {1, 2, 3};
    for (const DataType& t : types) {
      Column c(t);
      for (int i = 0; i < 2; ++i) {
        if (t.id == TypeId::kVarchar) {
          c.AppendString(i == 0 ? "fingerprint" : "a longer string for the key arena fingerprint");
        } else if (t.id == TypeId::kInterval) {
          c.Append<Interval>(Interval{1 + i, 2, 3});
        } else if (t.byte_width() == 8) {
          c.Append<int64_t>(0x123456789LL + i);
        } else if (t.byte_width() == 4) {
          c.Append<int32_t>(-7 - i);
        } else {
          c.Append<uint8_t>(static_cast<uint8_t>(i));
        }
      }
      c.AppendNull();
      HashColumn(c, 3, true, hashes);
    }
    return hashes[0] ^ HashCombine(hashes[1], hashes[2]) ^ HashBytes("weir", 4);
  }();
  return fingerprint;
}

void HashTable::Snapshot(StateWriter* w, const std::function<void(uint8_t* payload)>& scrub) const {
  w->Begin("hash_table");
  w->U64(HashFingerprint());
  w->U32(payload_bytes_);
  w->U32(fixed_key_bytes_);
  w->U64(capacity_);
  w->U64(size_);
  w->U64(arena_dead_bytes_);
  const size_t slot_span = capacity_ * slot_bytes_;
  w->U64(slot_span);
  if (!scrub) {
    w->Raw(slots_, slot_span);
  } else {
    uint8_t* copy = w->RawCopy(slots_, slot_span);
    for (size_t i = 0; i < capacity_; ++i) {
      uint8_t* s = copy + i * slot_bytes_;
      if (LoadU32(s) != 0) scrub(s + payload_offset_);
    }
  }
  w->Bytes(arena_.data(), arena_.size());
  w->End();
}

Status HashTable::Restore(StateReader* r) {
  r->Begin("hash_table");
  const uint64_t fingerprint = r->U64();
  if (r->ok() && fingerprint != HashFingerprint()) {
    r->Fail("hash table written with different hash functions (another Weir version); cannot restore it");
    return r->status();
  }
  const uint32_t payload_bytes = r->U32();
  const uint32_t fixed_key_bytes = r->U32();
  const uint64_t capacity = r->U64();
  const uint64_t size = r->U64();
  const uint64_t dead_bytes = r->U64();
  const uint64_t slot_span = r->U64();
  if (!r->ok()) return r->status();
  if (payload_bytes != payload_bytes_ || fixed_key_bytes != fixed_key_bytes_) {
    r->Fail(fmt::format("hash table layout differs: payload {} / key {} bytes, expected {} / {}", payload_bytes,
                        fixed_key_bytes, payload_bytes_, fixed_key_bytes_));
    return r->status();
  }
  if (capacity < kMinCapacity || capacity > kCapacityMax || !std::has_single_bit(capacity) ||
      size > capacity * kLoadNum / kLoadDen || slot_span != capacity * slot_bytes_) {
    r->Fail(fmt::format("hash table shape invalid: capacity {}, size {}, slot bytes {}", capacity, size, slot_span));
    return r->status();
  }
  std::string_view slots = r->Raw(slot_span);
  std::string_view arena = r->Bytes();
  r->End();
  if (!r->ok()) return r->status();
  const auto* src = reinterpret_cast<const uint8_t*>(slots.data());
  const auto* a = reinterpret_cast<const uint8_t*>(arena.data());

  // Arena records: in bounds, dead bytes as recorded; live record offsets (ascending).
  std::vector<uint64_t> live;
  uint64_t dead = 0;
  for (size_t pos = 0; pos < arena.size();) {
    if (arena.size() - pos < kArenaHeaderBytes) {
      r->Fail("hash table key arena: truncated record header");
      return r->status();
    }
    const uint32_t len_and_flag = LoadU32(a + pos + 4);
    const uint64_t bytes = uint64_t{kArenaHeaderBytes} + (len_and_flag & ~kDeadBit);
    if (bytes > arena.size() - pos || (len_and_flag & ~kDeadBit) <= kInlineKeyBytesMax) {
      r->Fail("hash table key arena: invalid record");
      return r->status();
    }
    if (len_and_flag & kDeadBit) {
      dead += bytes;
    } else {
      live.push_back(pos);
    }
    pos += bytes;
  }
  if (dead != dead_bytes || (fixed_key_bytes_ != 0 && !arena.empty())) {
    r->Fail("hash table key arena: dead byte count differs");
    return r->status();
  }
  // Slots: occupied count, all-zero empty slots, keys in range.
  std::vector<uint8_t> referenced(live.size(), 0);
  size_t occupied = 0;
  for (size_t i = 0; i < capacity; ++i) {
    const uint8_t* s = src + i * slot_bytes_;
    const uint32_t tag = LoadU32(s);
    if (tag == 0) {
      uint64_t bits = 0;  // slot_bytes_ is a multiple of 8
      for (uint32_t b = 0; b < slot_bytes_; b += 8) bits |= LoadU64(s + b);
      if (bits != 0) {
        r->Fail(fmt::format("hash table: empty slot {} is not zero", i));
        return r->status();
      }
      continue;
    }
    ++occupied;
    if (fixed_key_bytes_ != 0) continue;
    const uint32_t len = LoadU32(s + kTagBytes);
    if (len <= kInlineKeyBytesMax) continue;
    const uint64_t off = LoadU64(s + kVarInlineOffset);
    auto it = std::lower_bound(live.begin(), live.end(), off);
    const size_t k = static_cast<size_t>(it - live.begin());
    if (it == live.end() || *it != off || referenced[k] || LoadU32(a + off) != tag || LoadU32(a + off + 4) != len) {
      r->Fail(fmt::format("hash table: slot {} refers to an invalid key record", i));
      return r->status();
    }
    referenced[k] = 1;
  }
  if (occupied != size || std::count(referenced.begin(), referenced.end(), 1) != static_cast<std::ptrdiff_t>(live.size())) {
    r->Fail("hash table: occupied slots or key records do not match the size");
    return r->status();
  }
  // Valid: replace the contents.
  size_t bytes;
  uint8_t* fresh = AllocateSlots(slot_span, &bytes, /*zero=*/false);
  std::memcpy(fresh, src, slot_span);
  std::memset(fresh + slot_span, 0, bytes - slot_span);
  FreeSlots();
  slots_ = fresh;
  slots_bytes_ = bytes;
  capacity_ = capacity;
  mask_ = capacity - 1;
  size_ = size;
  size_max_ = capacity * kLoadNum / kLoadDen;
  arena_.Clear();
  arena_.Append(a, arena.size());
  arena_dead_bytes_ = dead_bytes;
  return Status::OK();
}

// ---- ShardedHashTable -----------------------------------------------------------------------

ShardedHashTable::ShardedHashTable(uint32_t payload_bytes, uint32_t fixed_key_bytes,
                                   uint32_t num_shards) {
  WEIR_CHECK(num_shards >= 1 && num_shards <= kShardsMax && std::has_single_bit(num_shards));
  const int bits = std::countr_zero(num_shards);
  // With one shard, (hash >> 63) & 0 == 0; otherwise the top `bits` bits pick the shard.
  shard_shift_ = bits == 0 ? 63 : static_cast<uint32_t>(64 - bits);
  shard_mask_ = num_shards - 1;
  shards_.reserve(num_shards);
  for (uint32_t i = 0; i < num_shards; ++i) shards_.emplace_back(payload_bytes, fixed_key_bytes);
  rows_per_shard_.assign(num_shards, 0);
}

template <bool kFixed>
void ShardedHashTable::FindOrInsertBatchImpl(const KeyEncoder& keys, const uint64_t* hashes,
                                             int64_t n, uint8_t** payloads, uint8_t* inserted) {
  constexpr int64_t kAhead = HashTable::kPrefetchDistance;
  for (int64_t i = 0; i < std::min(n, kAhead); ++i) {
    shards_[ShardOf(hashes[i])].Prefetch(hashes[i]);
  }
  const uint32_t key_bytes = shards_[0].fixed_key_bytes();
  for (int64_t i = 0; i < n; ++i) {
    if (i + kAhead < n) shards_[ShardOf(hashes[i + kAhead])].Prefetch(hashes[i + kAhead]);
    HashTable& t = shards_[ShardOf(hashes[i])];
    bool ins;
    if constexpr (kFixed) {
      payloads[i] = t.FindOrInsertReserved<true>(keys.data() + static_cast<size_t>(i) * key_bytes,
                                                 key_bytes, hashes[i], &ins);
    } else {
      payloads[i] = t.FindOrInsertReserved<false>(keys.key(i), keys.key_len(i), hashes[i], &ins);
    }
    if (inserted) inserted[i] = ins;
  }
}

void ShardedHashTable::FindOrInsertBatch(const KeyEncoder& keys, const uint64_t* hashes, int64_t n,
                                         uint8_t** payloads, uint8_t* inserted) {
  if (shards_.size() == 1) {
    shards_[0].FindOrInsertBatch(keys, hashes, n, payloads, inserted);
    return;
  }
  WEIR_DCHECK(keys.num_keys() >= n);
  std::fill(rows_per_shard_.begin(), rows_per_shard_.end(), 0);
  for (int64_t i = 0; i < n; ++i) ++rows_per_shard_[ShardOf(hashes[i])];
  for (size_t s = 0; s < shards_.size(); ++s) {
    if (rows_per_shard_[s] != 0) shards_[s].Reserve(shards_[s].size() + rows_per_shard_[s]);
  }
  if (shards_[0].fixed_key_bytes() != 0) {
    WEIR_CHECK(keys.fixed_key_bytes() == shards_[0].fixed_key_bytes());
    FindOrInsertBatchImpl<true>(keys, hashes, n, payloads, inserted);
  } else {
    FindOrInsertBatchImpl<false>(keys, hashes, n, payloads, inserted);
  }
}

void ShardedHashTable::FindBatch(const KeyEncoder& keys, const uint64_t* hashes, int64_t n,
                                 uint8_t** payloads) const {
  if (shards_.size() == 1) {
    shards_[0].FindBatch(keys, hashes, n, payloads);
    return;
  }
  constexpr int64_t kAhead = HashTable::kPrefetchDistance;
  for (int64_t i = 0; i < std::min(n, kAhead); ++i) {
    shards_[ShardOf(hashes[i])].Prefetch(hashes[i]);
  }
  for (int64_t i = 0; i < n; ++i) {
    if (i + kAhead < n) shards_[ShardOf(hashes[i + kAhead])].Prefetch(hashes[i + kAhead]);
    payloads[i] = shards_[ShardOf(hashes[i])].Find(keys.key(i), keys.key_len(i), hashes[i]);
  }
}

size_t ShardedHashTable::size() const {
  size_t n = 0;
  for (const HashTable& t : shards_) n += t.size();
  return n;
}

size_t ShardedHashTable::MemoryBytes() const {
  size_t n = 0;
  for (const HashTable& t : shards_) n += t.MemoryBytes();
  return n;
}

void ShardedHashTable::Clear() {
  for (HashTable& t : shards_) t.Clear();
}

}  // namespace weir
