// WindowOperator: assigns event-time windows (TUMBLE, HOP, SESSION) to rows by appending
// window_start and window_end (TIMESTAMP) to every row.
//
//   TUMBLE: one window per row, [floor(ts / size) * size, + size), aligned to the Unix epoch.
//   HOP:    size / slide windows per row (rows are repeated), each [k * slide, k * slide + size)
//           containing ts. Output batches are split so none exceeds kBatchRowsMax rows.
//   SESSION: the row's own initial session [ts, ts + gap); the aggregation merges sessions.
// Rows whose time is NULL belong to no window and are dropped (counted in rows_dropped()).
//
// Lateness (windowed aggregates over a source with a watermark): each (row, window) pair whose
// window has closed — window_end + allowed lateness at or below the watermark — is dropped and
// counted; a row all of whose windows have closed is a late row: counted, and sent whole (its
// input columns) to the late-data sink when there is one. The watermark a row is judged
// against is the one *as of the rows before it*: the larger of the watermark this operator
// received and the running maximum of the source's watermark expression over the rows it has
// seen. The operator reads the source's rows directly (no filter is pushed below it), so what is
// late depends only on the order of the source's rows, never on how they were batched.
// Processing time (TUMBLE/HOP over PROCTIME()): every row of a batch takes the wall clock read
// once for the batch (Env::NowMicros, never below the previous batch's), and after the batch
// the operator sends that clock downstream as its watermark, so a window fires once the clock
// passes its end and a later batch arrives (no timer yet: an idle input holds windows open).
// Event-time watermarks from the input are not forwarded; the final watermark of a bounded
// input is, and fires every window. No row is ever late.
// Allocation-free in steady state (reused columns and index vectors). Single-threaded.
#pragma once

#include <vector>

#include <memory>

#include "exec/operator.h"
#include "expr/evaluator.h"
#include "sql/logical_plan.h"

namespace weir {

class WindowOperator final : public Operator {
 public:
  WindowOperator(WindowSpec spec, SchemaPtr output_schema);
  /// Enables the lateness check. `watermark_expr` (over the input columns, may be null) is the
  /// source's watermark expression; `late_sink` (may be null) receives whole late rows.
  void EnableLateCheck(int64_t allowed_lateness_us, ExprPtr watermark_expr, Operator* late_sink);

  Status Push(const RecordBatch& batch) override;
  Status Finish() override;
  Status OnWatermark(int64_t watermark_us) override;
  std::string Describe() const override;
  int64_t rows_dropped() const { return rows_dropped_; }
  /// Rows all of whose windows had closed (dropped or sent to the late-data sink).
  int64_t rows_late() const { return rows_late_; }
  /// Checkpoints: the drop / late counters, the running watermark of the lateness check and
  /// the processing-time clock (no rows are buffered).
  Status SnapshotState(StateWriter* w) const override;
  Status RestoreState(StateReader* r) override;

 private:
  Status Emit(const RecordBatch& in, int64_t rows);
  Status PushProcessingTime(const RecordBatch& batch);
  Status SendLate(const RecordBatch& in, int64_t rows);

  WindowSpec spec_;
  SchemaPtr schema_;
  RecordBatch out_;
  std::vector<uint32_t> sel_;     // input row of each output row
  std::vector<int64_t> starts_;   // window start of each output row
  int64_t rows_dropped_ = 0;
  int64_t proctime_us_ = kNoWatermark;  // processing time: the clock of the last batch
  // lateness
  bool late_check_ = false;
  int64_t lateness_us_ = 0;
  std::unique_ptr<ExprEvaluator> watermark_;
  Operator* late_sink_ = nullptr;
  int64_t running_us_ = kNoWatermark;
  std::vector<uint32_t> late_rows_;
  RecordBatch late_out_;
  int64_t rows_late_ = 0;
};

}  // namespace weir
