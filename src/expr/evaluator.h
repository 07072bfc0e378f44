// ExprEvaluator: runs a bound expression over RecordBatches, one kernel call per node per batch.
//
// Compiled once per plan (tree of nodes, each with a resolved kernel and a reusable output
// column); Evaluate() then allocates nothing in steady state. CASE and COALESCE evaluate their
// branches lazily under an active-row mask, so `CASE WHEN x = 0 THEN 0 ELSE 1 / x END` raises
// no division-by-zero for rows where x = 0.
// Not thread-safe: one evaluator per operator instance.
#pragma once

#include <memory>
#include <vector>

#include "batch/record_batch.h"
#include "expr/expr.h"

namespace weir {

class ExprEvaluator {
 public:
  explicit ExprEvaluator(ExprPtr expr);
  ~ExprEvaluator();
  ExprEvaluator(ExprEvaluator&&) noexcept;
  ExprEvaluator& operator=(ExprEvaluator&&) noexcept;

  /// Evaluates over `batch`'s rows; `active` (byte mask, may be null) limits error reporting.
  /// The returned column is owned by the evaluator (or is one of the batch's columns) and stays
  /// valid until the next Evaluate() call. Errors: kernel errors (kDataError).
  Result<const ColumnPtr*> Evaluate(const RecordBatch& batch, const uint8_t* active = nullptr);

  const ExprPtr& expr() const { return expr_; }

  struct Node;  // compiled node (evaluator.cc)

 private:
  ExprPtr expr_;
  std::unique_ptr<Node> root_;
};

}  // namespace weir
