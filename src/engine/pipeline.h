// Pipeline: the physical form of one continuous query (a materialized view or a sink) or one
// snapshot query: a tree of operators ending in a terminal (materialize / sink / collect), fed
// by one or more scans of sources or views (a join or UNION ALL has several).
//
// Built once from an optimized LogicalPlan; the driver attaches each scan's entry operator to
// a source reader or to a view's subscriber fan-out. Owned by its catalog entry; runs on the
// driver thread. Multi-input operators combine their inputs' watermarks (minimum) and finish
// when every input has.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "exec/operator.h"
#include "sql/logical_plan.h"

namespace weir {

/// One scan leaf of a pipeline.
struct ScanInput {
  const LogicalPlan* node = nullptr;  // the kScan plan node
  std::string relation;
  ObjectKind kind = ObjectKind::kSource;
  SchemaPtr relation_schema;  // full schema of the scanned relation
  std::vector<int> projection;
  Operator* entry = nullptr;  // where this scan's batches (laid out as `projection`) go
  // Adapter picking this scan's columns from a shared wider reader (may be null).
  std::unique_ptr<Operator> adapter;
  bool finished = false;

  /// The operator to push batches laid out as `input_columns` (relation column indices) into:
  /// `entry`, or a ColumnSelect adapter in front of it when the layouts differ.
  Operator* Attach(const std::vector<int>& input_columns);
  /// The operator Attach() last returned (entry when no adapter).
  Operator* attached() const { return adapter ? adapter.get() : entry; }
};

struct Pipeline {
  PlanPtr plan;
  std::vector<ScanInput> scans;
  // Every operator, the terminal included (owned here; wiring is by raw pointers).
  std::vector<std::unique_ptr<Operator>> ops;
  Operator* terminal = nullptr;
  // Plan node -> operator, for EXPLAIN.
  std::vector<std::pair<const LogicalPlan*, Operator*>> node_ops;
  // Operators with statistics (owned by `ops`).
  std::vector<class HashAggregateOperator*> aggregates;
  std::vector<class WindowOperator*> windows;
  std::vector<class HashJoinOperator*> joins;
  bool started = false;  // attached to its inputs in some run

  bool finished() const {
    for (const auto& s : scans)
      if (!s.finished) return false;
    return true;
  }
  bool ReadsRelation(const std::string& lower_name) const;

  /// Checkpoints (docs/operator-state.md). Writes a "pipeline" section: the operator count,
  /// then for every operator of `ops` in order (leaf first, terminal last — the same order for
  /// the same plan) a section tagged with its kind (OperatorKind) holding its last watermark
  /// (i64) and its SnapshotState bytes. Call between batches on the pipeline thread.
  Status SnapshotState(StateWriter* w) const;
  /// Restores a freshly built pipeline of the same SQL before any input: checks the operator
  /// count and every operator's kind, then restores each operator's watermark
  /// (RestoreWatermark, no OnWatermark) and state. Errors (kDataError): "state does not match
  /// the pipeline: operator 3 is HashJoin, checkpoint has TopN" / "... has 5 operators,
  /// checkpoint has 4", or an operator's own error prefixed with "operator N (Kind): ". After
  /// an error the pipeline is unusable (drop it).
  Status RestoreState(StateReader* r);
  /// EXPLAIN text: the operator tree, root first; `scan_detail(scan node)` adds text to scans.
  std::string Explain(const std::function<std::string(const LogicalPlan&)>& scan_detail) const;
};

/// The operator's kind as a checkpoint tag and in messages: "HashAggregate", "HashJoin",
/// "AsofJoin", "TopN", "Window", "UnionAll", "Filter", "Project", "Sort", "Limit",
/// "Consolidate", "Materialize", "Sink", "Collect", "ColumnSelect", "FanOut", or "Operator".
std::string_view OperatorKind(const Operator& op);

/// Resolves a late-data sink name to the operator that writes it (rows of `schema`).
using LateSinkResolver = std::function<Result<Operator*>(const std::string& sink, SchemaPtr schema)>;

/// Builds the operator tree for `plan`, ending in `terminal`. `state`: the keyed-state backend
/// of its aggregations (exec/state_backend.h); with RocksDB, `state.name` is the pipeline's
/// name and each aggregation's state is named StateOperatorName(state.name, its index in
/// Pipeline::ops) — stable for the same SQL, so a restart finds its checkpoint.
Result<std::unique_ptr<Pipeline>> BuildPipeline(PlanPtr plan, std::unique_ptr<Operator> terminal,
                                                const LateSinkResolver& late_sinks = {},
                                                const StateBackendOptions& state = {});

}  // namespace weir
