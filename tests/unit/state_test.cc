// Tests for src/state: HashTable / ShardedHashTable against a std::unordered_map model,
// KeyEncoder round trips, HashColumn equalities, arena compaction, and a counting allocator that
// checks the steady-state hot path allocates nothing.
//
// Randomized tests print their seed; rerun one with WEIR_TEST_SEED=<seed> to reproduce it.
#include <gtest/gtest.h>

#include "test_util.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "batch/column.h"
#include "state/hash_table.h"

// Every malloc-family call in this process is counted (see counting_malloc.h).
#include "counting_malloc.h"

namespace weir {
namespace {

// ---- seeds -------------------------------------------------------------------------------------

uint64_t BaseSeed() { return weir_test::TestSeed(); }

/// A per-test seed derived from the base seed and a test-specific salt.
uint64_t TestSeed(uint64_t salt) { return HashWord(BaseSeed() ^ HashWord(salt)); }

#define WEIR_SEED_TRACE() SCOPED_TRACE(::testing::Message() << "WEIR_TEST_SEED=" << BaseSeed())

// ---- helpers -----------------------------------------------------------------------------------

const uint8_t* Bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }
uint32_t Len(const std::string& s) { return static_cast<uint32_t>(s.size()); }

uint64_t LoadU64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
void StoreU64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }

/// A key of `fixed_len` bytes (fixed > 0), or of 0..64 bytes (about 60% short enough to be
/// stored inline, 40% in the arena), determined by `id`. Different ids may give equal keys
/// (short lengths); the model keys by the string, so that is harmless.
std::string MakeKey(uint64_t id, uint32_t fixed_len) {
  const uint64_t h = HashWord(id);
  size_t len = fixed_len;
  if (fixed_len == 0) len = h % 100 < 60 ? h % 17 : 17 + (h >> 8) % 48;
  // Half the keys carry the id in their first bytes, half in their last bytes behind a shared
  // filler, so keys of one length often share long prefixes: the compare must read every byte.
  std::string s(len, '\0');
  const bool id_last = (h >> 32) & 1;
  for (size_t i = 0; i < len; ++i) {
    const size_t from_end = len - 1 - i;
    if (id_last) {
      s[i] = from_end < 8 ? static_cast<char>(id >> (8 * from_end)) : 'f';
    } else {
      s[i] = static_cast<char>((i < 8 ? id : h) >> (8 * (i % 8)));
    }
  }
  return s;
}

enum class HashMode { kGood, kWeak };

/// kGood: a proper hash. kWeak: only 32 distinct low words, all near the top of the slot
/// range, so probe runs are long, tags collide constantly and runs wrap around the array end
/// (the high word stays good so shards still spread).
uint64_t KeyHash(const std::string& k, HashMode mode, uint64_t seed) {
  const uint64_t h = HashBytes(k.data(), k.size(), seed);
  if (mode == HashMode::kGood) return h;
  return (h & 0xffffffff00000000ULL) | (0xffffffe0ULL + (h >> 40) % 32);
}

// ---- differential test against std::unordered_map ----------------------------------------------

struct DiffParams {
  uint32_t fixed_key_bytes;  // 0 = variable
  HashMode hash_mode;
  int64_t ops;
  uint64_t key_space_max;
  uint32_t payload_bytes;
};

/// Payload layout: [counter u64][fingerprint of the key u64][zeros...]. The fingerprint catches
/// a payload that moved to the wrong key.
template <typename Table>
void VerifyContents(const Table& t, const std::unordered_map<std::string, uint64_t>& model,
                    uint32_t payload_bytes, int64_t op) {
  ASSERT_EQ(t.size(), model.size()) << "op " << op;
  size_t seen = 0;
  bool ok = true;
  t.ForEach([&](const uint8_t* key, uint32_t len, uint8_t* payload) {
    ++seen;
    std::string k(reinterpret_cast<const char*>(key), len);
    auto it = model.find(k);
    if (it == model.end() || LoadU64(payload) != it->second ||
        LoadU64(payload + 8) != HashBytes(k.data(), k.size(), 99)) {
      ok = false;
    }
    for (uint32_t b = 16; b < payload_bytes; ++b) ok &= payload[b] == 0;
  });
  ASSERT_TRUE(ok) << "table contents differ from the model at op " << op;
  ASSERT_EQ(seen, model.size()) << "op " << op;
}

template <typename Table>
void RunDifferential(Table& t, const DiffParams& p, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::unordered_map<std::string, uint64_t> model;
  const uint64_t hash_seed = rng();
  for (int64_t op = 0; op < p.ops; ++op) {
    // Phases of ops/10 ops: growing (insert-heavy), erase-heavy, mixed; the key space widens
    // over the run so the table grows through many rehashes and shrinks back.
    const int64_t phase = op / std::max<int64_t>(1, p.ops / 10);
    const uint64_t key_space = p.key_space_max * static_cast<uint64_t>(phase + 1) / 10 + 16;
    int insert_pct = 50, find_pct = 20;
    switch (phase % 3) {
      case 0:
        insert_pct = 70;
        find_pct = 15;
        break;  // grow
      case 1:
        insert_pct = 15;
        find_pct = 15;
        break;  // erase-heavy
      default:
        break;  // mixed
    }
    const std::string key = MakeKey(rng() % key_space, p.fixed_key_bytes);
    const uint64_t hash = KeyHash(key, p.hash_mode, hash_seed);
    const int r = static_cast<int>(rng() % 100);
    if (rng() % 250000 == 0) {
      t.Clear();
      model.clear();
      ASSERT_EQ(t.size(), 0u);
    } else if (r < insert_pct) {
      bool inserted = false;
      uint8_t* payload = t.FindOrInsert(Bytes(key), Len(key), hash, &inserted);
      auto it = model.find(key);
      ASSERT_EQ(inserted, it == model.end()) << "op " << op;
      if (inserted) {
        ASSERT_EQ(LoadU64(payload), 0u) << "op " << op;  // zero-filled
        StoreU64(payload + 8, HashBytes(key.data(), key.size(), 99));
        it = model.emplace(key, 0).first;
      }
      ASSERT_EQ(LoadU64(payload), it->second) << "op " << op;
      ASSERT_EQ(LoadU64(payload + 8), HashBytes(key.data(), key.size(), 99)) << "op " << op;
      StoreU64(payload, ++it->second);
    } else if (r < insert_pct + find_pct) {
      uint8_t* payload = t.Find(Bytes(key), Len(key), hash);
      auto it = model.find(key);
      ASSERT_EQ(payload != nullptr, it != model.end()) << "op " << op;
      if (payload) {
        ASSERT_EQ(LoadU64(payload), it->second) << "op " << op;
      }
    } else {
      const bool erased = t.Erase(Bytes(key), Len(key), hash);
      ASSERT_EQ(erased, model.erase(key) == 1) << "op " << op;
    }
    ASSERT_EQ(t.size(), model.size()) << "op " << op;
    if (op % 100000 == 99999) VerifyContents(t, model, p.payload_bytes, op);
  }
  VerifyContents(t, model, p.payload_bytes, p.ops);
}

TEST(HashTableTest, DifferentialFixedKeys) {
  WEIR_SEED_TRACE();
  HashTable t(24, 12);
  RunDifferential(t, {12, HashMode::kGood, 1'000'000, 200'000, 24}, TestSeed(1));
}

TEST(HashTableTest, DifferentialVariableKeys) {
  WEIR_SEED_TRACE();
  HashTable t(16, 0);
  RunDifferential(t, {0, HashMode::kGood, 1'000'000, 200'000, 16}, TestSeed(2));
  // Arena invariants after a long erase/insert history.
  EXPECT_LE(t.arena_dead_bytes() * 2,
            std::max(t.arena_bytes(), HashTable::kArenaCompactMinBytes * 2));
}

TEST(HashTableTest, DifferentialWeakHashFixed) {
  WEIR_SEED_TRACE();
  for (uint32_t len : {7u, 12u, 24u}) {
    HashTable t(16, len);
    RunDifferential(t, {len, HashMode::kWeak, 60'000, 1'500, 16}, TestSeed(300 + len));
  }
}

TEST(HashTableTest, OneHashForAllKeysComparesEveryByte) {
  // Every key has the same hash, so every probe reaches the byte compare: keys of length L that
  // differ from a base key in exactly one byte (each position, each bit) must stay distinct.
  for (uint32_t len = 1; len <= 40; ++len) {
    for (uint32_t fixed : {len, 0u}) {
      HashTable t(8, fixed);
      std::string base(len, '\0');
      for (uint32_t i = 0; i < len; ++i) base[i] = static_cast<char>(0x35 + 11 * i);
      std::vector<std::string> keys = {base};
      for (uint32_t i = 0; i < len; ++i) {
        for (int bit : {0, 7}) {
          std::string k = base;
          k[i] = static_cast<char>(k[i] ^ (1 << bit));
          keys.push_back(k);
        }
      }
      for (size_t j = 0; j < keys.size(); ++j) {
        bool ins;
        StoreU64(t.FindOrInsert(Bytes(keys[j]), len, 0x1234, &ins), j);
        ASSERT_TRUE(ins) << "len " << len << " key " << j;
      }
      for (size_t j = 0; j < keys.size(); ++j) {
        uint8_t* p = t.Find(Bytes(keys[j]), len, 0x1234);
        ASSERT_NE(p, nullptr);
        ASSERT_EQ(LoadU64(p), j) << "len " << len << " key " << j;
      }
      // A key that differs in length only (variable tables) is a different key.
      if (fixed == 0) {
        std::string longer = base + '\0';
        EXPECT_EQ(t.Find(Bytes(longer), len + 1, 0x1234), nullptr);
      }
    }
  }
}

TEST(HashTableTest, DifferentialWeakHashVariable) {
  WEIR_SEED_TRACE();
  HashTable t(16, 0);
  RunDifferential(t, {0, HashMode::kWeak, 150'000, 1'500, 16}, TestSeed(4));
}

TEST(HashTableTest, DifferentialTinyFixedKeys) {
  // 1..3-byte keys exercise the short compare paths; payload 20 rounds up to 24.
  WEIR_SEED_TRACE();
  for (uint32_t len : {1u, 2u, 3u}) {
    HashTable t(20, len);
    EXPECT_EQ(t.payload_bytes(), 24u);
    RunDifferential(t, {len, HashMode::kGood, 100'000, 100'000, 24}, TestSeed(5 + len));
  }
}

TEST(ShardedHashTableTest, DifferentialSharded) {
  WEIR_SEED_TRACE();
  for (uint32_t shards : {1u, 8u}) {
    ShardedHashTable fixed(16, 12, shards);
    RunDifferential(fixed, {12, HashMode::kGood, 300'000, 100'000, 16}, TestSeed(10 + shards));
    ShardedHashTable var(16, 0, shards);
    RunDifferential(var, {0, HashMode::kWeak, 100'000, 1'000, 16}, TestSeed(20 + shards));
  }
}

// ---- growth, erase, arena ----------------------------------------------------------------------

TEST(HashTableTest, GrowthAcrossManyRehashes) {
  HashTable t(8, 9);
  EXPECT_EQ(t.capacity(), HashTable::kMinCapacity);
  const int64_t n = 2'000'000;
  size_t last_capacity = t.capacity();
  int rehashes = 0;
  uint8_t key[9] = {};
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(key + 1, &i, 8);
    bool inserted;
    uint8_t* p = t.FindOrInsert(key, 9, HashWord(static_cast<uint64_t>(i)), &inserted);
    ASSERT_TRUE(inserted);
    StoreU64(p, static_cast<uint64_t>(i) * 3);
    if (t.capacity() != last_capacity) {
      ASSERT_EQ(t.capacity(), last_capacity * 2);
      last_capacity = t.capacity();
      ++rehashes;
    }
    ASSERT_LE(t.size() * 10, t.capacity() * 7);
  }
  EXPECT_EQ(rehashes, 18);  // 16 -> 4 Mi slots
  for (int64_t i = 0; i < n; ++i) {
    std::memcpy(key + 1, &i, 8);
    uint8_t* p = t.Find(key, 9, HashWord(static_cast<uint64_t>(i)));
    ASSERT_NE(p, nullptr) << i;
    ASSERT_EQ(LoadU64(p), static_cast<uint64_t>(i) * 3);
  }
  // Hash quality: sequential integers spread like random keys (≈ 1.4 probes at load 0.48).
  EXPECT_LT(t.AverageProbeLength(), 1.7);
  EXPECT_EQ(t.MemoryBytes(), t.capacity() * 24);  // 4 tag + 9 key -> 16, + 8 payload
}

TEST(HashTableTest, EraseHeavyBackwardShift) {
  WEIR_SEED_TRACE();
  std::mt19937_64 rng(TestSeed(30));
  for (HashMode mode : {HashMode::kGood, HashMode::kWeak}) {
    for (uint32_t fixed : {8u, 0u}) {
      HashTable t(8, fixed);
      const int n = mode == HashMode::kWeak ? 600 : 20000;
      std::vector<std::string> keys;
      std::unordered_set<std::string> uniq;
      for (int i = 0; uniq.size() < static_cast<size_t>(n); ++i) {
        std::string k = MakeKey(static_cast<uint64_t>(i) + 1000, fixed);
        if (uniq.insert(k).second) keys.push_back(k);
      }
      for (const std::string& k : keys) {
        bool ins;
        StoreU64(t.FindOrInsert(Bytes(k), Len(k), KeyHash(k, mode, 5), &ins), HashWord(k.size()));
        ASSERT_TRUE(ins);
      }
      const size_t memory = t.MemoryBytes();
      std::shuffle(keys.begin(), keys.end(), rng);
      for (size_t e = 0; e < keys.size(); ++e) {
        ASSERT_TRUE(t.Erase(Bytes(keys[e]), Len(keys[e]), KeyHash(keys[e], mode, 5)));
        ASSERT_FALSE(t.Erase(Bytes(keys[e]), Len(keys[e]), KeyHash(keys[e], mode, 5)));
        ASSERT_EQ(t.Find(Bytes(keys[e]), Len(keys[e]), KeyHash(keys[e], mode, 5)), nullptr);
        // Every survivor is still reachable (check all for the weak hash, a sample otherwise).
        const size_t step = mode == HashMode::kWeak ? 1 : 97;
        for (size_t j = e + 1; j < keys.size(); j += step) {
          uint8_t* p = t.Find(Bytes(keys[j]), Len(keys[j]), KeyHash(keys[j], mode, 5));
          ASSERT_NE(p, nullptr) << "lost key " << j << " after erase " << e;
          ASSERT_EQ(LoadU64(p), HashWord(keys[j].size()));
        }
      }
      EXPECT_EQ(t.size(), 0u);
      size_t entries = 0;
      t.ForEach([&](const uint8_t*, uint32_t, uint8_t*) { ++entries; });
      EXPECT_EQ(entries, 0u);
      EXPECT_LE(t.MemoryBytes(), memory);
    }
  }
}

TEST(HashTableTest, EraseWrapAroundExact) {
  // Slots 14, 15, 0, 1 of a 16-slot table: a run that wraps, then erases from its middle.
  HashTable t(8, 4);
  auto key = [](uint32_t v) {
    std::string s(4, '\0');
    std::memcpy(s.data(), &v, 4);
    return s;
  };
  // hash low words: homes 14, 14, 15, 0 (with distinct tags in the high half of the low word).
  const uint64_t hashes[] = {0x1000000eULL, 0x2000000eULL, 0x3000000fULL, 0x40000000ULL,
                             0x50000001ULL};
  for (uint32_t i = 0; i < 5; ++i) {
    bool ins;
    StoreU64(t.FindOrInsert(Bytes(key(i)), 4, hashes[i], &ins), i + 100);
    ASSERT_TRUE(ins);
  }
  for (uint32_t victim : {1u, 0u, 3u, 2u, 4u}) {
    ASSERT_TRUE(t.Erase(Bytes(key(victim)), 4, hashes[victim]));
    for (uint32_t i = 0; i < 5; ++i) {
      uint8_t* p = t.Find(Bytes(key(i)), 4, hashes[i]);
      const bool erased_already = [&] {
        for (uint32_t v : {1u, 0u, 3u, 2u, 4u}) {
          if (v == i) return true;
          if (v == victim) return false;
        }
        return false;
      }();
      if (erased_already) {
        ASSERT_EQ(p, nullptr) << i;
      } else {
        ASSERT_NE(p, nullptr) << "key " << i << " lost after erasing " << victim;
        ASSERT_EQ(LoadU64(p), i + 100);
      }
    }
  }
}

TEST(HashTableTest, ArenaCompaction) {
  WEIR_SEED_TRACE();
  std::mt19937_64 rng(TestSeed(40));
  HashTable t(8, 0);
  const int n = 20000;
  std::vector<std::string> keys;
  for (int i = 0; i < n; ++i) {
    std::string k = "long-key-" + std::to_string(i) + std::string(40, 'x');  // > 16 bytes: arena
    keys.push_back(k);
    bool ins;
    StoreU64(t.FindOrInsert(Bytes(k), Len(k), HashBytes(k.data(), k.size()), &ins), i);
  }
  size_t live_bytes = 0;
  for (const std::string& k : keys) live_bytes += 8 + k.size();
  EXPECT_EQ(t.arena_bytes(), live_bytes);
  EXPECT_EQ(t.arena_dead_bytes(), 0u);
  const size_t memory_full = t.MemoryBytes();

  // Erase 95% in random order: compaction must keep the dead share at or below one half.
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::set<int> alive(order.begin(), order.end());
  int compactions_seen = 0;
  for (int e = 0; e < n * 95 / 100; ++e) {
    const std::string& k = keys[order[e]];
    const size_t before = t.arena_bytes();
    ASSERT_TRUE(t.Erase(Bytes(k), Len(k), HashBytes(k.data(), k.size())));
    alive.erase(order[e]);
    if (t.arena_bytes() < before) ++compactions_seen;
    ASSERT_TRUE(t.arena_dead_bytes() < HashTable::kArenaCompactMinBytes ||
                t.arena_dead_bytes() * 2 <= t.arena_bytes());
  }
  EXPECT_GT(compactions_seen, 3);
  size_t alive_bytes = 0;
  for (int i : alive) alive_bytes += 8 + keys[i].size();
  EXPECT_EQ(t.arena_bytes() - t.arena_dead_bytes(), alive_bytes);
  EXPECT_LT(t.MemoryBytes(), memory_full);  // the arena shrank

  // Survivors: found with their payloads; ForEach hands out exactly their key bytes.
  for (int i : alive) {
    uint8_t* p = t.Find(Bytes(keys[i]), Len(keys[i]), HashBytes(keys[i].data(), keys[i].size()));
    ASSERT_NE(p, nullptr);
    ASSERT_EQ(LoadU64(p), static_cast<uint64_t>(i));
  }
  std::set<std::string> listed;
  t.ForEach([&](const uint8_t* k, uint32_t len, uint8_t*) {
    listed.emplace(reinterpret_cast<const char*>(k), len);
  });
  ASSERT_EQ(listed.size(), alive.size());
  for (int i : alive) EXPECT_TRUE(listed.count(keys[i]));

  // Explicit compaction leaves no dead bytes; new long keys still work afterwards.
  t.CompactArena();
  EXPECT_EQ(t.arena_dead_bytes(), 0u);
  EXPECT_EQ(t.arena_bytes(), alive_bytes);
  for (int i : alive) {
    ASSERT_NE(t.Find(Bytes(keys[i]), Len(keys[i]), HashBytes(keys[i].data(), keys[i].size())),
              nullptr);
  }
  for (int i = 0; i < 1000; ++i) {
    const std::string& k = keys[order[i]];
    bool ins;
    t.FindOrInsert(Bytes(k), Len(k), HashBytes(k.data(), k.size()), &ins);
    ASSERT_TRUE(ins);
  }
  EXPECT_EQ(t.size(), alive.size() + 1000);
}

TEST(HashTableTest, ClearKeepsCapacityAndEmptiesEverything) {
  HashTable t(8, 0);
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 5000; ++i) {
      std::string k = "key number " + std::to_string(i) + (i % 2 ? std::string(30, 'y') : "");
      bool ins;
      uint8_t* p = t.FindOrInsert(Bytes(k), Len(k), HashBytes(k.data(), k.size()), &ins);
      ASSERT_TRUE(ins);
      ASSERT_EQ(LoadU64(p), 0u);  // payloads are zero again after Clear
      StoreU64(p, 7);
    }
    const size_t memory = t.MemoryBytes();
    t.Clear();
    EXPECT_EQ(t.size(), 0u);
    EXPECT_EQ(t.arena_bytes(), 0u);
    EXPECT_EQ(t.MemoryBytes(), memory);
    std::string k = "key number 1" + std::string(30, 'y');
    EXPECT_EQ(t.Find(Bytes(k), Len(k), HashBytes(k.data(), k.size())), nullptr);
  }
}

TEST(HashTableTest, ZeroPayloadAndMove) {
  HashTable t(0, 8);  // DISTINCT-style: keys only
  uint64_t v = 42;
  bool ins;
  t.FindOrInsert(reinterpret_cast<uint8_t*>(&v), 8, HashWord(v), &ins);
  EXPECT_TRUE(ins);
  t.FindOrInsert(reinterpret_cast<uint8_t*>(&v), 8, HashWord(v), &ins);
  EXPECT_FALSE(ins);
  HashTable moved(std::move(t));
  EXPECT_EQ(moved.size(), 1u);
  EXPECT_NE(moved.Find(reinterpret_cast<uint8_t*>(&v), 8, HashWord(v)), nullptr);
  HashTable other(8, 8);
  other = std::move(moved);
  EXPECT_EQ(other.size(), 1u);
  EXPECT_EQ(other.payload_bytes(), 0u);
}

// ---- KeyEncoder
// ----------------------------------------------------------------------------------

/// A column of `n` random values of `type` drawn from a small domain (so rows repeat), with
/// about 1 in 8 NULLs (the NULL rows carry random garbage underneath), or a constant column.
ColumnPtr RandomColumn(DataType type, int64_t n, std::mt19937_64& rng, bool constant,
                       bool nulls = true) {
  auto c = std::make_shared<Column>(type);
  const int64_t rows = constant ? 1 : n;
  for (int64_t i = 0; i < rows; ++i) {
    const uint64_t r = rng() % 13;
    switch (type.id) {
      case TypeId::kNull:
        c->AppendNull();
        continue;
      case TypeId::kBoolean:
        c->Append<uint8_t>(r & 1);
        break;
      case TypeId::kInt32:
        c->Append<int32_t>(static_cast<int32_t>(r) - 6);
        break;
      case TypeId::kInt64:
      case TypeId::kTimestamp:
      case TypeId::kDecimal:
        c->Append<int64_t>(static_cast<int64_t>(r * 1'000'000'007ULL) - 5);
        break;
      case TypeId::kDouble:
        c->Append<double>(static_cast<double>(r) / 4 - 1.5);
        break;
      case TypeId::kInterval:
        c->Append<Interval>({static_cast<int32_t>(r % 3), static_cast<int32_t>(r % 5),
                             static_cast<int64_t>(r) * 1000});
        break;
      case TypeId::kVarchar:
        c->AppendString(std::string(r * 3 % 25, static_cast<char>('a' + r)));  // 0..24 bytes
        break;
    }
    if (nulls && rng() % 8 == 0) c->SetNull(i);
  }
  if (constant) c->MakeConstant(n);
  return c;
}

const std::vector<DataType> kAllTypes = {
    DataType::Boolean(),   DataType::Int32(),        DataType::Int64(),
    DataType::Double(),    DataType::Decimal(12, 2), DataType::Varchar(),
    DataType::Timestamp(), DataType::IntervalType(), DataType::Null()};

std::string RowSignature(const std::vector<ColumnPtr>& cols, int64_t i) {
  std::string s;
  for (const ColumnPtr& c : cols) s += c->ValueToString(i) + "\x1f";
  return s;
}

TEST(KeyEncoderTest, FixedKeyBytes) {
  EXPECT_EQ(KeyEncoder({DataType::Int64()}).fixed_key_bytes(), 9u);
  EXPECT_EQ(KeyEncoder({DataType::Int32(), DataType::Boolean()}).fixed_key_bytes(), 7u);
  EXPECT_EQ(KeyEncoder({DataType::IntervalType(), DataType::Null()}).fixed_key_bytes(), 18u);
  KeyEncoder var({DataType::Int64(), DataType::Varchar()});
  EXPECT_FALSE(var.fixed());
  EXPECT_EQ(var.fixed_key_bytes(), 0u);
}

TEST(KeyEncoderTest, RoundTripAllTypesNullsConstants) {
  WEIR_SEED_TRACE();
  std::mt19937_64 rng(TestSeed(50));
  for (int variant = 0; variant < 40; ++variant) {
    // A random subset (1..5 columns) of the types, some constant; variant 0 takes them all.
    std::vector<DataType> types;
    if (variant == 0) {
      types = kAllTypes;
    } else {
      const size_t k = 1 + rng() % 5;
      for (size_t j = 0; j < k; ++j) types.push_back(kAllTypes[rng() % kAllTypes.size()]);
    }
    const int64_t n = variant % 5 == 0 ? static_cast<int64_t>(rng() % 3) : 500;  // incl. 0, 1
    std::vector<ColumnPtr> cols;
    std::vector<const Column*> in;
    for (const DataType& t : types) {
      cols.push_back(RandomColumn(t, n, rng, rng() % 4 == 0));
      in.push_back(cols.back().get());
    }
    KeyEncoder enc(types);
    enc.Encode(in, n);
    ASSERT_EQ(enc.num_keys(), n);
    const bool has_varchar = std::any_of(types.begin(), types.end(),
                                         [](DataType t) { return t.id == TypeId::kVarchar; });
    ASSERT_EQ(enc.fixed(), !has_varchar);

    // Decode row by row and in one batch; both must reproduce every value and NULL.
    std::vector<ColumnPtr> out1, out2;
    std::vector<Column*> o1, o2;
    for (const DataType& t : types) {
      out1.push_back(std::make_shared<Column>(t));
      out2.push_back(std::make_shared<Column>(t));
      o1.push_back(out1.back().get());
      o2.push_back(out2.back().get());
    }
    std::vector<const uint8_t*> key_ptrs;
    std::vector<uint32_t> key_lens;
    for (int64_t i = 0; i < n; ++i) {
      enc.Decode(enc.key(i), enc.key_len(i), o1);
      key_ptrs.push_back(enc.key(i));
      key_lens.push_back(enc.key_len(i));
    }
    enc.DecodeBatch(key_ptrs.data(), key_lens.data(), n, o2);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(RowSignature(out1, i), RowSignature(cols, i)) << "row " << i;
      ASSERT_EQ(RowSignature(out2, i), RowSignature(cols, i)) << "row " << i;
      for (size_t j = 0; j < types.size(); ++j) {
        ASSERT_EQ(out1[j]->IsNull(i), cols[j]->IsNull(i));
        ASSERT_EQ(out2[j]->IsNull(i), cols[j]->IsNull(i));
      }
    }

    // Equal rows <=> byte-equal keys; and HashColumn gives equal keys equal hashes.
    std::vector<uint64_t> hashes(static_cast<size_t>(n));
    for (size_t j = 0; j < in.size(); ++j) HashColumn(*in[j], n, j > 0, hashes.data());
    std::unordered_map<std::string, std::string> key_to_row;
    std::unordered_map<std::string, std::string> row_to_key;
    std::unordered_map<std::string, uint64_t> key_to_hash;
    std::unordered_map<uint64_t, std::string> hash_to_key;
    for (int64_t i = 0; i < n; ++i) {
      std::string key(reinterpret_cast<const char*>(enc.key(i)), enc.key_len(i));
      std::string row = RowSignature(cols, i);
      auto [a, fresh_a] = key_to_row.emplace(key, row);
      ASSERT_EQ(a->second, row) << "one key, two different rows";
      auto [b, fresh_b] = row_to_key.emplace(row, key);
      ASSERT_EQ(b->second, key) << "one row value, two different keys";
      auto [c, fresh_c] = key_to_hash.emplace(key, hashes[static_cast<size_t>(i)]);
      ASSERT_EQ(c->second, hashes[static_cast<size_t>(i)]) << "equal keys, different hashes";
      // Conversely no two of these few hundred distinct keys share a 64-bit hash (every column,
      // nullable or not, contributes to the combined hash).
      auto [d, fresh_d] = hash_to_key.emplace(hashes[static_cast<size_t>(i)], key);
      ASSERT_EQ(d->second, key) << "different keys, equal hashes";
    }
  }
}

TEST(KeyEncoderTest, KeyLayout) {
  // BIGINT 5 then VARCHAR "hi", then NULL BIGINT and NULL VARCHAR.
  Column a(DataType::Int64()), b(DataType::Varchar());
  a.Append<int64_t>(5);
  b.AppendString("hi");
  a.Append<int64_t>(77);  // garbage under a NULL
  a.SetNull(1);
  b.AppendString("garbage");
  b.SetNull(1);
  KeyEncoder enc({DataType::Int64(), DataType::Varchar()});
  enc.Encode({&a, &b}, 2);
  const uint8_t row0[] = {0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 'h', 'i'};
  const uint8_t row1[] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
  ASSERT_EQ(enc.key_len(0), sizeof(row0));
  ASSERT_EQ(enc.key_len(1), sizeof(row1));
  EXPECT_EQ(std::memcmp(enc.key(0), row0, sizeof(row0)), 0);
  EXPECT_EQ(std::memcmp(enc.key(1), row1, sizeof(row1)), 0);
}

TEST(KeyEncoderTest, DoubleCanonicalization) {
  Column d(DataType::Double());
  for (double v : {0.0, -0.0, std::nan(""), -std::nan(""), std::nan("7"), 1.5}) d.Append(v);
  KeyEncoder enc({DataType::Double()});
  enc.Encode({&d}, 6);
  uint64_t h[6];
  HashColumn(d, 6, false, h);
  EXPECT_EQ(std::memcmp(enc.key(0), enc.key(1), 9), 0);  // -0.0 groups with 0.0
  EXPECT_EQ(h[0], h[1]);
  for (int i : {3, 4}) {  // every NaN groups together
    EXPECT_EQ(std::memcmp(enc.key(2), enc.key(i), 9), 0);
    EXPECT_EQ(h[2], h[i]);
  }
  EXPECT_NE(std::memcmp(enc.key(0), enc.key(5), 9), 0);
}

// ---- HashColumn
// ----------------------------------------------------------------------------------

TEST(HashColumnTest, EqualValuesEqualHashesAcrossLayouts) {
  WEIR_SEED_TRACE();
  std::mt19937_64 rng(TestSeed(60));
  const int64_t n = 300;
  for (const DataType& type : kAllTypes) {
    // Same logical values: (a) with a validity bitmap and garbage under NULLs, (b) rebuilt row
    // by row with AppendFrom/AppendNull (clean NULLs), (c) a constant vs its materialization.
    ColumnPtr a = RandomColumn(type, n, rng, false);
    Column b(type);
    for (int64_t i = 0; i < n; ++i) {
      if (a->IsNull(i)) {
        b.AppendNull();
      } else {
        b.AppendFrom(*a, i);
      }
    }
    std::vector<uint64_t> ha(n), hb(n);
    HashColumn(*a, n, false, ha.data());
    HashColumn(b, n, false, hb.data());
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_EQ(ha[i], hb[i]) << type.ToString() << " row " << i;
      if (a->IsNull(i)) {
        ASSERT_EQ(ha[i], kNullHash);
      }
    }
    // Combining: constant column == its materialized form, as first or later column.
    ColumnPtr k = RandomColumn(type, n, rng, true);
    Column m(type);
    if (type.id == TypeId::kNull) {
      // (Column::Materialize on a NULL-typed column memcpy's from a null buffer — a batch/
      // issue reported separately — so build the expanded form directly.)
      for (int64_t i = 0; i < n; ++i) m.AppendNull();
    } else {
      m.CopyFrom(*k);
      m.Materialize();
    }
    std::vector<uint64_t> hk(ha), hm(ha);
    HashColumn(*k, n, true, hk.data());
    HashColumn(m, n, true, hm.data());
    EXPECT_EQ(hk, hm) << type.ToString();
    HashColumn(*k, n, false, hk.data());
    HashColumn(m, n, false, hm.data());
    EXPECT_EQ(hk, hm) << type.ToString();
  }
}

TEST(HashColumnTest, IntWidthsNullsStringsAndOrder) {
  Column i32(DataType::Int32()), i64(DataType::Int64());
  for (int v : {-3, 0, 7, 1 << 30}) {
    i32.Append<int32_t>(v);
    i64.Append<int64_t>(v);
  }
  uint64_t h32[4], h64[4];
  HashColumn(i32, 4, false, h32);
  HashColumn(i64, 4, false, h64);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(h32[i], h64[i]);

  // NULL, empty string and "NULL" all hash differently; equal strings at other offsets alike.
  Column s(DataType::Varchar());
  s.AppendNull();
  s.AppendString("");
  s.AppendString("NULL");
  s.AppendString("abc");
  s.AppendString("xyzabc");
  s.AppendString("abc");
  uint64_t hs[6];
  HashColumn(s, 6, false, hs);
  EXPECT_EQ(hs[0], kNullHash);
  EXPECT_NE(hs[1], hs[0]);
  EXPECT_NE(hs[2], hs[0]);
  EXPECT_NE(hs[1], hs[2]);
  EXPECT_EQ(hs[3], hs[5]);
  EXPECT_NE(hs[3], hs[4]);

  // Combining is order-dependent: (a, b) and (b, a) differ.
  Column x(DataType::Int64()), y(DataType::Int64());
  x.Append<int64_t>(1);
  y.Append<int64_t>(2);
  uint64_t hxy, hyx;
  HashColumn(x, 1, false, &hxy);
  HashColumn(y, 1, true, &hxy);
  HashColumn(y, 1, false, &hyx);
  HashColumn(x, 1, true, &hyx);
  EXPECT_NE(hxy, hyx);
}

TEST(HashColumnTest, NoCollisionsAmongDistinctKeys) {
  // 64-bit hashes of 1 M distinct integers and 1 M distinct short strings: no collisions
  // expected (birthday bound ≈ 3e-8); also the low 20 bits spread evenly over 2^20 buckets.
  const int64_t n = 1 << 20;
  Column ints(DataType::Int64());
  Column strs(DataType::Varchar());
  for (int64_t i = 0; i < n; ++i) {
    ints.Append<int64_t>(i);
    strs.AppendString("user" + std::to_string(i));
  }
  for (const Column* c : {&ints, &strs}) {
    std::vector<uint64_t> h(n);
    HashColumn(*c, n, false, h.data());
    std::vector<uint32_t> buckets(n, 0);
    for (uint64_t v : h) ++buckets[v & (n - 1)];
    std::sort(h.begin(), h.end());
    EXPECT_EQ(std::adjacent_find(h.begin(), h.end()), h.end());
    // Balls into bins with n = m: the max load is ~ln n / ln ln n ≈ 5-9; a broken hash piles up.
    EXPECT_LE(*std::max_element(buckets.begin(), buckets.end()), 14u);
    const int64_t empty = std::count(buckets.begin(), buckets.end(), 0u);
    EXPECT_NEAR(static_cast<double>(empty) / n, std::exp(-1.0), 0.01);  // Poisson(1) zeros
  }
}

TEST(HashBytesTest, LengthsAndSeeds) {
  // Every length 0..80 over the same buffer gives distinct hashes; the seed changes them all.
  std::string buf(80, '\0');
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<char>(i * 7 + 1);
  std::set<uint64_t> seen;
  for (size_t len = 0; len <= buf.size(); ++len) {
    EXPECT_TRUE(seen.insert(HashBytes(buf.data(), len)).second) << len;
    EXPECT_TRUE(seen.insert(HashBytes(buf.data(), len, 1)).second) << len;
  }
  // Repeated-byte strings differ only in length ("a", "aa", ... and all-zero strings): the
  // length must be mixed in.
  for (char ch : {'\0', 'a'}) {
    std::set<uint64_t> by_length;
    for (size_t len = 0; len <= 40; ++len) {
      const std::string s(len, ch);
      EXPECT_TRUE(by_length.insert(HashBytes(s.data(), s.size())).second) << len;
    }
  }
  // A one-bit change anywhere changes the hash.
  for (size_t len : {1u, 3u, 8u, 15u, 16u, 17u, 33u, 64u, 80u}) {
    const uint64_t base = HashBytes(buf.data(), len);
    for (size_t bit = 0; bit < len * 8; ++bit) {
      std::string m = buf.substr(0, len);
      m[bit / 8] = static_cast<char>(m[bit / 8] ^ (1 << (bit % 8)));
      EXPECT_NE(HashBytes(m.data(), len), base) << len << " " << bit;
    }
  }
}

// ---- batch API, with keys and hashes built from columns
// ------------------------------------------

template <typename Table>
void RunBatchAgainstModel(Table& t, const std::vector<DataType>& types, uint64_t seed) {
  std::mt19937_64 rng(seed);
  KeyEncoder enc(types);
  std::unordered_map<std::string, uint64_t> model;
  std::vector<uint64_t> hashes;
  std::vector<uint8_t*> payloads, found;
  std::vector<uint8_t> inserted;
  for (int round = 0; round < 150; ++round) {
    const int64_t n = round % 10 == 0 ? static_cast<int64_t>(rng() % 3) : 1 + rng() % 3000;
    std::vector<ColumnPtr> cols;
    std::vector<const Column*> in;
    for (const DataType& type : types) {
      // Wider domains than RandomColumn so the table keeps growing over the rounds.
      auto c = std::make_shared<Column>(type);
      for (int64_t i = 0; i < n; ++i) {
        const uint64_t r = rng() % (2000 + 300 * static_cast<uint64_t>(round));
        if (type.id == TypeId::kVarchar) {
          c->AppendString("k" + std::to_string(r) + std::string(r % 23, 'z'));
        } else if (type.id == TypeId::kDouble) {
          c->Append<double>(static_cast<double>(r) * 0.5);
        } else if (type.id == TypeId::kInt32) {
          c->Append<int32_t>(static_cast<int32_t>(r));
        } else {
          c->Append<int64_t>(static_cast<int64_t>(r));
        }
        if (r % 97 == 0) c->SetNull(i);
      }
      cols.push_back(c);
      in.push_back(c.get());
    }
    enc.Encode(in, n);
    hashes.resize(static_cast<size_t>(n));
    payloads.resize(static_cast<size_t>(n));
    found.resize(static_cast<size_t>(n));
    inserted.resize(static_cast<size_t>(n));
    for (size_t j = 0; j < in.size(); ++j) HashColumn(*in[j], n, j > 0, hashes.data());
    t.FindOrInsertBatch(enc, hashes.data(), n, payloads.data(), inserted.data());
    std::unordered_map<std::string, uint8_t*> in_batch;
    for (int64_t i = 0; i < n; ++i) {
      std::string key(reinterpret_cast<const char*>(enc.key(i)), enc.key_len(i));
      const bool fresh = !model.count(key);
      ASSERT_EQ(inserted[i] != 0, fresh) << "round " << round << " row " << i;
      if (fresh) model.emplace(key, 0);
      auto [it, first] = in_batch.emplace(key, payloads[i]);
      ASSERT_EQ(it->second, payloads[i]) << "equal keys in one batch, different payloads";
    }
    // All n pointers valid together: update after the call, as the operator does.
    for (int64_t i = 0; i < n; ++i) {
      StoreU64(payloads[i], LoadU64(payloads[i]) + 1);
      ++model[std::string(reinterpret_cast<const char*>(enc.key(i)), enc.key_len(i))];
    }
    t.FindBatch(enc, hashes.data(), n, found.data());
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(found[i], payloads[i]);
    ASSERT_EQ(t.size(), model.size());
  }
  std::unordered_map<std::string, uint64_t> contents;
  t.ForEach([&](const uint8_t* k, uint32_t len, uint8_t* p) {
    contents.emplace(std::string(reinterpret_cast<const char*>(k), len), LoadU64(p));
  });
  EXPECT_EQ(contents, model);
}

TEST(HashTableBatchTest, BatchMatchesModel) {
  WEIR_SEED_TRACE();
  const std::vector<std::vector<DataType>> key_sets = {
      {DataType::Int64()},
      {DataType::Varchar()},
      {DataType::Int32(), DataType::Varchar(), DataType::Double()}};
  uint64_t salt = 70;
  for (const auto& types : key_sets) {
    KeyEncoder probe(types);
    HashTable t(8, probe.fixed_key_bytes());
    RunBatchAgainstModel(t, types, TestSeed(salt++));
    for (uint32_t shards : {1u, 4u, 16u}) {
      ShardedHashTable s(8, probe.fixed_key_bytes(), shards);
      RunBatchAgainstModel(s, types, TestSeed(salt++));
    }
  }
}

TEST(ShardedHashTableTest, ShardsSplitByTopBitsAndSumUp) {
  ShardedHashTable t(8, 9, 8);
  EXPECT_EQ(t.num_shards(), 8u);
  EXPECT_EQ(t.ShardOf(0x0000000000000000ULL), 0u);
  EXPECT_EQ(t.ShardOf(0xe000000000000000ULL), 7u);
  EXPECT_EQ(t.ShardOf(0x2fffffffffffffffULL), 1u);
  EXPECT_EQ(ShardedHashTable(8, 9, 1).ShardOf(~0ULL), 0u);
  uint8_t key[9] = {};
  for (int64_t i = 0; i < 80000; ++i) {
    std::memcpy(key + 1, &i, 8);
    t.FindOrInsert(key, 9, HashWord(static_cast<uint64_t>(i)), nullptr);
  }
  size_t size = 0, memory = 0;
  for (uint32_t s = 0; s < t.num_shards(); ++s) {
    size += t.shard(s).size();
    memory += t.shard(s).MemoryBytes();
    EXPECT_NEAR(static_cast<double>(t.shard(s).size()), 10000.0, 500.0);  // even spread
  }
  EXPECT_EQ(size, 80000u);
  EXPECT_EQ(t.size(), size);
  EXPECT_EQ(t.MemoryBytes(), memory);
  t.Clear();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.MemoryBytes(), memory);
}

// ---- steady state allocates nothing ------------------------------------------------------------

TEST(StateAllocationTest, SteadyStateAndClearRefillAllocateNothing) {
  // Under AddressSanitizer malloc is not interposed: only the MemoryBytes() checks run.
  const int64_t kRows = 4096;
  const int64_t kKeys = 100'000;
  struct Case {
    std::vector<DataType> types;
    uint32_t shards;
  };
  const std::vector<Case> cases = {{{DataType::Int64()}, 1},
                                   {{DataType::Varchar()}, 1},
                                   {{DataType::Int64(), DataType::Varchar()}, 4}};
  for (const Case& c : cases) {
    // Prebuilt input: kKeys distinct keys in batches of kRows (VARCHAR keys of 6..40 bytes, so
    // both inline and arena keys occur).
    std::vector<std::vector<ColumnPtr>> batches;
    for (int64_t base = 0; base < kKeys; base += kRows) {
      std::vector<ColumnPtr> cols;
      for (const DataType& t : c.types) {
        auto col = std::make_shared<Column>(t);
        for (int64_t i = base; i < base + kRows; ++i) {
          const int64_t k = i % kKeys;
          if (t.id == TypeId::kVarchar) {
            col->AppendString("g" + std::to_string(k) +
                              std::string(static_cast<size_t>(k % 35), '-'));
          } else {
            col->Append<int64_t>(k);
          }
        }
        cols.push_back(col);
      }
      batches.push_back(std::move(cols));
    }
    KeyEncoder enc(c.types);
    ShardedHashTable table(16, enc.fixed_key_bytes(), c.shards);
    std::vector<uint64_t> hashes(kRows);
    std::vector<uint8_t*> payloads(kRows);
    std::vector<uint8_t> inserted(kRows);
    std::vector<const Column*> in(c.types.size());
    auto run_batch = [&](const std::vector<ColumnPtr>& cols, bool single) {
      for (size_t j = 0; j < cols.size(); ++j) in[j] = cols[j].get();
      for (size_t j = 0; j < cols.size(); ++j) HashColumn(*in[j], kRows, j > 0, hashes.data());
      enc.Encode(in, kRows);
      if (single) {
        for (int64_t i = 0; i < kRows; ++i) {
          bool ins;
          uint8_t* p = table.FindOrInsert(enc.key(i), enc.key_len(i), hashes[i], &ins);
          StoreU64(p, LoadU64(p) + 1);
          (void)table.Find(enc.key(i), enc.key_len(i), hashes[i]);
        }
      } else {
        table.FindOrInsertBatch(enc, hashes.data(), kRows, payloads.data(), inserted.data());
        for (int64_t i = 0; i < kRows; ++i) StoreU64(payloads[i], LoadU64(payloads[i]) + 1);
        table.FindBatch(enc, hashes.data(), kRows, payloads.data());
      }
    };
    // Warm-up: fill once, clear and fill again (every buffer reaches its high-water mark).
    for (int warm = 0; warm < 2; ++warm) {
      table.Clear();
      for (const auto& b : batches) run_batch(b, false);
    }
    const size_t memory = table.MemoryBytes();
    const size_t encoder_memory = enc.MemoryBytes();
    const size_t size = table.size();
    ASSERT_EQ(size, static_cast<size_t>(kKeys));

    const int64_t before = weir_test::AllocationCount();
    // (1) A steady stream on existing keys, batch and single-row paths.
    for (int rep = 0; rep < 3; ++rep) {
      for (const auto& b : batches) run_batch(b, rep == 1);
    }
    // (2) Clear + refill cycles, as a window operator reusing its table does.
    for (int cycle = 0; cycle < 3; ++cycle) {
      table.Clear();
      for (const auto& b : batches) run_batch(b, cycle == 1);
    }
    const int64_t allocations = weir_test::AllocationCount() - before;
#ifndef WEIR_NO_MALLOC_INTERPOSE
    EXPECT_EQ(allocations, 0) << "key types " << c.types.size() << ", shards " << c.shards;
#else
    (void)allocations;
#endif
    EXPECT_EQ(table.MemoryBytes(), memory);
    EXPECT_EQ(enc.MemoryBytes(), encoder_memory);
    EXPECT_EQ(table.size(), size);
  }
}

}  // namespace
}  // namespace weir
