// Pipeline: the physical form of one continuous query (a materialized view or a sink) or one
// snapshot query: a linear chain of operators fed by a scan of a source or a view.
//
// Built once from an optimized LogicalPlan; the driver attaches its head to a source reader or
// to a view's subscriber fan-out. Owned by its catalog entry; runs on the driver thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <functional>

#include "exec/operator.h"
#include "sql/logical_plan.h"

namespace weir {

struct Pipeline {
  PlanPtr plan;
  // The scan at the leaf.
  std::string scan_relation;
  ObjectKind scan_kind = ObjectKind::kSource;
  SchemaPtr scan_relation_schema;  // full schema of the scanned relation
  std::vector<int> scan_projection;
  // Operators from leaf to root; the terminal (sink/materialize/collect) is last.
  std::vector<std::unique_ptr<Operator>> ops;
  // Adapter picking this pipeline's columns from a shared wider reader (may be null).
  std::unique_ptr<Operator> adapter;
  // Operators with statistics (owned by `ops`).
  std::vector<class HashAggregateOperator*> aggregates;
  std::vector<class WindowOperator*> windows;
  bool started = false;   // attached to its input in some run
  bool finished = false;  // its input ended (bounded) and Finish() ran

  Operator* head() const { return ops.front().get(); }
  /// The entry point for batches laid out as `input_columns` (relation column indices):
  /// installs a ColumnSelect adapter when that layout differs from scan_projection.
  Operator* Attach(const std::vector<int>& input_columns);
  /// EXPLAIN text: operators root first, then the scan line.
  std::string Explain(const std::string& scan_detail) const;
};

/// Resolves a late-data sink name to the operator that writes it (rows of `schema`).
using LateSinkResolver = std::function<Result<Operator*>(const std::string& sink, SchemaPtr schema)>;

/// Builds the operator chain for `plan` (which must be linear with a Scan leaf), ending in
/// `terminal`.
Result<std::unique_ptr<Pipeline>> BuildPipeline(PlanPtr plan, std::unique_ptr<Operator> terminal,
                                                const LateSinkResolver& late_sinks = {});

}  // namespace weir
