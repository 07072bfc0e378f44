// Aggregate accumulator throughput (items/s = rows/s) on 4096-row batches.
//
// As in the hash-aggregate operator, the group states live in one contiguous array (1024
// groups unless the benchmark name says otherwise) and states[i] points at the state of row i's
// group; the group of each row is drawn uniformly from a fixed seed. Each iteration applies the
// same batch again (the states keep accumulating), so the numbers measure Update alone: no
// hashing, no allocation (retractable min/max reach their steady state after the first batch).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "exec/aggregate/aggregate_function.h"

namespace weir {
namespace {

constexpr int64_t kRows = 4096;

struct Setup {
  std::unique_ptr<AggregateFunction> fn;
  std::vector<uint64_t> storage;
  std::vector<uint8_t*> states;
  Column arg{DataType::Null()};
  std::vector<Op> signs;
  std::vector<uint8_t> mask;

  Setup(std::string_view name, DataType type, bool retractable, int64_t groups) {
    Result<std::unique_ptr<AggregateFunction>> made =
        MakeAggregateFunction(name, type, retractable);
    if (!made.ok()) std::abort();
    fn = std::move(made).value();
    const uint32_t bytes = fn->state_bytes();
    storage.assign(static_cast<size_t>(groups) * bytes / 8, 0);
    uint8_t* base = reinterpret_cast<uint8_t*>(storage.data());
    for (int64_t g = 0; g < groups; ++g) fn->Init(base + g * bytes);
    std::mt19937_64 rng(42);
    std::uniform_int_distribution<int64_t> group(0, groups - 1);
    for (int64_t i = 0; i < kRows; ++i) states.push_back(base + group(rng) * bytes);

    arg.Reset(type);
    if (type.id != TypeId::kNull) arg.ResizeFixed(kRows);
    std::uniform_int_distribution<int64_t> value(-1'000'000, 1'000'000);
    for (int64_t i = 0; i < kRows; ++i) {
      switch (type.id) {
        case TypeId::kInt64:
        case TypeId::kDecimal:
          arg.data<int64_t>()[i] = value(rng);
          break;
        case TypeId::kDouble:
          arg.data<double>()[i] = static_cast<double>(value(rng)) / 7;
          break;
        default:
          break;
      }
    }
    // Retractions of earlier rows' values keep the multisets bounded; signs alternate.
    for (int64_t i = 0; i < kRows; ++i) signs.push_back(i % 2 ? Op::kDelete : Op::kInsert);
    for (int64_t i = 0; i < kRows; ++i) mask.push_back(static_cast<uint8_t>(rng() % 4 != 0));
  }
  ~Setup() {
    const uint32_t bytes = fn->state_bytes();
    uint8_t* base = reinterpret_cast<uint8_t*>(storage.data());
    for (size_t g = 0; g < storage.size() * 8 / bytes; ++g) fn->Destroy(base + g * bytes);
  }

  void WithNulls() {
    std::mt19937_64 rng(7);
    for (int64_t i = 0; i < kRows; ++i) {
      if (rng() % 10 == 0) arg.SetNull(i);
    }
  }

  void Run(benchmark::State& state, bool with_signs, bool with_mask) {
    const Column* a = arg.type().id == TypeId::kNull ? nullptr : &arg;
    for (auto _ : state) {
      Status st = fn->Update(states.data(), 0, a, with_signs ? signs.data() : nullptr,
                             with_mask ? mask.data() : nullptr, kRows);
      if (!st.ok()) {
        state.SkipWithError(st.message().c_str());
        break;
      }
      benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations() * kRows);
    state.counters["state_bytes"] = fn->state_bytes();
  }
};

void BM_SumBigint(benchmark::State& state) {
  Setup s("sum", DataType::Int64(), false, state.range(0));
  s.Run(state, false, false);
}
BENCHMARK(BM_SumBigint)->Arg(1024)->Arg(1)->Arg(1 << 20);

void BM_SumBigintRetractable(benchmark::State& state) {
  Setup s("sum", DataType::Int64(), true, 1024);
  s.Run(state, true, false);
}
BENCHMARK(BM_SumBigintRetractable);

void BM_SumBigintNullsMask(benchmark::State& state) {
  Setup s("sum", DataType::Int64(), false, 1024);
  s.WithNulls();
  s.Run(state, false, true);
}
BENCHMARK(BM_SumBigintNullsMask);

void BM_CountStar(benchmark::State& state) {
  Setup s("count_star", DataType::Null(), false, state.range(0));
  s.Run(state, false, false);
}
BENCHMARK(BM_CountStar)->Arg(1024)->Arg(1);

void BM_MinDouble(benchmark::State& state) {
  Setup s("min", DataType::Double(), false, 1024);
  s.Run(state, false, false);
}
BENCHMARK(BM_MinDouble);

void BM_MinDoubleRetractable(benchmark::State& state) {
  Setup s("min", DataType::Double(), true, 1024);
  s.Run(state, false, false);  // first batch fills the multisets; later ones bump counts
}
BENCHMARK(BM_MinDoubleRetractable);

void BM_AvgDecimal(benchmark::State& state) {
  Setup s("avg", DataType::Decimal(12, 2), false, 1024);
  s.Run(state, false, false);
}
BENCHMARK(BM_AvgDecimal);

void BM_AvgDecimalRetractable(benchmark::State& state) {
  Setup s("avg", DataType::Decimal(12, 2), true, 1024);
  s.Run(state, true, false);
}
BENCHMARK(BM_AvgDecimalRetractable);

}  // namespace
}  // namespace weir

BENCHMARK_MAIN();
