// HashTable and ShardedHashTable: the in-memory keyed state store behind streaming GROUP BY and
// window aggregation. For every input row the aggregation operator finds (or creates) the
// state of the row's group key and updates its accumulators in place, with no heap allocation
// per row.
//
// Contract.
// - Keys are byte strings (normally made by KeyEncoder) with a caller-supplied 64-bit hash
//   (normally from HashColumn); the caller must pass the same hash for equal keys every time.
//   The table uses the low 32 bits (slot index + stored tag); ShardedHashTable uses the top
//   bits to pick a shard, so the two stay independent.
// - Each key owns a payload of payload_bytes (rounded up to a multiple of 8, 8-aligned),
//   zero-filled on insert, that the caller interprets (accumulators).
// - Ownership: the table owns its slot array and its key arena and frees them on destruction.
//   Move-only.
// - Invalidation: payload pointers and the key pointers handed to ForEach stay valid until the
//   next call that may insert, erase or clear — FindOrInsert, FindOrInsertBatch, Reserve,
//   Erase, Clear, CompactArena. Only growth moves entries on insert, and FindOrInsertBatch
//   reserves room for all n rows before it starts, so the n pointers one batch call returns
//   are valid together (the operator updates accumulators column by column after the call,
//   then re-fetches for the next batch). Find/FindBatch/ForEach invalidate nothing.
// - Thread-safety: none. A table has one owner thread; ShardedHashTable exists so that a later
//   runtime can give each shard to its own core (exchange rows by hash), not for sharing.
// - Memory accounting: MemoryBytes() is what the table holds — the slot array (capacity × slot
//   bytes, rounded up to 64) plus the key arena's capacity — not what it uses. Capacity only
//   grows (doubling at load 0.7); Clear() keeps capacity and arena, so a table reused for the
//   next window never allocates.
//   Allocation failure ends the process (std::bad_alloc), as everywhere in Weir; an operator
//   that must bound its state checks MemoryBytes() against its budget between batches.
// - Limits: ≤ 2^31 slots per table (≈ 1.5 G keys), a key ≤ 2^31 − 1 bytes (checked).
//
// Layout. Open addressing with linear probing over one array of fixed-size slots,
// power-of-two capacity, maximum load 0.7 (Knuth, TAOCP vol. 3 §6.4, Algorithm L; expected
// probes at load α: ½(1 + 1/(1−α)) for a hit, ½(1 + 1/(1−α)²) for a miss). A slot is
//   fixed-width keys:    [tag u32][key: fixed_key_bytes][pad to 8][payload]
//   variable-length keys:[tag u32][len u32][16 bytes: the key inline if len ≤ 16,
//                         else its arena offset u64][payload]
// The tag is the low 32 bits of the hash (0 is remapped to 1; tag 0 marks an empty slot), so
// growth rehashes without the keys and a probe compares keys only when the tags match (a false
// match needs 32 − log2(capacity) equal bits). Fixed-width keys — the common case, e.g. 9
// bytes for one BIGINT — live in the slot: one cache miss per lookup. Variable-length keys
// of up to 16 bytes (a 10-byte VARCHAR encodes to 15) live in the slot too ("short string"
// inlining, as in Umbra's German strings — Neumann & Freitag, CIDR 2020); longer ones in the
// arena. Every empty slot is all-zero bytes (an invariant kept by Erase and Clear), so an
// insert writes only tag and key: the payload is already zero.
//
// Erase uses backward-shift deletion (Knuth, TAOCP vol. 3 §6.4, Algorithm R): later entries of
// the probe run move back into the hole, so there are no tombstones and probe lengths never
// degrade under erase-heavy workloads.
//
// Key arena (variable-length keys longer than 16 bytes). Records are appended as
// [tag u32][len u32, top bit = dead][key bytes]. Erase marks its record dead. When more than
// half of the arena is dead (and at least kArenaCompactMinBytes), Erase compacts it in place,
// in address order, with no allocation (a sliding compaction, as in mark-compact collectors):
// each live record moves down and the one slot that refers to it — found by probing from the
// record's tag — gets its new offset. Compaction keeps the capacity for later keys; when live
// data has fallen below a quarter of the capacity it moves to a smaller buffer, returning
// memory. Clear() empties the arena, keeping its capacity.
//
// Batch path. FindOrInsertBatch and FindBatch prefetch the home slot of row i + D while
// probing row i (D = kPrefetchDistance = 24 ≈ memory latency / in-cache cost per row, measured
// with bench/state_bench.cc), so the cache misses of D rows overlap; with 1 M keys the table
// is larger than the last-level cache and the single-row path pays most of a memory latency
// per lookup. The probe and key compare are specialized once per call (fixed vs variable keys),
// never per row. Slot arrays of 2 MiB and more are placed on transparent huge pages
// (madvise), which removes the page walk from each random access.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

#include "batch/buffer.h"
#include "common/coding.h"
#include "common/status.h"
#include "state/hash.h"
#include "state/key_encoder.h"
#include "state/snapshot.h"

namespace weir {

class ShardedHashTable;

/// Prefetches the cache line holding `p` into every cache level. On x86-64 an asm statement:
/// GCC 12 at -O2 deletes __builtin_prefetch from the batch loops of hash_table.cc (its tree
/// dead-code elimination treats the builtin as free of side effects; found by reading the
/// generated code — with -fno-tree-dce the prefetches reappear), which silently turned the
/// prefetching batch path into the plain one. An asm volatile statement cannot be deleted.
inline void PrefetchLine(const void* p) {
#if defined(__x86_64__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p, 0, 3);
#endif
}

class HashTable {
 public:
  static constexpr size_t kMinCapacity = 16;
  static constexpr size_t kCapacityMax = size_t{1} << 31;
  /// Grow when an insert would push size above capacity × kLoadNum / kLoadDen (0.7).
  static constexpr size_t kLoadNum = 7;
  static constexpr size_t kLoadDen = 10;
  /// Variable-length keys up to this many bytes are stored in the slot.
  static constexpr uint32_t kInlineKeyBytesMax = 16;
  static constexpr size_t kArenaCompactMinBytes = 4096;
  /// Rows the batch path prefetches ahead (tuned with bench/state_bench.cc).
  static constexpr int64_t kPrefetchDistance = 24;
  static constexpr uint32_t kKeyBytesMax = 0x7fffffff;

  /// `payload_bytes` per key (rounded up to 8); `fixed_key_bytes` > 0 for keys of exactly that
  /// length (stored in the slot), 0 for variable-length keys. Allocates kMinCapacity slots.
  HashTable(uint32_t payload_bytes, uint32_t fixed_key_bytes);
  ~HashTable();
  HashTable(HashTable&& other) noexcept;
  HashTable& operator=(HashTable&& other) noexcept;
  HashTable(const HashTable&) = delete;
  HashTable& operator=(const HashTable&) = delete;

  /// Returns the payload of `key`, inserting it with a zero-filled payload if absent;
  /// *inserted (if non-null) tells which. `len` must equal fixed_key_bytes() for a fixed table.
  uint8_t* FindOrInsert(const uint8_t* key, uint32_t len, uint64_t hash, bool* inserted);
  /// The payload of `key`, or nullptr if absent.
  uint8_t* Find(const uint8_t* key, uint32_t len, uint64_t hash) const;
  /// Removes `key`; returns whether it was present. May compact the arena (see above).
  bool Erase(const uint8_t* key, uint32_t len, uint64_t hash);

  /// payloads[i] = FindOrInsert(keys.key(i), keys.key_len(i), hashes[i]) for i in [0, n);
  /// inserted[i] (if non-null) = 1 for a new key, else 0. Equal keys within the batch get the
  /// same payload (the first inserts, the rest find). All n pointers are valid together.
  void FindOrInsertBatch(const KeyEncoder& keys, const uint64_t* hashes, int64_t n,
                         uint8_t** payloads, uint8_t* inserted);
  /// payloads[i] = Find(keys.key(i), keys.key_len(i), hashes[i]) for i in [0, n).
  void FindBatch(const KeyEncoder& keys, const uint64_t* hashes, int64_t n,
                 uint8_t** payloads) const;

  /// Ensures `keys` keys fit without growing.
  void Reserve(size_t keys);
  /// Removes every key; keeps capacity and arena capacity (no allocation, O(capacity)).
  void Clear();

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  size_t capacity() const { return capacity_; }
  uint32_t payload_bytes() const { return payload_bytes_; }
  uint32_t fixed_key_bytes() const { return fixed_key_bytes_; }
  /// Bytes held: slots plus arena capacity.
  size_t MemoryBytes() const { return slots_bytes_ + arena_.capacity(); }
  /// Arena bytes in use (live + dead records) and dead bytes awaiting compaction.
  size_t arena_bytes() const { return arena_.size(); }
  size_t arena_dead_bytes() const { return arena_dead_bytes_; }
  /// Compacts the key arena now (Erase does it by itself when more than half is dead).
  void CompactArena();

  /// Calls f(const uint8_t* key, uint32_t len, uint8_t* payload) for every key, in unspecified
  /// order. `f` must not insert, erase or clear.
  template <typename F>
  void ForEach(F&& f) const {
    for (size_t i = 0; i < capacity_; ++i) {
      uint8_t* s = slots_ + i * slot_bytes_;
      if (LoadU32(s) == 0) continue;
      if (fixed_key_bytes_ != 0) {
        f(static_cast<const uint8_t*>(s + kTagBytes), fixed_key_bytes_, s + payload_offset_);
      } else {
        const uint32_t len = LoadU32(s + kTagBytes);
        f(VarKeyBytes(s, len), len, s + payload_offset_);
      }
    }
  }

  /// Calls erase(const uint8_t* key, uint32_t len, uint8_t* payload) for every key and removes
  /// the keys for which it returns true. `erase` may see a kept key twice (entries move during
  /// removal), so it must be idempotent for keys it keeps. O(capacity); no allocation.
  template <typename F>
  void EraseIf(F&& erase) {
    const bool fixed = fixed_key_bytes_ != 0;
    size_t erased = 0;
    for (size_t i = 0; i < capacity_;) {
      uint8_t* s = slots_ + i * slot_bytes_;
      if (LoadU32(s) == 0) {
        ++i;
        continue;
      }
      const uint32_t len = fixed ? fixed_key_bytes_ : LoadU32(s + kTagBytes);
      const uint8_t* key = fixed ? static_cast<const uint8_t*>(s + kTagBytes) : VarKeyBytes(s, len);
      if (!erase(key, len, s + payload_offset_)) {
        ++i;
        continue;
      }
      MarkKeyDead(s, len);
      RemoveAt(i);  // a later entry may move into slot i: look at it again
      --size_;
      ++erased;
    }
    if (erased && arena_dead_bytes_ >= kArenaCompactMinBytes && arena_dead_bytes_ * 2 > arena_.size()) {
      CompactArena();
    }
  }

  /// Hints the CPU to fetch the home slot of `hash` (used by the batch paths): its first and
  /// last byte, as a slot may straddle two cache lines.
  void Prefetch(uint64_t hash) const {
    const uint8_t* s = slots_ + (TagOf(hash) & mask_) * slot_bytes_;
    PrefetchLine(s);
    PrefetchLine(s + slot_bytes_ - 1);
  }

  /// Checkpoints (docs/operator-state.md). Snapshot writes a "hash_table" section: the layout
  /// parameters, then the slot array and the key arena as two raw spans (no per-key work), so
  /// a table whose slots did not change produces identical bytes. The payloads are copied as
  /// they are: a caller whose payloads hold pointers passes `scrub`, called on the *written
  /// copy* of every occupied slot's payload (in slot order) to zero those bytes, and writes the
  /// pointed-to data itself afterwards (ForEach visits the same slot order after Restore).
  /// Memory: the writer's buffer grows by capacity × slot bytes + arena bytes.
  void Snapshot(StateWriter* w, const std::function<void(uint8_t* payload)>& scrub = {}) const;
  /// Replaces the contents with a snapshot of a table with the same payload_bytes and
  /// fixed_key_bytes and the same hash functions (HashFingerprint); the result is structurally identical (same capacity, same slot of every
  /// key, same arena offsets). Validates before changing anything: sizes against the bytes
  /// present, a power-of-two capacity, size under the load limit, occupied slots == size,
  /// empty slots all-zero, every out-of-line key a distinct live arena record with its tag and
  /// length, arena records in bounds and the dead-byte count. (A key in a wrong probe run is
  /// not detected: it is simply not found.) Errors: the reader's kDataError; on error the
  /// table is unchanged.
  Status Restore(StateReader* r);
  /// Fingerprint of HashColumn / HashBytes, stored in every snapshot: hashes are not stable
  /// across versions (README), and a table's slots are only valid for the hash that placed them.
  static uint64_t HashFingerprint();

  /// Average probe length (slots inspected) of a successful lookup of every present key; a
  /// diagnostic for hash quality (≈ 1.5 at load 0.5 with a good hash). O(capacity).
  double AverageProbeLength() const;

 private:
  friend class ShardedHashTable;
  static constexpr uint32_t kTagBytes = 4;
  static constexpr uint32_t kVarInlineOffset = 8;  // tag + len
  static constexpr uint32_t kArenaHeaderBytes = 8;
  static constexpr uint32_t kDeadBit = 0x80000000u;

  static uint32_t TagOf(uint64_t hash) {
    const uint32_t t = static_cast<uint32_t>(hash);
    return t | static_cast<uint32_t>(t == 0);
  }
  uint8_t* Slot(size_t i) const { return slots_ + i * slot_bytes_; }
  const uint8_t* VarKeyBytes(const uint8_t* slot, uint32_t len) const {
    return len <= kInlineKeyBytesMax
               ? slot + kVarInlineOffset
               : arena_.data() + LoadU64(slot + kVarInlineOffset) + kArenaHeaderBytes;
  }

  template <bool kFixed>
  uint8_t* Probe(const uint8_t* key, uint32_t len, uint32_t tag, size_t* index) const;
  template <bool kFixed>
  uint8_t* InsertAt(size_t index, const uint8_t* key, uint32_t len, uint32_t tag);
  /// FindOrInsert without the growth check: the caller has reserved room.
  template <bool kFixed>
  uint8_t* FindOrInsertReserved(const uint8_t* key, uint32_t len, uint64_t hash, bool* inserted);
  template <bool kFixed>
  void FindOrInsertBatchImpl(const KeyEncoder& keys, const uint64_t* hashes, int64_t n,
                             uint8_t** payloads, uint8_t* inserted);
  template <bool kFixed>
  void FindBatchImpl(const KeyEncoder& keys, const uint64_t* hashes, int64_t n,
                     uint8_t** payloads) const;
  void RemoveAt(size_t index);
  /// Marks the arena copy of a removed slot's variable-length key dead (no-op for inline keys).
  void MarkKeyDead(uint8_t* slot, uint32_t len);
  void Rehash(size_t new_capacity);
  void FreeSlots();

  uint32_t payload_bytes_;
  uint32_t fixed_key_bytes_;
  uint32_t payload_offset_;
  uint32_t slot_bytes_;
  uint8_t* slots_ = nullptr;
  size_t slots_bytes_ = 0;  // allocated for slots_ (capacity × slot bytes, rounded up)
  size_t capacity_ = 0;
  size_t mask_ = 0;
  size_t size_ = 0;
  size_t size_max_ = 0;  // grow before exceeding
  Buffer arena_;
  size_t arena_dead_bytes_ = 0;
};

/// N HashTables, the shard of a key chosen by the top log2(N) bits of its hash (N a power of
/// two, 1..kShardsMax). Same API and contract as HashTable, applied per shard: an insert
/// invalidates payload pointers of its own shard only; size() and MemoryBytes() are sums.
/// One shard per core is a later scheduling change: shard(i) can be handed to core i.
class ShardedHashTable {
 public:
  static constexpr uint32_t kShardsMax = 1024;

  ShardedHashTable(uint32_t payload_bytes, uint32_t fixed_key_bytes, uint32_t num_shards = 1);

  uint32_t num_shards() const { return static_cast<uint32_t>(shards_.size()); }
  uint32_t ShardOf(uint64_t hash) const {
    return static_cast<uint32_t>(hash >> shard_shift_) & shard_mask_;
  }
  HashTable& shard(uint32_t i) { return shards_[i]; }
  const HashTable& shard(uint32_t i) const { return shards_[i]; }

  uint8_t* FindOrInsert(const uint8_t* key, uint32_t len, uint64_t hash, bool* inserted) {
    return shards_[ShardOf(hash)].FindOrInsert(key, len, hash, inserted);
  }
  uint8_t* Find(const uint8_t* key, uint32_t len, uint64_t hash) const {
    return shards_[ShardOf(hash)].Find(key, len, hash);
  }
  bool Erase(const uint8_t* key, uint32_t len, uint64_t hash) {
    return shards_[ShardOf(hash)].Erase(key, len, hash);
  }
  /// As HashTable::FindOrInsertBatch; each shard first reserves room for its rows.
  void FindOrInsertBatch(const KeyEncoder& keys, const uint64_t* hashes, int64_t n,
                         uint8_t** payloads, uint8_t* inserted);
  void FindBatch(const KeyEncoder& keys, const uint64_t* hashes, int64_t n,
                 uint8_t** payloads) const;

  size_t size() const;
  size_t MemoryBytes() const;
  void Clear();
  template <typename F>
  void ForEach(F&& f) const {
    for (const HashTable& t : shards_) t.ForEach(f);
  }

 private:
  template <bool kFixed>
  void FindOrInsertBatchImpl(const KeyEncoder& keys, const uint64_t* hashes, int64_t n,
                             uint8_t** payloads, uint8_t* inserted);

  std::vector<HashTable> shards_;
  uint32_t shard_shift_;
  uint32_t shard_mask_;
  std::vector<uint32_t> rows_per_shard_;  // FindOrInsertBatch scratch, num_shards() entries
};

}  // namespace weir
