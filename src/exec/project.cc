#include "exec/project.h"

namespace weir {

ProjectOperator::ProjectOperator(std::vector<ExprPtr> exprs, SchemaPtr output_schema)
    : schema_(std::move(output_schema)), out_(schema_) {
  for (auto& e : exprs) exprs_.emplace_back(std::move(e));
  out_.columns().resize(exprs_.size());
}

Status ProjectOperator::Push(const RecordBatch& batch) {
  auto& cols = out_.columns();
  for (size_t i = 0; i < exprs_.size(); ++i) {
    WEIR_ASSIGN_OR_RETURN(const ColumnPtr* c, exprs_[i].Evaluate(batch));
    cols[i] = *c;
  }
  out_.set_num_rows(batch.num_rows());
  out_.CopyOpsFrom(batch);
  Status s = output_->Push(out_);
  // Drop our references so the evaluators can reuse their columns next batch.
  for (auto& c : cols) c.reset();
  return s;
}

std::string ProjectOperator::Describe() const {
  std::string out = "Project [";
  for (size_t i = 0; i < exprs_.size(); ++i) {
    if (i) out += ", ";
    std::string e = exprs_[i].expr()->ToString();
    const std::string& n = schema_->field(i).name;
    out += e == n ? e : e + " AS " + n;
  }
  return out + "]";
}

}  // namespace weir
