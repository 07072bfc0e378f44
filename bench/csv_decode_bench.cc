// CSV decode / encode throughput on the real flights file (3 M rows, 105 MB).
//
//   WEIR_FLIGHTS_CSV=path (default data/flights-3m.csv; produce it with
//   `mkdir -p data && zstd -dc ../shared/data/flights-3m.csv.zst > data/flights-3m.csv`
//   or scripts/get-flights.sh). Benchmarks skip with a message when the file is absent.
//
// Reported: bytes_per_second = input CSV bytes (decode) or output CSV bytes (encode).
//   BM_DecodeFlights/all      decoder over an in-memory copy, all 5 columns
//   BM_DecodeFlights/project2 the same, projection (delay, origin)
//   BM_FileSourceFlights      the file source: read(2) + decode, all columns
//   BM_EncodeFlights          CSV encoder over the decoded batches (header + 3 M rows)
//   BM_DecodeFlightsJson      JSON Lines decoder over the same rows encoded as JSON
//   BM_EncodeFlightsJson      JSON Lines encoder (bytes = JSON output)
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "connectors/file/file_source.h"
#include "formats/format.h"

namespace weir {
namespace {

std::string FlightsPath() {
  const char* env = std::getenv("WEIR_FLIGHTS_CSV");
  return env != nullptr ? env : "data/flights-3m.csv";
}

const std::string& FlightsText() {
  static const std::string text = [] {
    std::ifstream in(FlightsPath(), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }();
  return text;
}

SchemaPtr FlightsSchema() {
  return std::make_shared<Schema>(std::vector<Field>{{"date", DataType::Timestamp()},
                                                     {"delay", DataType::Int64()},
                                                     {"distance", DataType::Int64()},
                                                     {"origin", DataType::Varchar()},
                                                     {"destination", DataType::Varchar()}});
}

Options HeaderOptions() {
  Options o;
  (void)o.Set("header", "true");
  return o;
}

// Decodes the whole text in batches of 4096 rows; returns the row count.
int64_t DecodeAll(const std::string& text, const std::vector<int>& projection,
                  std::vector<RecordBatch>* keep = nullptr) {
  BadRecordHandler handler("flights.csv", ErrorPolicy::kFail);
  auto decoder = MakeDecoder("csv", FlightsSchema(), projection, HeaderOptions(), &handler);
  if (!decoder.ok()) std::abort();
  RecordBatch batch;
  size_t pos = 0;
  int64_t rows = 0;
  while (pos < text.size()) {
    if (keep != nullptr) batch = RecordBatch();
    batch.set_num_rows(0);
    size_t consumed = 0;
    Status st = (*decoder)->Decode(text.data() + pos, text.size() - pos, true, kBatchRowsDefault,
                                   &batch, &consumed);
    if (!st.ok()) {
      std::fprintf(stderr, "%s\n", st.ToString().c_str());
      std::abort();
    }
    pos += consumed;
    rows += batch.num_rows();
    if (keep != nullptr && batch.num_rows() > 0) keep->push_back(std::move(batch));
    if (consumed == 0) break;
  }
  return rows;
}

void BM_DecodeFlights(benchmark::State& state, std::vector<int> projection) {
  const std::string& text = FlightsText();
  if (text.empty()) {
    state.SkipWithError(("flights file not found: " + FlightsPath()).c_str());
    return;
  }
  int64_t rows = 0;
  for (auto _ : state) {
    rows = DecodeAll(text, projection);
    benchmark::DoNotOptimize(rows);
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
}
BENCHMARK_CAPTURE(BM_DecodeFlights, all, std::vector<int>{0, 1, 2, 3, 4})
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DecodeFlights, project2, std::vector<int>{1, 3})
    ->Unit(benchmark::kMillisecond);

void BM_FileSourceFlights(benchmark::State& state) {
  const std::string& text = FlightsText();
  if (text.empty()) {
    state.SkipWithError(("flights file not found: " + FlightsPath()).c_str());
    return;
  }
  Options options;
  (void)options.Set("path", FlightsPath());
  (void)options.Set("header", "true");
  int64_t rows = 0;
  for (auto _ : state) {
    auto source = MakeFileSource(options, FlightsSchema(), {0, 1, 2, 3, 4});
    if (!source.ok()) std::abort();
    RecordBatch batch;
    rows = 0;
    while (true) {
      auto r = (*source)->Next(&batch, kBatchRowsDefault);
      if (!r.ok()) std::abort();
      if (*r != PollResult::kBatch) break;
      rows += batch.num_rows();
    }
    benchmark::DoNotOptimize(rows);
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_FileSourceFlights)->Unit(benchmark::kMillisecond);

void BM_EncodeFlights(benchmark::State& state) {
  const std::string& text = FlightsText();
  if (text.empty()) {
    state.SkipWithError(("flights file not found: " + FlightsPath()).c_str());
    return;
  }
  static std::vector<RecordBatch> batches;
  if (batches.empty()) DecodeAll(text, {0, 1, 2, 3, 4}, &batches);
  auto encoder = MakeEncoder("csv", FlightsSchema(), false, HeaderOptions());
  if (!encoder.ok()) std::abort();
  Buffer out;
  int64_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    out.Clear();
    (*encoder)->WriteHeader(&out);
    for (const RecordBatch& batch : batches) {
      (*encoder)->Encode(batch, &out);
      bytes += static_cast<int64_t>(out.size());
      out.Clear();
    }
    benchmark::DoNotOptimize(bytes);
  }
  state.counters["output_bytes"] = static_cast<double>(bytes);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * bytes);
}
BENCHMARK(BM_EncodeFlights)->Unit(benchmark::kMillisecond);

// The same rows as JSON Lines (encoded once from the CSV): JSON decode and encode rates.
const std::string& FlightsJson() {
  static const std::string json = [] {
    std::vector<RecordBatch> batches;
    DecodeAll(FlightsText(), {0, 1, 2, 3, 4}, &batches);
    auto encoder = MakeEncoder("json", FlightsSchema(), false, Options());
    if (!encoder.ok()) std::abort();
    Buffer out;
    for (const RecordBatch& b : batches) (*encoder)->Encode(b, &out);
    return std::string(reinterpret_cast<const char*>(out.data()), out.size());
  }();
  return json;
}

void BM_DecodeFlightsJson(benchmark::State& state) {
  if (FlightsText().empty()) {
    state.SkipWithError(("flights file not found: " + FlightsPath()).c_str());
    return;
  }
  const std::string& text = FlightsJson();
  int64_t rows = 0;
  for (auto _ : state) {
    BadRecordHandler handler("flights.jsonl", ErrorPolicy::kFail);
    auto decoder = MakeDecoder("json", FlightsSchema(), {0, 1, 2, 3, 4}, Options(), &handler);
    if (!decoder.ok()) std::abort();
    RecordBatch batch;
    size_t pos = 0;
    rows = 0;
    while (pos < text.size()) {
      batch.set_num_rows(0);
      size_t consumed = 0;
      if (!(*decoder)
               ->Decode(text.data() + pos, text.size() - pos, true, kBatchRowsDefault, &batch,
                        &consumed)
               .ok())
        std::abort();
      pos += consumed;
      rows += batch.num_rows();
    }
    benchmark::DoNotOptimize(rows);
  }
  state.counters["rows"] = static_cast<double>(rows);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(text.size()));
}
BENCHMARK(BM_DecodeFlightsJson)->Unit(benchmark::kMillisecond);

void BM_EncodeFlightsJson(benchmark::State& state) {
  if (FlightsText().empty()) {
    state.SkipWithError(("flights file not found: " + FlightsPath()).c_str());
    return;
  }
  static std::vector<RecordBatch> batches;
  if (batches.empty()) DecodeAll(FlightsText(), {0, 1, 2, 3, 4}, &batches);
  auto encoder = MakeEncoder("json", FlightsSchema(), false, Options());
  if (!encoder.ok()) std::abort();
  Buffer out;
  int64_t bytes = 0;
  for (auto _ : state) {
    bytes = 0;
    for (const RecordBatch& batch : batches) {
      (*encoder)->Encode(batch, &out);
      bytes += static_cast<int64_t>(out.size());
      out.Clear();
    }
    benchmark::DoNotOptimize(bytes);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * bytes);
}
BENCHMARK(BM_EncodeFlightsJson)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace weir

BENCHMARK_MAIN();
