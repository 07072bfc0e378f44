// TopNOperator throughput: rows/s of streaming Top-N per partition over append-only input.
//
//   BM_TopN/3/10000/0     top-3 per 10 K partitions, random scores (after warm-up most rows
//                         cannot enter: one hash lookup + one memcmp each)
//   BM_TopN/3/10000/1     the same with a row_number column
//   BM_TopN/1/10000/0     deduplication (N = 1)
//   BM_TopNRising/3/...   worst case: rising scores under ORDER BY score DESC, every row enters
//                         its partition's top 3 (a sorted insert, an eviction, a snapshot and
//                         a diff per row)
//   BM_TopNRising/1/1000000/1  q18's shape: dedup keeping the latest row of 1 M keys (state larger
//                         than the caches; every row replaces its key's row)
//   BM_TopN/10/100000/0   q19's shape: top 10 per 100 K partitions
// Input: BIGINT part, BIGINT score, BIGINT payload; 4096-row batches prepared up front; the
// operator is warmed up with the same batches before timing, so the state is at steady size.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "exec/topn.h"

namespace weir {
namespace {

class NullSink final : public Operator {
 public:
  Status Push(const RecordBatch& b) override {
    rows += b.num_rows();
    return Status::OK();
  }
  std::string Describe() const override { return "Null"; }
  int64_t rows = 0;
};

SchemaPtr Schema3() {
  return std::make_shared<Schema>(std::vector<Field>{
      {"part", DataType::Int64()}, {"score", DataType::Int64()}, {"payload", DataType::Int64()}});
}

std::vector<RecordBatch> MakeBatches(int64_t partitions, bool rising, int64_t batches, int64_t* next_score) {
  std::mt19937_64 rng(42);
  std::vector<RecordBatch> out;
  for (int64_t b = 0; b < batches; ++b) {
    RecordBatch batch(Schema3());
    for (int c = 0; c < 3; ++c) batch.columns().push_back(std::make_shared<Column>(DataType::Int64()));
    for (int64_t i = 0; i < kBatchRowsDefault; ++i) {
      batch.columns()[0]->Append<int64_t>(static_cast<int64_t>(rng() % static_cast<uint64_t>(partitions)));
      batch.columns()[1]->Append<int64_t>(rising ? (*next_score)++ : static_cast<int64_t>(rng() >> 1));
      batch.columns()[2]->Append<int64_t>(i);
    }
    batch.set_num_rows(kBatchRowsDefault);
    out.push_back(std::move(batch));
  }
  return out;
}

void Run(benchmark::State& state, bool rising) {
  const int64_t limit = state.range(0);
  const int64_t partitions = state.range(1);
  TopNOptions o;
  o.input_schema = Schema3();
  o.partition_columns = {0};
  o.order = {{1, true, false}};  // score DESC
  o.limit = limit;
  o.with_row_number = state.range(2) != 0;
  auto made = TopNOperator::Make(o);
  if (!made.ok()) {
    state.SkipWithError(made.status().ToString().c_str());
    return;
  }
  std::unique_ptr<TopNOperator> op = std::move(made).value();
  NullSink sink;
  op->set_output(&sink);
  int64_t next_score = 0;
  const std::vector<RecordBatch> warm = MakeBatches(partitions, rising, 64, &next_score);
  for (const RecordBatch& b : warm)
    if (!op->Push(b).ok()) state.SkipWithError("push failed");
  // Rising scores must keep rising past the warm-up; random ones are reused.
  std::vector<RecordBatch> batches = rising ? MakeBatches(partitions, true, 64, &next_score) : warm;
  int64_t rows = 0;
  sink.rows = 0;
  size_t k = 0;
  for (auto _ : state) {
    if (!op->Push(batches[k]).ok()) state.SkipWithError("push failed");
    rows += batches[k].num_rows();
    if (++k == batches.size()) {
      k = 0;
      if (rising) {
        state.PauseTiming();
        // Rebuild with higher scores so every row still enters.
        batches = MakeBatches(partitions, true, 64, &next_score);
        state.ResumeTiming();
      }
    }
  }
  state.SetItemsProcessed(rows);
  state.counters["out_rows_per_in_row"] = static_cast<double>(sink.rows) / static_cast<double>(rows);
  state.counters["state_MiB"] = static_cast<double>(op->state_bytes()) / (1 << 20);
}

void BM_TopN(benchmark::State& state) { Run(state, false); }
void BM_TopNRising(benchmark::State& state) { Run(state, true); }

BENCHMARK(BM_TopN)->Args({3, 10000, 0})->Args({3, 10000, 1})->Args({1, 10000, 0})->Args({3, 100, 0})->Args({10, 100000, 0});
BENCHMARK(BM_TopNRising)->Args({3, 10000, 0})->Args({3, 10000, 1})->Args({1, 1000000, 1});

}  // namespace
}  // namespace weir

BENCHMARK_MAIN();
