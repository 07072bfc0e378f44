// Keyed state store benchmarks: get / update cost per row with 1 M keys.
//
// Every benchmark iteration processes one 4096-row batch the way the aggregation operator does:
//   update/batch   HashColumn + KeyEncoder::Encode + FindOrInsertBatch + one 8-byte increment
//                  per row through the returned payload pointers
//   update/single  HashColumn + Encode per batch, then FindOrInsert + increment row by row
//   get/batch      HashColumn + Encode + FindBatch + read the payload
//   get/single     HashColumn + Encode, then Find row by row
//   table-only     FindOrInsertBatch + increment on pre-hashed, pre-encoded keys (the table alone)
//   fill           inserting all keys into an empty table (growth) or a Clear()ed one (reuse)
// Keys: BIGINT (9-byte encoded keys), or VARCHAR of 10 bytes ("k000123456"; 15-byte encoded
// keys, stored inline in the slot). 1,000,000 keys, all present (steady state: updates of
// existing groups). Access: uniform, or Zipf-like (s = 0.99, ranks scattered over the keys).
// Reported: ns_per_row (a rate counter, shown as time per row), bytes_per_key
// (MemoryBytes / keys), probe_len (average successful probe length).
//   build-state/bench/state_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "batch/column.h"
#include "state/hash_table.h"

namespace weir {
namespace {

constexpr int64_t kKeys = 1'000'000;
constexpr int64_t kRows = 4096;          // rows per batch
constexpr int64_t kStreamBatches = 256;  // ~1 M rows of access stream, cycled

enum KeyKind { kBigint = 0, kVarchar = 1 };
enum Dist { kUniform = 0, kZipf = 1 };

int64_t BigintKey(int64_t i) {
  return static_cast<int64_t>(static_cast<uint64_t>(i) * 0x9e3779b97f4a7c15ULL);
}
std::string VarcharKey(int64_t i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "k%09lld", static_cast<long long>(i));
  return buf;  // 10 bytes
}

DataType TypeOf(KeyKind k) { return k == kBigint ? DataType::Int64() : DataType::Varchar(); }

ColumnPtr MakeColumn(KeyKind kind, const int64_t* ids, int64_t n) {
  auto c = std::make_shared<Column>(TypeOf(kind));
  for (int64_t i = 0; i < n; ++i) {
    if (kind == kBigint) {
      c->Append<int64_t>(BigintKey(ids[i]));
    } else {
      c->AppendString(VarcharKey(ids[i]));
    }
  }
  return c;
}

/// The access stream: kStreamBatches batches of kRows key columns.
struct Stream {
  std::vector<ColumnPtr> batches;
};

const Stream& GetStream(KeyKind kind, Dist dist) {
  static std::unique_ptr<Stream> cache[2][2];
  std::unique_ptr<Stream>& s = cache[kind][dist];
  if (s) return *s;
  s = std::make_unique<Stream>();
  std::mt19937_64 rng(42 + dist);
  std::vector<int64_t> ids(kRows);
  std::vector<double> cdf;
  std::vector<int64_t> rank_to_key;
  if (dist == kZipf) {
    cdf.resize(kKeys);
    double sum = 0;
    for (int64_t r = 0; r < kKeys; ++r)
      cdf[r] = sum += 1.0 / std::pow(static_cast<double>(r + 1), 0.99);
    for (double& v : cdf) v /= sum;
    rank_to_key.resize(kKeys);
    for (int64_t i = 0; i < kKeys; ++i) rank_to_key[i] = i;
    std::shuffle(rank_to_key.begin(), rank_to_key.end(), rng);  // hot keys scattered
  }
  std::uniform_real_distribution<double> u(0, 1);
  for (int64_t b = 0; b < kStreamBatches; ++b) {
    for (int64_t i = 0; i < kRows; ++i) {
      if (dist == kUniform) {
        ids[i] = static_cast<int64_t>(rng() % kKeys);
      } else {
        const auto it = std::lower_bound(cdf.begin(), cdf.end(), u(rng));
        ids[i] = rank_to_key[std::min<int64_t>(it - cdf.begin(), kKeys - 1)];
      }
    }
    s->batches.push_back(MakeColumn(kind, ids.data(), kRows));
  }
  return *s;
}

/// Per-batch working set of the operator: encoder, hashes, payload pointers.
struct Work {
  explicit Work(KeyKind kind) : enc({TypeOf(kind)}), hashes(kRows), payloads(kRows), flags(kRows) {}
  void HashAndEncode(const Column& col) {
    HashColumn(col, kRows, false, hashes.data());
    cols[0] = &col;
    enc.Encode(cols, kRows);
  }
  KeyEncoder enc;
  std::vector<const Column*> cols{nullptr};
  std::vector<uint64_t> hashes;
  std::vector<uint8_t*> payloads;
  std::vector<uint8_t> flags;
};

/// A table holding all kKeys keys with an 8-byte payload.
template <typename Table>
std::unique_ptr<Table> BuildTable(KeyKind kind, uint32_t shards) {
  Work w(kind);
  std::unique_ptr<Table> t;
  if constexpr (std::is_same_v<Table, HashTable>) {
    t = std::make_unique<Table>(8, w.enc.fixed_key_bytes());
  } else {
    t = std::make_unique<Table>(8, w.enc.fixed_key_bytes(), shards);
  }
  std::vector<int64_t> ids(kRows);
  for (int64_t base = 0; base < kKeys; base += kRows) {
    const int64_t n = std::min(kRows, kKeys - base);
    for (int64_t i = 0; i < n; ++i) ids[i] = base + i;
    ColumnPtr c = MakeColumn(kind, ids.data(), n);
    HashColumn(*c, n, false, w.hashes.data());
    w.cols[0] = c.get();
    w.enc.Encode(w.cols, n);
    t->FindOrInsertBatch(w.enc, w.hashes.data(), n, w.payloads.data(), nullptr);
  }
  return t;
}

HashTable& GetTable(KeyKind kind) {
  static std::unique_ptr<HashTable> cache[2];
  if (!cache[kind]) cache[kind] = BuildTable<HashTable>(kind, 1);
  return *cache[kind];
}

void ReportCounters(benchmark::State& state, size_t memory_bytes, size_t keys, double probe) {
  state.SetItemsProcessed(state.iterations() * kRows);
  state.counters["ns_per_row"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kRows),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["bytes_per_key"] = static_cast<double>(memory_bytes) / static_cast<double>(keys);
  if (probe > 0) state.counters["probe_len"] = probe;
}

// ---- update (find-or-insert + increment) ---------------------------------------------------

void BM_UpdateBatch(benchmark::State& state, KeyKind kind, Dist dist) {
  HashTable& t = GetTable(kind);
  const Stream& s = GetStream(kind, dist);
  Work w(kind);
  size_t b = 0;
  for (auto _ : state) {
    const Column& col = *s.batches[b++ % s.batches.size()];
    w.HashAndEncode(col);
    t.FindOrInsertBatch(w.enc, w.hashes.data(), kRows, w.payloads.data(), nullptr);
    for (int64_t i = 0; i < kRows; ++i) ++*reinterpret_cast<uint64_t*>(w.payloads[i]);
  }
  if (t.size() != static_cast<size_t>(kKeys)) state.SkipWithError("key count changed");
  ReportCounters(state, t.MemoryBytes(), t.size(), t.AverageProbeLength());
}

void BM_UpdateSingle(benchmark::State& state, KeyKind kind, Dist dist) {
  HashTable& t = GetTable(kind);
  const Stream& s = GetStream(kind, dist);
  Work w(kind);
  size_t b = 0;
  for (auto _ : state) {
    const Column& col = *s.batches[b++ % s.batches.size()];
    w.HashAndEncode(col);
    for (int64_t i = 0; i < kRows; ++i) {
      bool inserted;
      uint8_t* p = t.FindOrInsert(w.enc.key(i), w.enc.key_len(i), w.hashes[i], &inserted);
      ++*reinterpret_cast<uint64_t*>(p);
    }
  }
  ReportCounters(state, t.MemoryBytes(), t.size(), 0);
}

// ---- get ------------------------------------------------------------------------------------

void BM_GetBatch(benchmark::State& state, KeyKind kind, Dist dist) {
  HashTable& t = GetTable(kind);
  const Stream& s = GetStream(kind, dist);
  Work w(kind);
  size_t b = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    const Column& col = *s.batches[b++ % s.batches.size()];
    w.HashAndEncode(col);
    t.FindBatch(w.enc, w.hashes.data(), kRows, w.payloads.data());
    for (int64_t i = 0; i < kRows; ++i) sum += *reinterpret_cast<uint64_t*>(w.payloads[i]);
  }
  benchmark::DoNotOptimize(sum);
  ReportCounters(state, t.MemoryBytes(), t.size(), 0);
}

void BM_GetSingle(benchmark::State& state, KeyKind kind, Dist dist) {
  HashTable& t = GetTable(kind);
  const Stream& s = GetStream(kind, dist);
  Work w(kind);
  size_t b = 0;
  uint64_t sum = 0;
  for (auto _ : state) {
    const Column& col = *s.batches[b++ % s.batches.size()];
    w.HashAndEncode(col);
    for (int64_t i = 0; i < kRows; ++i) {
      sum += *reinterpret_cast<uint64_t*>(t.Find(w.enc.key(i), w.enc.key_len(i), w.hashes[i]));
    }
  }
  benchmark::DoNotOptimize(sum);
  ReportCounters(state, t.MemoryBytes(), t.size(), 0);
}

// ---- components -----------------------------------------------------------------------------

/// HashColumn + Encode only: the per-batch cost before the table is touched.
void BM_HashAndEncode(benchmark::State& state, KeyKind kind) {
  const Stream& s = GetStream(kind, kUniform);
  Work w(kind);
  size_t b = 0;
  for (auto _ : state) {
    w.HashAndEncode(*s.batches[b++ % s.batches.size()]);
    benchmark::DoNotOptimize(w.enc.data());
  }
  ReportCounters(state, w.enc.MemoryBytes(), kRows, 0);
}

/// FindOrInsertBatch + increment on keys hashed and encoded in advance: the table alone.
void BM_TableOnlyBatch(benchmark::State& state, KeyKind kind, Dist dist) {
  HashTable& t = GetTable(kind);
  const Stream& s = GetStream(kind, dist);
  const size_t kPre = 64;
  std::vector<std::unique_ptr<Work>> pre;
  for (size_t b = 0; b < kPre; ++b) {
    pre.push_back(std::make_unique<Work>(kind));
    pre.back()->HashAndEncode(*s.batches[b]);
  }
  size_t b = 0;
  std::vector<uint8_t*> payloads(kRows);
  for (auto _ : state) {
    const Work& w = *pre[b++ % kPre];
    t.FindOrInsertBatch(w.enc, w.hashes.data(), kRows, payloads.data(), nullptr);
    for (int64_t i = 0; i < kRows; ++i) ++*reinterpret_cast<uint64_t*>(payloads[i]);
  }
  ReportCounters(state, t.MemoryBytes(), t.size(), 0);
}

/// The full batch update through a ShardedHashTable of `shards` shards (one thread).
void BM_UpdateBatchSharded(benchmark::State& state, KeyKind kind, Dist dist) {
  const uint32_t shards = static_cast<uint32_t>(state.range(0));
  static std::unique_ptr<ShardedHashTable> cache[2][3];
  const int slot = shards == 1 ? 0 : shards == 4 ? 1 : 2;
  if (!cache[kind][slot]) cache[kind][slot] = BuildTable<ShardedHashTable>(kind, shards);
  ShardedHashTable& t = *cache[kind][slot];
  const Stream& s = GetStream(kind, dist);
  Work w(kind);
  size_t b = 0;
  for (auto _ : state) {
    w.HashAndEncode(*s.batches[b++ % s.batches.size()]);
    t.FindOrInsertBatch(w.enc, w.hashes.data(), kRows, w.payloads.data(), nullptr);
    for (int64_t i = 0; i < kRows; ++i) ++*reinterpret_cast<uint64_t*>(w.payloads[i]);
  }
  ReportCounters(state, t.MemoryBytes(), t.size(), 0);
}

/// Inserting all kKeys keys (input columns built in advance): from an empty table (growth
/// included: a tumbling window's first fill) or, with `refill`, into a Clear()ed table that
/// kept its capacity (every later window). Reported per key.
void BM_Fill(benchmark::State& state, KeyKind kind, bool refill) {
  static std::vector<ColumnPtr> inputs[2];
  if (inputs[kind].empty()) {
    std::vector<int64_t> ids(kRows);
    for (int64_t base = 0; base < kKeys; base += kRows) {
      const int64_t n = std::min(kRows, kKeys - base);
      for (int64_t i = 0; i < n; ++i) ids[i] = base + i;
      inputs[kind].push_back(MakeColumn(kind, ids.data(), n));
    }
  }
  Work w(kind);
  HashTable reused(8, w.enc.fixed_key_bytes());
  for (auto _ : state) {
    HashTable fresh(8, w.enc.fixed_key_bytes());
    HashTable& t = refill ? reused : fresh;
    t.Clear();
    for (const ColumnPtr& c : inputs[kind]) {
      const int64_t n = c->length();
      HashColumn(*c, n, false, w.hashes.data());
      w.cols[0] = c.get();
      w.enc.Encode(w.cols, n);
      t.FindOrInsertBatch(w.enc, w.hashes.data(), n, w.payloads.data(), nullptr);
    }
    if (t.size() != static_cast<size_t>(kKeys)) state.SkipWithError("wrong key count");
  }
  state.counters["ns_per_key"] =
      benchmark::Counter(static_cast<double>(state.iterations() * kKeys),
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

#define WEIR_STATE_BENCH(fn, name, ...) \
  BENCHMARK_CAPTURE(fn, name, __VA_ARGS__)->Unit(benchmark::kMicrosecond)

WEIR_STATE_BENCH(BM_UpdateBatch, bigint_uniform, kBigint, kUniform);
WEIR_STATE_BENCH(BM_UpdateSingle, bigint_uniform, kBigint, kUniform);
WEIR_STATE_BENCH(BM_UpdateBatch, bigint_zipf, kBigint, kZipf);
WEIR_STATE_BENCH(BM_UpdateSingle, bigint_zipf, kBigint, kZipf);
WEIR_STATE_BENCH(BM_GetBatch, bigint_uniform, kBigint, kUniform);
WEIR_STATE_BENCH(BM_GetSingle, bigint_uniform, kBigint, kUniform);
WEIR_STATE_BENCH(BM_UpdateBatch, varchar_uniform, kVarchar, kUniform);
WEIR_STATE_BENCH(BM_UpdateSingle, varchar_uniform, kVarchar, kUniform);
WEIR_STATE_BENCH(BM_UpdateBatch, varchar_zipf, kVarchar, kZipf);
WEIR_STATE_BENCH(BM_UpdateSingle, varchar_zipf, kVarchar, kZipf);
WEIR_STATE_BENCH(BM_GetBatch, varchar_uniform, kVarchar, kUniform);
WEIR_STATE_BENCH(BM_GetSingle, varchar_uniform, kVarchar, kUniform);
WEIR_STATE_BENCH(BM_HashAndEncode, bigint, kBigint);
WEIR_STATE_BENCH(BM_HashAndEncode, varchar, kVarchar);
WEIR_STATE_BENCH(BM_TableOnlyBatch, bigint_uniform, kBigint, kUniform);
WEIR_STATE_BENCH(BM_TableOnlyBatch, varchar_uniform, kVarchar, kUniform);
WEIR_STATE_BENCH(BM_UpdateBatchSharded, bigint_uniform, kBigint, kUniform)->Arg(1)->Arg(4)->Arg(16);
BENCHMARK_CAPTURE(BM_Fill, bigint_from_empty, kBigint, false)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(4);
BENCHMARK_CAPTURE(BM_Fill, bigint_after_clear, kBigint, true)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(4);
BENCHMARK_CAPTURE(BM_Fill, varchar_from_empty, kVarchar, false)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(4);
BENCHMARK_CAPTURE(BM_Fill, varchar_after_clear, kVarchar, true)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(4);

}  // namespace
}  // namespace weir

BENCHMARK_MAIN();
