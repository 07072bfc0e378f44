// Ingest-to-emit latency of a streaming aggregation under EMIT ON UPDATE.
//
// A Nexmark bid stream is offered at a fixed rate (default 1,000,000 events/s) in small batches
// (default 16 rows): batch k is due at k * rows / rate seconds, and the driver spins until then,
// as a source receiving events at that rate would. Each batch is pushed through
//   SELECT auction, count(*), max(price) FROM bid GROUP BY auction   (EMIT ON UPDATE)
// and the time from the batch's ingest (its last event's arrival) to the moment its changelog
// update reaches the sink is recorded. Prints p50 / p99 / p99.9 / max in µs and the achieved
// rate. In-process, one core; no allocation or I/O on the path.
//
// Usage: latency_bench [events=2000000] [rate=1000000] [batch_rows=16]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "connectors/nexmark/nexmark_source.h"
#include "engine/pipeline.h"
#include "sql/binder.h"
#include "sql/statement.h"

namespace weir {
namespace {

using Clock = std::chrono::steady_clock;

class ProbeSink final : public Operator {
 public:
  Status Push(const RecordBatch& batch) override {
    last_emit = Clock::now();
    rows += batch.num_rows();
    return Status::OK();
  }
  Status Finish() override { return Status::OK(); }
  std::string Describe() const override { return "Probe"; }
  Clock::time_point last_emit;
  int64_t rows = 0;
};

int Main(int argc, char** argv) {
  const int64_t events = argc > 1 ? std::atoll(argv[1]) : 2'000'000;
  const double rate = argc > 2 ? std::atof(argv[2]) : 1e6;
  const int64_t batch_rows = argc > 3 ? std::atoll(argv[3]) : 16;

  auto schema = NexmarkTableSchema("bid");
  if (!schema.ok()) return 1;
  const std::string query = "SELECT auction, count(*) AS n, max(price) AS top FROM bid GROUP BY auction";
  LineMap lines(query);
  auto tree = PgParseTree::Parse(query, 0, lines);
  BindContext ctx;
  ctx.lines = &lines;
  ctx.lookup = [&](std::string_view) -> std::optional<RelationRef> {
    return RelationRef{"bid", ObjectKind::kSource, *schema, -1, nullptr, true};
  };
  auto plan = BindQuery(tree->statement(), ctx);
  if (!plan.ok()) {
    std::fprintf(stderr, "%s\n", plan.status().ToString().c_str());
    return 1;
  }
  if (!ConfigureStreaming(*plan, false, false, 0, "").ok()) return 1;
  auto optimized = OptimizePlan(*plan);
  auto probe_owned = std::make_unique<ProbeSink>();
  ProbeSink* probe = probe_owned.get();
  auto pipeline = BuildPipeline(*optimized, std::move(probe_owned));
  if (!pipeline.ok()) {
    std::fprintf(stderr, "%s\n", pipeline.status().ToString().c_str());
    return 1;
  }
  Options opts;
  opts.Set("table", "bid").IgnoreError();
  opts.Set("events", std::to_string(events)).IgnoreError();
  auto source = MakeNexmarkSource(opts, *schema, (*pipeline)->scans[0].projection);
  if (!source.ok()) return 1;

  std::vector<double> latencies_us;
  latencies_us.reserve(static_cast<size_t>(events / batch_rows + 1));
  RecordBatch batch;
  Operator* head = (*pipeline)->scans[0].entry;
  const auto t0 = Clock::now();
  int64_t offered = 0;
  while (true) {
    auto r = (*source)->Next(&batch, batch_rows);
    if (!r.ok() || *r == PollResult::kEnd) break;
    if (*r != PollResult::kBatch) continue;
    offered += batch.num_rows();
    // The batch's last event arrives at offered / rate seconds.
    const auto due = t0 + std::chrono::nanoseconds(static_cast<int64_t>(static_cast<double>(offered) / rate * 1e9));
    while (Clock::now() < due) {
    }
    const auto ingest = Clock::now();
    if (!head->Push(batch).ok()) return 1;
    latencies_us.push_back(std::chrono::duration<double, std::micro>(probe->last_emit - ingest).count());
  }
  const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
  std::sort(latencies_us.begin(), latencies_us.end());
  auto pct = [&](double p) { return latencies_us[static_cast<size_t>(p * static_cast<double>(latencies_us.size() - 1))]; };
  std::printf("events %lld, offered rate %.0f/s, achieved %.0f/s, batch %lld rows, %zu batches, %lld changelog rows\n",
              static_cast<long long>(offered), rate, static_cast<double>(offered) / wall,
              static_cast<long long>(batch_rows), latencies_us.size(), static_cast<long long>(probe->rows));
  std::printf("ingest->emit latency: p50 %.2f us, p99 %.2f us, p99.9 %.2f us, max %.2f us\n", pct(0.5), pct(0.99),
              pct(0.999), latencies_us.back());
  return 0;
}

}  // namespace
}  // namespace weir

int main(int argc, char** argv) { return weir::Main(argc, argv); }
