// ProjectOperator: computes one output column per expression. Column references pass the input
// column through (a shared pointer copy, no data copy); computed columns come from reusable
// evaluator outputs.
#pragma once

#include <vector>

#include "exec/operator.h"
#include "expr/evaluator.h"

namespace weir {

class ProjectOperator final : public Operator {
 public:
  ProjectOperator(std::vector<ExprPtr> exprs, SchemaPtr output_schema);
  Status Push(const RecordBatch& batch) override;
  std::string Describe() const override;

 private:
  std::vector<ExprEvaluator> exprs_;
  SchemaPtr schema_;
  RecordBatch out_;
};

}  // namespace weir
