// HashJoinOperator throughput (items/s = input rows/s) for an inner equi-join on a BIGINT key
// with 100 K distinct keys, 4096-row batches, keys drawn uniformly from a fixed seed.
//
//   BM_InnerJoinProbeInsert       the right side holds one row per key (100 K rows); each timed
//                                 iteration pushes 32 left insert batches into a fresh join
//                                 (probe right + insert left; one match per row, emitted). The
//                                 join is rebuilt with timing paused.
//   BM_InnerJoinProbeInsertDelete steady state: a left insert batch, then the same rows deleted
//                                 (probe + insert, probe + delete); state size stays constant.
//   BM_InnerJoinVarcharKey        as ProbeInsert with a VARCHAR key ("key-<n>", 100 K keys).
//   BM_SemiJoinProbeInsert        as ProbeInsert for a left semi join (output: left rows only,
//                                 one per left row, since every key has a right row).
//   BM_SemiJoinRightInsertDelete  steady state, the other direction: the right side's 100 K
//                                 rows are held on the LEFT (one per key); a right insert batch,
//                                 then its deletion, each flipping the matched left rows'
//                                 visibility (degree 0 <-> 1 emits the left row). Anti emits the
//                                 mirror image and runs the same code path.
// Output goes to a sink that counts rows, so the figures include output materialization.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "exec/join/hash_join.h"

namespace weir {
namespace {

constexpr int64_t kKeys = 100'000;
constexpr int64_t kBatchRows = 4096;
constexpr int kBatchesPerIteration = 32;

class CountSink final : public Operator {
 public:
  Status Push(const RecordBatch& b) override {
    rows += b.num_rows();
    return Status::OK();
  }
  std::string Describe() const override { return "count"; }
  int64_t rows = 0;
};

SchemaPtr MakeSchema(DataType key) {
  return std::make_shared<Schema>(
      std::vector<Field>{{"k", key}, {"v", DataType::Int64()}, {"w", DataType::Double()}});
}

RecordBatch MakeBatch(DataType key_type, const std::vector<int64_t>& keys, bool deletes) {
  RecordBatch b(MakeSchema(key_type));
  auto k = std::make_shared<Column>(key_type);
  auto v = std::make_shared<Column>(DataType::Int64());
  auto w = std::make_shared<Column>(DataType::Double());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (key_type.id == TypeId::kVarchar) {
      k->AppendString("key-" + std::to_string(keys[i]));
    } else {
      k->Append<int64_t>(keys[i]);
    }
    v->Append<int64_t>(static_cast<int64_t>(i));
    w->Append<double>(0.5 * static_cast<double>(i));
  }
  b.columns() = {k, v, w};
  b.set_num_rows(static_cast<int64_t>(keys.size()));
  if (deletes) {
    Op* ops = b.EnableOps();
    for (size_t i = 0; i < keys.size(); ++i) ops[i] = Op::kDelete;
  }
  return b;
}

// A join whose `held` side (right unless `hold_left`) holds one row per key.
std::unique_ptr<HashJoinOperator> MakeJoinWithRight(DataType key_type, CountSink* sink,
                                                    JoinType type = JoinType::kInner,
                                                    bool hold_left = false) {
  HashJoinOptions o;
  o.type = type;
  o.left_schema = MakeSchema(key_type);
  o.right_schema = MakeSchema(key_type);
  o.left_keys = {0};
  o.right_keys = {0};
  auto made = HashJoinOperator::Make(std::move(o));
  if (!made.ok()) std::abort();
  auto join = std::move(made).value();
  join->set_output(sink);
  for (int64_t start = 0; start < kKeys; start += kBatchRows) {
    std::vector<int64_t> keys;
    for (int64_t i = start; i < std::min(kKeys, start + kBatchRows); ++i) keys.push_back(i);
    Operator* held = hold_left ? join->left_input() : join->right_input();
    if (!held->Push(MakeBatch(key_type, keys, false)).ok()) std::abort();
  }
  return join;
}

std::vector<RecordBatch> LeftBatches(DataType key_type, int count, bool deletes) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> key(0, kKeys - 1);
  std::vector<RecordBatch> batches;
  for (int b = 0; b < count; ++b) {
    std::vector<int64_t> keys(kBatchRows);
    for (auto& k : keys) k = key(rng);
    batches.push_back(MakeBatch(key_type, keys, deletes));
  }
  return batches;
}

void ProbeInsert(benchmark::State& state, DataType key_type, JoinType type = JoinType::kInner) {
  const std::vector<RecordBatch> batches = LeftBatches(key_type, kBatchesPerIteration, false);
  CountSink sink;
  size_t state_bytes = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto join = MakeJoinWithRight(key_type, &sink, type);
    state.ResumeTiming();
    for (const RecordBatch& b : batches) {
      if (!join->left_input()->Push(b).ok()) std::abort();
    }
    state.PauseTiming();
    state_bytes = join->state_bytes();
    join.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kBatchesPerIteration * kBatchRows);
  state.counters["state_MiB"] = static_cast<double>(state_bytes) / (1 << 20);
  state.counters["out_rows/in_row"] =
      static_cast<double>(sink.rows) /
      static_cast<double>(state.iterations() * kBatchesPerIteration * kBatchRows);
}

void BM_InnerJoinProbeInsert(benchmark::State& state) { ProbeInsert(state, DataType::Int64()); }
BENCHMARK(BM_InnerJoinProbeInsert)->Unit(benchmark::kMillisecond);

void BM_InnerJoinVarcharKey(benchmark::State& state) { ProbeInsert(state, DataType::Varchar()); }
BENCHMARK(BM_InnerJoinVarcharKey)->Unit(benchmark::kMillisecond);

void BM_InnerJoinProbeInsertDelete(benchmark::State& state) {
  CountSink sink;
  auto join = MakeJoinWithRight(DataType::Int64(), &sink);
  const RecordBatch insert = LeftBatches(DataType::Int64(), 1, false)[0];
  const RecordBatch del = LeftBatches(DataType::Int64(), 1, true)[0];
  for (auto _ : state) {
    if (!join->left_input()->Push(insert).ok()) std::abort();
    if (!join->left_input()->Push(del).ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations() * 2 * kBatchRows);
}
BENCHMARK(BM_InnerJoinProbeInsertDelete);

void BM_SemiJoinProbeInsert(benchmark::State& state) {
  ProbeInsert(state, DataType::Int64(), JoinType::kLeftSemi);
}
BENCHMARK(BM_SemiJoinProbeInsert)->Unit(benchmark::kMillisecond);

void BM_SemiJoinRightInsertDelete(benchmark::State& state) {
  CountSink sink;
  auto join = MakeJoinWithRight(DataType::Int64(), &sink, JoinType::kLeftSemi, /*hold_left=*/true);
  const RecordBatch insert = LeftBatches(DataType::Int64(), 1, false)[0];
  const RecordBatch del = LeftBatches(DataType::Int64(), 1, true)[0];
  const int64_t rows_before = sink.rows;
  for (auto _ : state) {
    if (!join->right_input()->Push(insert).ok()) std::abort();
    if (!join->right_input()->Push(del).ok()) std::abort();
  }
  state.SetItemsProcessed(state.iterations() * 2 * kBatchRows);
  state.counters["out_rows/in_row"] =
      static_cast<double>(sink.rows - rows_before) /
      static_cast<double>(state.iterations() * 2 * kBatchRows);
}
BENCHMARK(BM_SemiJoinRightInsertDelete);

}  // namespace
}  // namespace weir

BENCHMARK_MAIN();
