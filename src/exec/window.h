// WindowOperator: assigns event-time windows (TUMBLE, HOP, SESSION) to rows by appending
// window_start and window_end (TIMESTAMP) to every row.
//
//   TUMBLE: one window per row, [floor(ts / size) * size, + size), aligned to the Unix epoch.
//   HOP:    size / slide windows per row (rows are repeated), each [k * slide, k * slide + size)
//           containing ts. Output batches are split so none exceeds kBatchRowsMax rows.
//   SESSION: the row's own initial session [ts, ts + gap); the aggregation merges sessions.
// Rows whose time is NULL belong to no window and are dropped (counted in rows_dropped()).
// Allocation-free in steady state (reused columns and index vectors). Single-threaded.
#pragma once

#include <vector>

#include "exec/operator.h"
#include "sql/logical_plan.h"

namespace weir {

class WindowOperator final : public Operator {
 public:
  WindowOperator(WindowSpec spec, SchemaPtr output_schema);
  Status Push(const RecordBatch& batch) override;
  std::string Describe() const override { return "Window " + spec_.ToString(); }
  int64_t rows_dropped() const { return rows_dropped_; }

 private:
  Status Emit(const RecordBatch& in, int64_t rows);

  WindowSpec spec_;
  SchemaPtr schema_;
  RecordBatch out_;
  std::vector<uint32_t> sel_;     // input row of each output row
  std::vector<int64_t> starts_;   // window start of each output row
  int64_t rows_dropped_ = 0;
};

/// LateFilterOperator: drops the rows whose last window has closed — its end plus the allowed
/// lateness is at or below the current watermark — counting them, or sends them to a late-data
/// sink operator. Sits right before the WindowOperator of a windowed aggregate.
class LateFilterOperator final : public Operator {
 public:
  LateFilterOperator(WindowSpec spec, int64_t allowed_lateness_us, Operator* late_sink);
  Status Push(const RecordBatch& batch) override;
  Status Finish() override;
  std::string Describe() const override;
  int64_t rows_late() const { return rows_late_; }

 private:
  WindowSpec spec_;
  int64_t lateness_us_;
  Operator* late_sink_;  // may be null: drop
  std::vector<uint32_t> keep_, late_;
  RecordBatch out_, late_out_;
  int64_t rows_late_ = 0;
};

}  // namespace weir
