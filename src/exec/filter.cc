#include "exec/filter.h"

namespace weir {

FilterOperator::FilterOperator(ExprPtr predicate) : predicate_(std::move(predicate)) {}

Status FilterOperator::Push(const RecordBatch& batch) {
  const int64_t n = batch.num_rows();
  WEIR_ASSIGN_OR_RETURN(const ColumnPtr* result, predicate_.Evaluate(batch));
  const Column& mask = **result;
  if (selection_.size() < static_cast<size_t>(n)) selection_.resize(static_cast<size_t>(n));
  uint32_t* sel = selection_.data();
  int64_t k = 0;
  if (mask.is_constant()) {
    if (!mask.IsValid(0) || !mask.Get<uint8_t>(0)) return Status::OK();
    return output_->Push(batch);
  }
  const uint8_t* v = mask.data<uint8_t>();
  const uint8_t* valid = mask.validity();
  if (valid) {
    for (int64_t i = 0; i < n; ++i) {
      sel[k] = static_cast<uint32_t>(i);
      k += (v[i] & GetBit(valid, i)) != 0;
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      sel[k] = static_cast<uint32_t>(i);
      k += v[i] != 0;
    }
  }
  if (k == 0) return Status::OK();
  if (k == n) return output_->Push(batch);
  // Keep exactly one reference to each output column so they are reused next batch.
  out_.set_schema(batch.schema());
  auto& cols = out_.columns();
  cols.resize(batch.num_columns());
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    const Column& src = *batch.column(c);
    Column* dst = ReuseColumn(&cols[c], src.type());
    dst->Gather(src, sel, k);
  }
  out_.set_num_rows(k);
  out_.GatherOpsFrom(batch, sel);
  return output_->Push(out_);
}

std::string FilterOperator::Describe() const { return "Filter " + predicate_.expr()->ToString(); }

}  // namespace weir
