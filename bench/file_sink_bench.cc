// File sink throughput: direct mode vs two-phase commit (exactly-once) with a checkpoint
// (PreCommit + Commit) every second of wall time. Rows: (BIGINT, VARCHAR ~20 B, DOUBLE) as CSV,
// about 45 bytes a line, 4096-row batches. Writes into a fresh directory under
// $WEIR_BENCH_DIR, else /tmp (use a real disk: on tmpfs fdatasync costs nothing).
//   build/bench/file_sink_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "connectors/file/file_sink.h"

namespace weir {
namespace {

std::string BenchDir() {
  static std::string dir = [] {
    const char* base = std::getenv("WEIR_BENCH_DIR");
    std::string tmpl = std::string(base ? base : "/tmp") + "/weir_file_sink_bench_XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) std::abort();
    return tmpl;
  }();
  return dir;
}

RecordBatch MakeBatch(SchemaPtr schema, int64_t base) {
  RecordBatch batch(schema);
  for (const Field& f : schema->fields()) batch.columns().push_back(std::make_shared<Column>(f.type));
  for (int64_t r = 0; r < 4096; ++r) {
    batch.columns()[0]->Append<int64_t>(base + r);
    batch.columns()[1]->AppendString("name-" + std::to_string((base + r) * 7919 % 1000003));
    batch.columns()[2]->Append<double>(static_cast<double>(r) * 0.25);
  }
  batch.set_num_rows(4096);
  return batch;
}

// state.range(0): 0 = direct, 1 = two-phase commit with a checkpoint every second.
void BM_FileSink(benchmark::State& state) {
  const bool two_phase = state.range(0) == 1;
  auto schema = std::make_shared<Schema>(std::vector<Field>{
      {"id", DataType::Int64()}, {"name", DataType::Varchar()}, {"x", DataType::Double()}});
  const RecordBatch batch = MakeBatch(schema, 1'000'000);
  constexpr int64_t kBatchesPerIteration = 8000;  // ~33 M rows, ~1.5 GB
  int64_t rows = 0, bytes = 0, checkpoints = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string path = BenchDir() + (two_phase ? "/two_phase.csv" : "/direct.csv");
    std::filesystem::remove(path);
    Options options;
    if (!options.Set("path", path).ok()) std::abort();
    SinkContext context;
    context.two_phase_commit = two_phase;
    auto sink = MakeFileSink(options, schema, false, context);
    if (!sink.ok()) std::abort();
    state.ResumeTiming();
    uint64_t epoch = 0;
    auto last = std::chrono::steady_clock::now();
    for (int64_t b = 0; b < kBatchesPerIteration; ++b) {
      if (!(*sink)->Write(batch).ok()) std::abort();
      if (two_phase && std::chrono::steady_clock::now() - last >= std::chrono::seconds(1)) {
        StateWriter w;
        if (!(*sink)->PreCommit(++epoch, &w).ok() || !(*sink)->Commit(epoch).ok()) std::abort();
        last = std::chrono::steady_clock::now();
        ++checkpoints;
      }
    }
    if (two_phase) {  // the final checkpoint of a bounded run
      StateWriter w;
      if (!(*sink)->PreCommit(++epoch, &w).ok() || !(*sink)->Commit(epoch).ok()) std::abort();
      ++checkpoints;
    }
    if (!(*sink)->Close().ok()) std::abort();
    rows += kBatchesPerIteration * batch.num_rows();
    bytes += (*sink)->stats().bytes_written;
  }
  state.counters["rows/s"] = benchmark::Counter(static_cast<double>(rows), benchmark::Counter::kIsRate);
  state.counters["MB/s"] = benchmark::Counter(static_cast<double>(bytes) / 1e6, benchmark::Counter::kIsRate);
  state.counters["checkpoints"] = static_cast<double>(checkpoints);
}
BENCHMARK(BM_FileSink)->Arg(0)->Arg(1)->Iterations(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace
}  // namespace weir

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  std::filesystem::remove_all(weir::BenchDir());
  return 0;
}
