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
};

struct SortKey {
  ExprPtr expr;
  bool descending = false;
  bool nulls_first = false;  // PostgreSQL default: NULLS LAST for ASC, FIRST for DESC
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

/// Rewrites: constant folding, filter push-down (through projections, merged into one
/// conjunction directly above the scan), projection pruning (the scan reads only the columns
/// the plan uses; unused projections dropped). Errors from folding constants (1/0).
Result<PlanPtr> OptimizePlan(PlanPtr plan);

}  // namespace weir
