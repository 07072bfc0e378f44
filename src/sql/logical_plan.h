// Logical plans: the binder's output and the optimizer's input.
//
// A plan is a tree of nodes; each node has an output Schema, and its expressions reference
// columns of its (single) input by index. Plans are built once per statement and never
// touched per batch. Not thread-safe to mutate; immutable after optimization.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "batch/record_batch.h"
#include "expr/expr.h"
#include "sql/statement.h"

namespace weir {

enum class PlanKind : uint8_t {
  kScan,     // read a source or a materialized view
  kFilter,   // keep rows where `predicate` is true
  kProject,  // compute `exprs`
  kSort,     // snapshot queries only
  kLimit,    // snapshot queries only
  kWindow,   // TUMBLE / HOP / SESSION: adds window_start, window_end
  kAggregate,  // GROUP BY: group keys first, then aggregate results
  kUnionAll,   // concatenation of its inputs (same column types)
  kJoin,       // equi-join of two inputs: left columns, then right columns (semi/anti: left only)
  kTopN,       // ROW_NUMBER() OVER (PARTITION BY .. ORDER BY ..) <= limit: input columns + row_number
};

enum class JoinKind : uint8_t { kInner, kLeft, kRight, kFull, kSemi, kAnti };
std::string_view JoinKindName(JoinKind k);

enum class WindowKind : uint8_t { kTumble, kHop, kSession };

/// A window table-valued function: TUMBLE(rel, col, size), HOP(rel, col, slide, size),
/// SESSION(rel, col, gap). Windows are aligned to the Unix epoch; all sizes in µs.
struct WindowSpec {
  WindowKind kind = WindowKind::kTumble;
  int time_column = -1;  // input column (TIMESTAMP)
  int64_t size_us = 0;   // TUMBLE/HOP size
  int64_t slide_us = 0;  // HOP slide (== size for TUMBLE)
  int64_t gap_us = 0;    // SESSION gap
  /// TUMBLE/HOP over PROCTIME(): rows take the wall clock when processed (time_column = -1)
  /// and the window operator's watermark is that clock (see exec/window.h).
  bool processing_time = false;
  /// End of the last window that can contain a row at `ts` (row is late once it has closed).
  int64_t LastWindowEnd(int64_t ts) const;
  std::string ToString() const;
};

/// How an aggregation emits its results.
enum class AggregateEmit : uint8_t {
  kOnUpdate,       // changelog: each input batch produces - old / + new rows
  kOnWindowClose,  // append-only: one final row per window once the watermark passes its end
  kOnFinish,       // snapshot queries: everything once, at end of input
};

struct AggregateCall {
  std::string name;     // count_star, count, sum, avg, min, max
  int arg = -1;         // input column (none for count_star)
  bool distinct = false;
  int filter = -1;      // input BOOLEAN column of FILTER (WHERE ...), or -1
  DataType result_type;
  std::string display;  // for EXPLAIN: "sum(price)"
};

struct SortKey {
  ExprPtr expr;
  bool descending = false;
  bool nulls_first = false;  // PostgreSQL default: NULLS LAST for ASC, FIRST for DESC
};

/// A lower bound on a column of the rows still to come: once the stream's watermark is W, every
/// row that is not late has `column` >= W + offset_us. The watermark column itself has offset 0;
/// TUMBLE/HOP window bounds and the window_end of a closed-window (EMIT ON WINDOW CLOSE)
/// aggregate derive theirs. Joins use bounds to drop state the watermark has made unmatchable.
struct TimeBound {
  int column = -1;
  int64_t offset_us = 0;
  bool operator==(const TimeBound&) const = default;
};

/// State trimming of one side of a join: a row r kept on this side can no longer match once
/// the other side's watermark is greater than r[column] + offset_us (derived from the join
/// condition and the other side's time bounds; see DeriveJoinExpiry). column = -1: never.
struct JoinExpiry {
  int column = -1;
  int64_t offset_us = 0;
  bool enabled() const { return column >= 0; }
};

struct LogicalPlan;
using PlanPtr = std::shared_ptr<LogicalPlan>;

struct LogicalPlan {
  PlanKind kind;
  SchemaPtr schema;  // output
  std::vector<PlanPtr> inputs;

  // kScan
  std::string relation;
  ObjectKind relation_kind = ObjectKind::kSource;
  SchemaPtr relation_schema;   // the relation's full schema
  std::vector<int> projection;  // relation columns produced, in output order

  // kFilter
  ExprPtr predicate;
  // kProject
  std::vector<ExprPtr> exprs;
  // kSort
  std::vector<SortKey> sort_keys;
  // kLimit
  int64_t limit = -1;  // -1 = none
  int64_t offset = 0;

  // kWindow, and kAggregate over windows
  WindowSpec window;
  bool windowed = false;  // kAggregate: groups by a window (window_start/window_end keys)
  // kAggregate: the first group_count input columns are the group keys
  int group_count = 0;
  std::vector<AggregateCall> aggregates;
  int window_start_key = -1;  // index among the group keys, or -1
  int window_end_key = -1;
  AggregateEmit emit = AggregateEmit::kOnUpdate;
  int64_t allowed_lateness_us = 0;
  // kWindow: drop rows of closed windows (judged against the source's watermark, row by row),
  // sending whole-late rows to `late_sink` (empty: count and drop)
  bool late_check = false;
  std::string late_sink;
  // kScan: produce every relation column even if unused (late rows go to a sink whole)
  bool keep_all_columns = false;
  // kScan: the relation's watermark column (relation index), or -1; whether it is append-only
  int relation_watermark_column = -1;
  ExprPtr relation_watermark_expr;     // over the relation's columns
  bool keep_watermark_columns = false;  // produce the columns relation_watermark_expr reads
  bool relation_append_only = true;

  // kJoin: left_keys[k] (a left input column) = right_keys[k] (a right input column); the
  // residual predicate reads the joined row (left columns, then right columns)
  JoinKind join_kind = JoinKind::kInner;
  std::vector<int> left_keys;
  std::vector<int> right_keys;
  ExprPtr residual;
  // kJoin: a lookup join (FOR SYSTEM_TIME AS OF PROCTIME()): each left row joins the right
  // relation as it is when the row is processed; right changes emit nothing
  bool lookup = false;
  // kJoin: an ASOF join (ASOF [LEFT] JOIN … ON keys AND left.t >= right.t): each left row with
  // the right row of its key at the latest time at or before (strict: before) its own
  bool asof = false;
  int asof_left_time = -1;   // left input column
  int asof_right_time = -1;  // right input column
  bool asof_strict = false;
  // kJoin: state trimming per side (computed by ComputeStreamProperties)
  JoinExpiry left_expiry;
  JoinExpiry right_expiry;
  // kTopN: partition columns, order (sort_keys over input columns), limit (-1 until the
  // enclosing query's `rn <= N` sets it), whether row_number is produced
  std::vector<int> partition_columns;
  bool with_row_number = true;

  /// Bound on operator state (joins), 0 = unlimited.
  size_t state_size_max_bytes = 0;

  /// Output column carrying the relation's watermark (event time), or -1.
  int watermark_column = -1;
  /// kScan: bounds on the relation's columns (relation indices) beyond its watermark column
  /// (a materialized view's, recorded at creation).
  std::vector<TimeBound> relation_time_bounds;
  /// Output columns with a lower bound relative to the watermark (computed bottom-up).
  std::vector<TimeBound> time_bounds;

  /// True when the plan only appends rows (no retractions). All plans are, until aggregates.
  bool append_only = true;
  /// True when the plan contains a Sort or Limit (valid only for snapshot SELECTs).
  bool HasSnapshotOnlyNodes() const;

  /// Indented tree for EXPLAIN.
  std::string ToString(int indent = 0) const;
};

PlanPtr MakeScan(std::string relation, ObjectKind kind, SchemaPtr relation_schema);
PlanPtr MakeFilter(PlanPtr input, ExprPtr predicate);
PlanPtr MakeProject(PlanPtr input, std::vector<ExprPtr> exprs, std::vector<std::string> names);
PlanPtr MakeWindow(PlanPtr input, WindowSpec spec);

/// Recomputes watermark_column and append_only bottom-up (after binding or rewriting).
void ComputeStreamProperties(LogicalPlan* plan);

/// Streaming settings of a continuous query, applied after binding: the emit mode of its
/// aggregation, allowed lateness (µs) and the late-data sink. Validates them (EMIT ON WINDOW
/// CLOSE needs a windowed aggregate whose time column carries a watermark) and inserts the late
/// filter. Recomputes append_only. `snapshot`: a one-off SELECT (aggregates emit at the end).
Status ConfigureStreaming(const PlanPtr& plan, bool snapshot, bool emit_on_window_close,
                          int64_t allowed_lateness_us, const std::string& late_sink);

/// Rewrites: constant folding, filter push-down (through projections, merged into one
/// conjunction directly above the scan), projection pruning (the scan reads only the columns
/// the plan uses; unused projections dropped). Errors from folding constants (1/0).
Result<PlanPtr> OptimizePlan(PlanPtr plan);

}  // namespace weir
