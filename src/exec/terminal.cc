#include "exec/terminal.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace weir {

void FanOutOperator::RemoveOutput(Operator* o) {
  outputs_.erase(std::remove(outputs_.begin(), outputs_.end(), o), outputs_.end());
}

Status FanOutOperator::Push(const RecordBatch& batch) {
  for (Operator* o : outputs_) WEIR_RETURN_IF_ERROR(o->Push(batch));
  return Status::OK();
}

Status FanOutOperator::OnWatermark(int64_t watermark_us) {
  for (Operator* o : outputs_) WEIR_RETURN_IF_ERROR(o->PushWatermark(watermark_us));
  return Status::OK();
}

Status FanOutOperator::Finish() {
  for (Operator* o : outputs_) WEIR_RETURN_IF_ERROR(o->Finish());
  return Status::OK();
}

Status ColumnSelectOperator::Push(const RecordBatch& batch) {
  auto& cols = out_.columns();
  cols.resize(columns_.size());
  for (size_t i = 0; i < columns_.size(); ++i) cols[i] = batch.column(static_cast<size_t>(columns_[i]));
  out_.set_num_rows(batch.num_rows());
  out_.CopyOpsFrom(batch);
  Status s = output_->Push(out_);
  for (auto& c : cols) c.reset();
  return s;
}

Status MaterializeOperator::Push(const RecordBatch& batch) {
  WEIR_RETURN_IF_ERROR(store_->Apply(batch));
  return subscribers_->Push(batch);
}

SortOperator::SortOperator(std::vector<SortKey> keys, SchemaPtr schema)
    : keys_(std::move(keys)), buffer_(std::move(schema)) {}

Status SortOperator::Push(const RecordBatch& batch) {
  buffer_.Append(batch);
  return Status::OK();
}

namespace {

// Three-way comparison of row a of `ca` with row b of `cb` (same type), NULLs excluded.
int CompareValues(const Column& ca, int64_t a, const Column& cb, int64_t b) {
  switch (ca.type().id) {
    case TypeId::kBoolean: return int{ca.Get<uint8_t>(a)} - int{cb.Get<uint8_t>(b)};
    case TypeId::kInt32: {
      auto x = ca.Get<int32_t>(a), y = cb.Get<int32_t>(b);
      return (x > y) - (x < y);
    }
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kTimestamp: {
      auto x = ca.Get<int64_t>(a), y = cb.Get<int64_t>(b);
      return (x > y) - (x < y);
    }
    case TypeId::kDouble: {
      double x = ca.Get<double>(a), y = cb.Get<double>(b);
      // NaN sorts after everything (PostgreSQL).
      bool nx = x != x, ny = y != y;
      if (nx || ny) return int{nx} - int{ny};
      return (x > y) - (x < y);
    }
    case TypeId::kVarchar: {
      int c = ca.GetString(a).compare(cb.GetString(b));
      return (c > 0) - (c < 0);
    }
    case TypeId::kInterval: {
      auto x = ca.Get<Interval>(a).NominalMicros(), y = cb.Get<Interval>(b).NominalMicros();
      return (x > y) - (x < y);
    }
    case TypeId::kNull: return 0;
  }
  return 0;
}

}  // namespace

Status SortOperator::Finish() {
  // Concatenate the buffer into one chunk per column view: (chunk, row) addressing.
  struct RowRef {
    uint32_t chunk;
    uint32_t row;
  };
  const auto& chunks = buffer_.chunks();
  std::vector<RowRef> rows;
  rows.reserve(static_cast<size_t>(buffer_.num_rows()));
  for (size_t c = 0; c < chunks.size(); ++c)
    for (int64_t r = 0; r < chunks[c]->num_rows(); ++r)
      rows.push_back({static_cast<uint32_t>(c), static_cast<uint32_t>(r)});
  std::vector<int> key_cols;
  for (const auto& k : keys_) key_cols.push_back(k.expr->column);
  std::stable_sort(rows.begin(), rows.end(), [&](const RowRef& x, const RowRef& y) {
    for (size_t k = 0; k < keys_.size(); ++k) {
      const Column& cx = *chunks[x.chunk]->column(static_cast<size_t>(key_cols[k]));
      const Column& cy = *chunks[y.chunk]->column(static_cast<size_t>(key_cols[k]));
      bool vx = cx.IsValid(x.row), vy = cy.IsValid(y.row);
      if (!vx || !vy) {
        if (vx == vy) continue;
        // NULL placement is independent of direction.
        bool x_first = keys_[k].nulls_first ? !vx : vx;
        return x_first;
      }
      int c = CompareValues(cx, x.row, cy, y.row);
      if (c != 0) return keys_[k].descending ? c > 0 : c < 0;
    }
    return false;
  });
  const SchemaPtr& schema = buffer_.schema();
  RecordBatch out(schema);
  for (size_t start = 0; start < rows.size(); start += static_cast<size_t>(kBatchRowsDefault)) {
    size_t end = std::min(rows.size(), start + static_cast<size_t>(kBatchRowsDefault));
    out.columns().clear();
    for (size_t c = 0; c < schema->num_fields(); ++c) {
      auto col = std::make_shared<Column>(schema->field(c).type);
      for (size_t i = start; i < end; ++i) col->AppendFrom(*chunks[rows[i].chunk]->column(c), rows[i].row);
      out.columns().push_back(std::move(col));
    }
    out.set_num_rows(static_cast<int64_t>(end - start));
    WEIR_RETURN_IF_ERROR(output_->Push(out));
  }
  buffer_.Clear();
  return output_->Finish();
}

std::string SortOperator::Describe() const {
  std::string out = "Sort [";
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (i) out += ", ";
    out += keys_[i].expr->ToString() + (keys_[i].descending ? " DESC" : "");
  }
  return out + "]";
}

Status LimitOperator::Push(const RecordBatch& batch) {
  const int64_t n = batch.num_rows();
  int64_t begin = std::max<int64_t>(0, offset_ - seen_);
  int64_t end = n;
  if (limit_ >= 0) end = std::min(n, offset_ + limit_ - seen_);
  seen_ += n;
  if (begin >= end) return Status::OK();
  if (begin == 0 && end == n) return output_->Push(batch);
  out_.set_schema(batch.schema());
  out_.columns().clear();
  for (size_t c = 0; c < batch.num_columns(); ++c) {
    auto col = std::make_shared<Column>(batch.column(c)->type());
    col->AppendRange(*batch.column(c), begin, end - begin);
    out_.columns().push_back(std::move(col));
  }
  out_.set_num_rows(end - begin);
  return output_->Push(out_);
}

std::string LimitOperator::Describe() const {
  std::string s = fmt::format("Limit {}", limit_);
  if (offset_) s += fmt::format(" OFFSET {}", offset_);
  return s;
}

}  // namespace weir
