#include "exec/window.h"

#include <algorithm>

namespace weir {

namespace {

inline int64_t FloorTo(int64_t ts, int64_t step) { return ts - (((ts % step) + step) % step); }

// Gathers `in` rows `sel[0..n)` into `out` (reusing its columns) and appends the window columns.
void GatherInto(const RecordBatch& in, const uint32_t* sel, int64_t n, RecordBatch* out) {
  auto& cols = out->columns();
  const size_t width = in.num_columns();
  cols.resize(width + 2);
  for (size_t c = 0; c < width; ++c) {
    Column* dst = ReuseColumn(&cols[c], in.column(c)->type());
    dst->Gather(*in.column(c), sel, n);
  }
  out->set_num_rows(n);
  if (in.has_ops()) {
    Op* ops = out->EnableOps();
    for (int64_t i = 0; i < n; ++i) ops[i] = in.ops()[sel[i]];
  } else {
    out->DisableOps();
  }
}

}  // namespace

WindowOperator::WindowOperator(WindowSpec spec, SchemaPtr output_schema)
    : spec_(spec), schema_(std::move(output_schema)), out_(schema_) {}

Status WindowOperator::Push(const RecordBatch& batch) {
  const Column& time = *batch.column(static_cast<size_t>(spec_.time_column));
  const int64_t n = batch.num_rows();
  const int64_t per_row = spec_.kind == WindowKind::kHop ? spec_.size_us / spec_.slide_us : 1;
  const int64_t chunk_rows = std::max<int64_t>(1, kBatchRowsMax / per_row);
  sel_.resize(static_cast<size_t>(std::min(n, chunk_rows) * per_row));
  starts_.resize(sel_.size());
  int64_t out = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!time.IsValid(i)) {
      ++rows_dropped_;
      continue;
    }
    const int64_t ts = time.Get<int64_t>(i);
    switch (spec_.kind) {
      case WindowKind::kTumble:
        sel_[static_cast<size_t>(out)] = static_cast<uint32_t>(i);
        starts_[static_cast<size_t>(out++)] = FloorTo(ts, spec_.size_us);
        break;
      case WindowKind::kHop: {
        const int64_t last = FloorTo(ts, spec_.slide_us);
        for (int64_t k = per_row - 1; k >= 0; --k) {
          sel_[static_cast<size_t>(out)] = static_cast<uint32_t>(i);
          starts_[static_cast<size_t>(out++)] = last - k * spec_.slide_us;
        }
        break;
      }
      case WindowKind::kSession:
        sel_[static_cast<size_t>(out)] = static_cast<uint32_t>(i);
        starts_[static_cast<size_t>(out++)] = ts;
        break;
    }
    if (out + per_row > static_cast<int64_t>(sel_.size())) {
      WEIR_RETURN_IF_ERROR(Emit(batch, out));
      out = 0;
    }
  }
  if (out > 0) WEIR_RETURN_IF_ERROR(Emit(batch, out));
  return Status::OK();
}

Status WindowOperator::Emit(const RecordBatch& in, int64_t rows) {
  GatherInto(in, sel_.data(), rows, &out_);
  const size_t width = in.num_columns();
  auto& cols = out_.columns();
  Column* start = ReuseColumn(&cols[width], DataType::Timestamp());
  Column* end = ReuseColumn(&cols[width + 1], DataType::Timestamp());
  start->ResizeFixed(rows);
  end->ResizeFixed(rows);
  int64_t* s = start->data<int64_t>();
  int64_t* e = end->data<int64_t>();
  const int64_t len = spec_.kind == WindowKind::kSession ? spec_.gap_us : spec_.size_us;
  for (int64_t i = 0; i < rows; ++i) {
    s[i] = starts_[static_cast<size_t>(i)];
    e[i] = s[i] + len;
  }
  return output_->Push(out_);
}

LateFilterOperator::LateFilterOperator(WindowSpec spec, int64_t allowed_lateness_us, Operator* late_sink)
    : spec_(spec), lateness_us_(allowed_lateness_us), late_sink_(late_sink) {}

Status LateFilterOperator::Push(const RecordBatch& batch) {
  const int64_t wm = watermark_us();
  if (wm == kNoWatermark) return output_->Push(batch);
  const Column& time = *batch.column(static_cast<size_t>(spec_.time_column));
  const int64_t n = batch.num_rows();
  keep_.resize(static_cast<size_t>(n));
  late_.resize(static_cast<size_t>(n));
  int64_t k = 0, l = 0;
  for (int64_t i = 0; i < n; ++i) {
    // NULL times are left to the window operator (which drops them).
    bool late = time.IsValid(i) && spec_.LastWindowEnd(time.Get<int64_t>(i)) + lateness_us_ <= wm;
    if (late) late_[static_cast<size_t>(l++)] = static_cast<uint32_t>(i);
    else keep_[static_cast<size_t>(k++)] = static_cast<uint32_t>(i);
  }
  if (l == 0) return output_->Push(batch);
  rows_late_ += l;
  if (late_sink_) {
    late_out_.set_schema(batch.schema());
    auto& cols = late_out_.columns();
    cols.resize(batch.num_columns());
    for (size_t c = 0; c < batch.num_columns(); ++c)
      ReuseColumn(&cols[c], batch.column(c)->type())->Gather(*batch.column(c), late_.data(), l);
    late_out_.set_num_rows(l);
    WEIR_RETURN_IF_ERROR(late_sink_->Push(late_out_));
  }
  if (k == 0) return Status::OK();
  out_.set_schema(batch.schema());
  auto& cols = out_.columns();
  cols.resize(batch.num_columns());
  for (size_t c = 0; c < batch.num_columns(); ++c)
    ReuseColumn(&cols[c], batch.column(c)->type())->Gather(*batch.column(c), keep_.data(), k);
  out_.set_num_rows(k);
  if (batch.has_ops()) {
    Op* ops = out_.EnableOps();
    for (int64_t i = 0; i < k; ++i) ops[i] = batch.ops()[keep_[static_cast<size_t>(i)]];
  } else {
    out_.DisableOps();
  }
  return output_->Push(out_);
}

Status LateFilterOperator::Finish() {
  if (late_sink_) WEIR_RETURN_IF_ERROR(late_sink_->Finish());
  return output_->Finish();
}

std::string LateFilterOperator::Describe() const {
  return fmt::format("LateFilter {} allowed_lateness={}us{}", spec_.ToString(), lateness_us_,
                     late_sink_ ? " late_data=" + late_sink_->Describe() : "");
}

}  // namespace weir
