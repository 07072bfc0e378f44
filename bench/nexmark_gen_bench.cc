// Nexmark generator throughput: rows/s a NexmarkSource produces per table, for all columns, a
// 3-column projection and no columns (row count only), in default-size (4096-row) batches.
// Counters: rows/s (items_per_second), bytes/s of column data produced, and stream_events/s
// (the whole-stream event rate this table's rate corresponds to: rows/s * 50 / share).
//
//   build-*/bench/nexmark_gen_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "connectors/nexmark/nexmark_generator.h"
#include "connectors/nexmark/nexmark_source.h"

namespace weir {
namespace {

int64_t ColumnBytes(const RecordBatch& batch) {
  int64_t bytes = 0;
  for (const ColumnPtr& c : batch.columns()) {
    int64_t n = c->length();
    bytes += c->type().id == TypeId::kVarchar ? 4 * (n + 1) + c->offsets()[n]
                                              : n * c->type().byte_width();
  }
  return bytes;
}

void BM_NexmarkSource(benchmark::State& state, std::string table, std::vector<std::string> columns,
                      bool all_columns) {
  Options options;
  (void)options.Set("table", table);
  (void)options.Set("events", "0");  // unbounded: never runs dry
  (void)options.Set("seed", "42");
  SchemaPtr schema = NexmarkTableSchema(table).value();
  std::vector<int> projection;
  if (all_columns) {
    for (size_t i = 0; i < schema->num_fields(); ++i) projection.push_back(static_cast<int>(i));
  } else {
    for (const std::string& name : columns) projection.push_back(schema->FindField(name));
  }
  auto made = MakeNexmarkSource(options, schema, projection);
  if (!made.ok()) {
    state.SkipWithError(made.status().ToString().c_str());
    return;
  }
  std::unique_ptr<Source> source = std::move(made).value();
  RecordBatch batch;
  int64_t rows = 0, bytes = 0;
  for (auto _ : state) {
    auto r = source->Next(&batch, kBatchRowsDefault);
    if (!r.ok()) {
      state.SkipWithError(r.status().ToString().c_str());
      break;
    }
    rows += batch.num_rows();
    bytes += ColumnBytes(batch);
    benchmark::DoNotOptimize(batch);
  }
  int64_t share = table == "person"    ? nexmark::kPersonProportion
                  : table == "auction" ? nexmark::kAuctionProportion
                                       : nexmark::kBidProportion;
  state.SetItemsProcessed(rows);
  state.SetBytesProcessed(bytes);
  state.counters["stream_events/s"] =
      benchmark::Counter(static_cast<double>(rows) * nexmark::kProportionDenominator / share,
                         benchmark::Counter::kIsRate);
}

BENCHMARK_CAPTURE(BM_NexmarkSource, bid_all, "bid", {}, true);
BENCHMARK_CAPTURE(BM_NexmarkSource, bid_auction_price_date_time, "bid",
                  {"auction", "price", "date_time"}, false);
BENCHMARK_CAPTURE(BM_NexmarkSource, bid_no_columns, "bid", {}, false);
BENCHMARK_CAPTURE(BM_NexmarkSource, auction_all, "auction", {}, true);
BENCHMARK_CAPTURE(BM_NexmarkSource, auction_id_seller_category, "auction",
                  {"id", "seller", "category"}, false);
BENCHMARK_CAPTURE(BM_NexmarkSource, person_all, "person", {}, true);
BENCHMARK_CAPTURE(BM_NexmarkSource, person_id_name_state, "person", {"id", "name", "state"}, false);

}  // namespace
}  // namespace weir

BENCHMARK_MAIN();
