// FilterOperator: keeps the rows whose predicate is TRUE (NULL and FALSE drop the row).
// Evaluates the predicate vectorized, builds a selection vector, and gathers the surviving rows
// into reused output columns (all rows pass: the input batch is forwarded untouched).
#pragma once

#include <vector>

#include "exec/operator.h"
#include "expr/evaluator.h"

namespace weir {

class FilterOperator final : public Operator {
 public:
  explicit FilterOperator(ExprPtr predicate);
  Status Push(const RecordBatch& batch) override;
  std::string Describe() const override;

 private:
  ExprEvaluator predicate_;
  std::vector<uint32_t> selection_;
  RecordBatch out_;
};

}  // namespace weir
