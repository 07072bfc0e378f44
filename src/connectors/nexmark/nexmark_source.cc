#include "connectors/nexmark/nexmark_source.h"

#include <algorithm>
#include <limits>
#include <string>

#include "connectors/nexmark/nexmark_generator.h"
#include "types/datetime.h"

namespace weir {

namespace {

using nexmark::Table;

constexpr std::string_view kDefaultBaseTime = "2015-07-15 00:00:00";
/// Paced sources release about this many batches per second at most (10 ms of events each).
constexpr int64_t kPacedBatchesPerSecond = 100;
/// Longest single sleep inside Next(), so a slow rate does not block the driver for long.
constexpr int64_t kPaceSleepMaxMicros = 100'000;

SchemaPtr BuildSchema(Table table) {
  auto bigint = DataType::Int64();
  auto varchar = DataType::Varchar();
  auto ts = DataType::Timestamp();
  std::vector<Field> f;
  switch (table) {
    case Table::kPerson:
      f = {{"id", bigint},           {"name", varchar}, {"email_address", varchar},
           {"credit_card", varchar}, {"city", varchar}, {"state", varchar},
           {"date_time", ts},        {"extra", varchar}};
      break;
    case Table::kAuction:
      f = {{"id", bigint},          {"item_name", varchar}, {"description", varchar},
           {"initial_bid", bigint}, {"reserve", bigint},    {"date_time", ts},
           {"expires", ts},         {"seller", bigint},     {"category", bigint},
           {"extra", varchar}};
      break;
    case Table::kBid:
      f = {{"auction", bigint}, {"bidder", bigint}, {"price", bigint}, {"channel", varchar},
           {"url", varchar},    {"date_time", ts},  {"extra", varchar}};
      break;
  }
  for (Field& field : f) field.nullable = false;
  return std::make_shared<const Schema>(std::move(f));
}

const SchemaPtr& TableSchema(Table table) {
  static const SchemaPtr kSchemas[3] = {BuildSchema(Table::kPerson), BuildSchema(Table::kAuction),
                                        BuildSchema(Table::kBid)};
  return kSchemas[static_cast<int>(table)];
}

class NexmarkSource final : public Source {
 public:
  NexmarkSource(Env* env, Table table, uint64_t seed, int64_t base_time_us, int64_t events,
                int64_t rate, std::vector<int> columns, SchemaPtr output_schema)
      : env_(env),
        generator_(table, seed, base_time_us),
        order_(table, seed),
        events_(events),
        rate_(rate),
        rows_total_(events > 0 ? nexmark::RowsOfTable(table, events)
                               : std::numeric_limits<int64_t>::max()),
        columns_(std::move(columns)),
        output_schema_(std::move(output_schema)),
        column_ptrs_(columns_.size()),
        batch_events_(static_cast<size_t>(kBatchRowsMax)) {
    for (int c : columns_) types_.push_back(TableSchema(table)->field(static_cast<size_t>(c)).type);
  }

  const SchemaPtr& output_schema() const override { return output_schema_; }

  Result<PollResult> Next(RecordBatch* out, int64_t rows_max) override {
    if (rows_max < 1)
      return InvalidArgument("nexmark source: rows_max must be >= 1, got {}", rows_max);
    if (order_.scanned_rows() >= rows_total_ && order_.held() == 0) return PollResult::kEnd;
    const int64_t rows_limit = std::min(rows_max, kBatchRowsMax);
    // Rows of this table up to which events may be scanned: all of them, or those due by now.
    const int64_t scan_end = rate_ > 0 ? PacedScanEnd(rows_limit) : rows_total_;
    const bool stream_end = bounded() && scan_end == rows_total_;
    const int64_t rows = order_.Next(scan_end, stream_end, rows_limit, batch_events_.data());
    if (rows == 0) {
      // Unpaced, this happens only at the very end; paced, nothing is due yet.
      return order_.scanned_rows() >= rows_total_ && order_.held() == 0 ? PollResult::kEnd
                                                                        : PollResult::kIdle;
    }

    std::vector<ColumnPtr>& cols = out->columns();
    cols.resize(columns_.size());
    for (size_t i = 0; i < columns_.size(); ++i) column_ptrs_[i] = ReuseColumn(&cols[i], types_[i]);
    generator_.Fill(batch_events_.data(), rows, columns_.data(), static_cast<int>(columns_.size()),
                    column_ptrs_.data());
    out->set_schema(output_schema_);
    out->set_num_rows(rows);
    out->DisableOps();
    rows_read_ += rows;
    return PollResult::kBatch;
  }

  bool bounded() const override { return events_ > 0; }

  SourceStats stats() const override {
    SourceStats s;
    s.rows_read = rows_read_;
    s.bytes_total = -1;
    return s;
  }

  Status SavePosition(StateWriter* w) const override {
    w->Begin("nexmark_source");
    w->U64(generator_.seed());
    w->I64(events_);
    w->I64(rows_read_);
    order_.SaveState(w);
    w->End();
    return Status::OK();
  }

  Status RestorePosition(StateReader* r) override {
    if (rows_read_ != 0 || order_.scanned_rows() != 0)
      return Internal("nexmark source: RestorePosition after Next()");
    r->Begin("nexmark_source");
    const uint64_t seed = r->U64();
    const int64_t events = r->I64();
    const int64_t rows_read = r->I64();
    if (!r->ok()) return r->status();
    if (seed != generator_.seed() || events != events_)
      return DataError("nexmark source: checkpointed with seed {} and events {}, now seed {} and "
                       "events {}", static_cast<int64_t>(seed), events,
                       static_cast<int64_t>(generator_.seed()), events_);
    WEIR_RETURN_IF_ERROR(order_.RestoreState(r));
    r->End();
    if (!r->ok()) return r->status();
    if (order_.scanned_rows() > rows_total_)
      return DataError("nexmark source: checkpoint position {} is past the end ({} rows)",
                       order_.scanned_rows(), rows_total_);
    rows_read_ = rows_read;
    return Status::OK();
  }

  std::string Describe() const override {
    std::string events = events_ > 0 ? std::to_string(events_) : std::string("unbounded");
    std::string rate = rate_ > 0 ? fmt::format(", rate={}", rate_) : std::string();
    return fmt::format("nexmark {} (events={}, seed={}{})", nexmark::TableName(generator_.table()),
                       events, static_cast<int64_t>(generator_.seed()), rate);
  }

 private:
  /// Number of events of the whole stream due at `now_us` (Env::MonotonicMicros; event k is
  /// due k / rate seconds after the first poll).
  int64_t EventsDue(int64_t now_us) const {
    const int64_t elapsed_us = std::max<int64_t>(now_us - start_us_, 0);
    __int128 due = static_cast<__int128>(elapsed_us) * rate_ / 1'000'000 + 1;
    return due > std::numeric_limits<int64_t>::max() / 2 ? std::numeric_limits<int64_t>::max() / 2
                                                         : static_cast<int64_t>(due);
  }

  /// Microseconds after the start at which `event` is due (rounded up, so that EventsDue at
  /// that time includes it).
  int64_t DueOffset(int64_t event) const {
    auto us = (static_cast<__int128>(event) * 1'000'000 + rate_ - 1) / rate_;
    return us > std::numeric_limits<int64_t>::max() / 2 ? std::numeric_limits<int64_t>::max() / 2
                                                        : static_cast<int64_t>(us);
  }

  /// The scan limit (a row index of this table) of the events due now, after waiting (on the
  /// Env's clock) up to kPaceSleepMaxMicros for about 10 ms worth of them (at most `rows`).
  int64_t PacedScanEnd(int64_t rows) {
    const int64_t now = env_->MonotonicMicros();
    Table table = generator_.table();
    if (!started_) {
      // Event k is due k / rate seconds after the start; a restored source resumes at its
      // position's due time rather than waiting out the time before it again.
      started_ = true;
      const int64_t first = order_.scanned_rows() > 0
                                ? nexmark::EventOfRow(table, order_.scanned_rows())
                                : 0;
      start_us_ = now - DueOffset(first);
    }
    // About 10 ms of this table's rows, at least one.
    int64_t share = table == Table::kPerson    ? nexmark::kPersonProportion
                    : table == Table::kAuction ? nexmark::kAuctionProportion
                                               : nexmark::kBidProportion;
    auto per_batch = static_cast<__int128>(rate_) * share /
                     (nexmark::kProportionDenominator * kPacedBatchesPerSecond);
    int64_t target =
        per_batch >= rows ? rows : std::max<int64_t>(static_cast<int64_t>(per_batch), 1);
    const int64_t scanned = order_.scanned_rows();
    const int64_t wanted_end = std::min(scanned + target, rows_total_);
    int64_t due_end = nexmark::RowsOfTable(table, EventsDue(now));
    if (due_end < wanted_end) {
      const int64_t want = start_us_ + DueOffset(nexmark::EventOfRow(table, wanted_end - 1));
      env_->SleepForMicros(std::min(want - now, kPaceSleepMaxMicros));
      due_end = nexmark::RowsOfTable(table, EventsDue(env_->MonotonicMicros()));
    }
    return std::min(due_end, rows_total_);
  }

  Env* env_;  // clock and sleeps of the pacing (not owned)
  nexmark::Generator generator_;
  nexmark::ReleaseOrder order_;
  int64_t events_;
  int64_t rate_;        // events/s of the whole stream; 0 = unpaced
  int64_t rows_total_;  // rows of this table among the first events_ events
  std::vector<int> columns_;
  std::vector<DataType> types_;
  SchemaPtr output_schema_;
  std::vector<Column*> column_ptrs_;
  std::vector<int64_t> batch_events_;  // event numbers of the batch being built
  int64_t rows_read_ = 0;
  bool started_ = false;
  int64_t start_us_ = 0;  // MonotonicMicros at which event 0 is due
};

}  // namespace

Result<SchemaPtr> NexmarkTableSchema(std::string_view table) {
  WEIR_ASSIGN_OR_RETURN(Table t, nexmark::ParseTable(table));
  return TableSchema(t);
}

Result<std::unique_ptr<Source>> MakeNexmarkSource(const Options& options, SchemaPtr schema,
                                                  const std::vector<int>& projection,
                                                  const SourceContext& context) {
  (void)options.GetString("connector");
  WEIR_ASSIGN_OR_RETURN(std::string table_name, options.GetRequired("table"));
  WEIR_ASSIGN_OR_RETURN(Table table, nexmark::ParseTable(table_name));
  WEIR_ASSIGN_OR_RETURN(int64_t events, options.GetInt("events", 10'000'000));
  if (events < 0)
    return InvalidArgument("option 'events' must be >= 0 (0 = unbounded), got {}", events);
  WEIR_ASSIGN_OR_RETURN(int64_t seed, options.GetInt("seed", 0));
  int64_t rate = 0;
  if (options.Has("rate")) {
    WEIR_ASSIGN_OR_RETURN(rate, options.GetInt("rate", 0));
    if (rate <= 0) return InvalidArgument("option 'rate' must be > 0 events/s, got {}", rate);
  }
  std::string base_text = options.GetString("base_time", kDefaultBaseTime);
  int64_t base_time_us = 0;
  if (!ParseTimestamp(base_text, &base_time_us))
    return InvalidArgument("option 'base_time' must be a timestamp 'YYYY-MM-DD HH:MM:SS', got '{}'",
                           base_text);

  const SchemaPtr& own = TableSchema(table);
  if (!schema) schema = own;
  std::vector<int> columns;
  std::vector<Field> fields;
  for (int p : projection) {
    if (p < 0 || static_cast<size_t>(p) >= schema->num_fields())
      return InvalidArgument("nexmark {}: projection index {} out of range ({} columns)",
                             nexmark::TableName(table), p, schema->num_fields());
    const Field& declared = schema->field(static_cast<size_t>(p));
    int c = own->FindField(declared.name);
    if (c < 0)
      return InvalidArgument("nexmark table '{}' has no column '{}' (columns: {})",
                             nexmark::TableName(table), declared.name, own->ToString());
    const Field& actual = own->field(static_cast<size_t>(c));
    if (declared.type != actual.type)
      return InvalidArgument("nexmark column {}.{} is {}, declared {}", nexmark::TableName(table),
                             actual.name, actual.type.ToString(), declared.type.ToString());
    columns.push_back(c);
    fields.push_back(Field{declared.name, actual.type, false});
  }
  auto output_schema = std::make_shared<const Schema>(std::move(fields));
  return std::unique_ptr<Source>(new NexmarkSource(context.env, table, static_cast<uint64_t>(seed),
                                                   base_time_us, events, rate, std::move(columns),
                                                   std::move(output_schema)));
}

}  // namespace weir
