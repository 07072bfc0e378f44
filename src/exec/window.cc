#include "exec/window.h"

#include <algorithm>

#include "common/env.h"

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
  out->GatherOpsFrom(in, sel);
}

}  // namespace

WindowOperator::WindowOperator(WindowSpec spec, SchemaPtr output_schema)
    : spec_(spec), schema_(std::move(output_schema)), out_(schema_) {}

void WindowOperator::EnableLateCheck(int64_t allowed_lateness_us, ExprPtr watermark_expr, Operator* late_sink) {
  late_check_ = true;
  lateness_us_ = allowed_lateness_us;
  if (watermark_expr) watermark_ = std::make_unique<ExprEvaluator>(std::move(watermark_expr));
  late_sink_ = late_sink;
}

Status WindowOperator::Push(const RecordBatch& batch) {
  if (spec_.processing_time) return PushProcessingTime(batch);
  const Column& time = *batch.column(static_cast<size_t>(spec_.time_column));
  const int64_t n = batch.num_rows();
  const int64_t per_row = spec_.kind == WindowKind::kHop ? spec_.size_us / spec_.slide_us : 1;
  const int64_t chunk_rows = std::max<int64_t>(1, kBatchRowsMax / per_row);
  sel_.resize(static_cast<size_t>(std::min(n, chunk_rows) * per_row));
  starts_.resize(sel_.size());
  // Lateness: the watermark as of the rows before each row.
  const Column* cand = nullptr;
  int64_t wm = kNoWatermark;
  if (late_check_) {
    wm = std::max(watermark_us(), running_us_);
    if (watermark_) {
      WEIR_ASSIGN_OR_RETURN(const ColumnPtr* c, watermark_->Evaluate(batch));
      cand = c->get();
    }
    late_rows_.clear();
  }
  const int64_t len = spec_.kind == WindowKind::kSession ? spec_.gap_us : spec_.size_us;
  int64_t out = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t wm_before = wm;
    if (cand && cand->IsValid(i)) wm = std::max(wm, cand->Get<int64_t>(i));
    if (!time.IsValid(i)) {
      ++rows_dropped_;
      continue;
    }
    const int64_t ts = time.Get<int64_t>(i);
    int64_t first_start = 0, count = 1;
    switch (spec_.kind) {
      case WindowKind::kTumble: first_start = FloorTo(ts, spec_.size_us); break;
      case WindowKind::kHop:
        count = per_row;
        first_start = FloorTo(ts, spec_.slide_us) - (per_row - 1) * spec_.slide_us;
        break;
      case WindowKind::kSession: first_start = ts; break;
    }
    int64_t kept = 0;
    for (int64_t k = 0; k < count; ++k) {
      const int64_t start = first_start + k * spec_.slide_us;
      if (late_check_ && wm_before != kNoWatermark && start + len + lateness_us_ <= wm_before) continue;
      sel_[static_cast<size_t>(out)] = static_cast<uint32_t>(i);
      starts_[static_cast<size_t>(out++)] = start;
      ++kept;
    }
    if (kept == 0) late_rows_.push_back(static_cast<uint32_t>(i));
    if (out + per_row > static_cast<int64_t>(sel_.size())) {
      WEIR_RETURN_IF_ERROR(Emit(batch, out));
      out = 0;
    }
  }
  if (late_check_) running_us_ = wm;
  if (out > 0) WEIR_RETURN_IF_ERROR(Emit(batch, out));
  if (late_check_ && !late_rows_.empty()) WEIR_RETURN_IF_ERROR(SendLate(batch, static_cast<int64_t>(late_rows_.size())));
  return Status::OK();
}

Status WindowOperator::PushProcessingTime(const RecordBatch& batch) {
  proctime_us_ = std::max(proctime_us_, Env::Default()->NowMicros());
  const int64_t n = batch.num_rows();
  const int64_t per_row = spec_.kind == WindowKind::kHop ? spec_.size_us / spec_.slide_us : 1;
  const int64_t first_start = FloorTo(proctime_us_, spec_.slide_us) - (per_row - 1) * spec_.slide_us;
  const int64_t chunk_rows = std::max<int64_t>(1, kBatchRowsMax / per_row);
  sel_.resize(static_cast<size_t>(std::min(n, chunk_rows) * per_row));
  starts_.resize(sel_.size());
  for (int64_t begin = 0; begin < n; begin += chunk_rows) {
    const int64_t end = std::min(n, begin + chunk_rows);
    int64_t out = 0;
    for (int64_t k = 0; k < per_row; ++k)  // window-major: each window's rows stay in order
      for (int64_t i = begin; i < end; ++i) {
        sel_[static_cast<size_t>(out)] = static_cast<uint32_t>(i);
        starts_[static_cast<size_t>(out++)] = first_start + k * spec_.slide_us;
      }
    if (out > 0) WEIR_RETURN_IF_ERROR(Emit(batch, out));
  }
  return output_->PushWatermark(proctime_us_);
}

Status WindowOperator::OnWatermark(int64_t watermark_us) {
  // A processing-time window makes its own watermark; only the final one passes through.
  if (spec_.processing_time && watermark_us != kFinalWatermark) return Status::OK();
  return Operator::OnWatermark(watermark_us);
}

Status WindowOperator::SendLate(const RecordBatch& in, int64_t rows) {
  rows_late_ += rows;
  if (!late_sink_) return Status::OK();
  late_out_.set_schema(in.schema());
  auto& cols = late_out_.columns();
  cols.resize(in.num_columns());
  for (size_t c = 0; c < in.num_columns(); ++c)
    ReuseColumn(&cols[c], in.column(c)->type())->Gather(*in.column(c), late_rows_.data(), rows);
  late_out_.set_num_rows(rows);
  return late_sink_->Push(late_out_);
}

Status WindowOperator::Finish() {
  if (late_sink_) WEIR_RETURN_IF_ERROR(late_sink_->Finish());
  return output_->Finish();
}

std::string WindowOperator::Describe() const {
  std::string d = "Window " + spec_.ToString();
  if (late_check_)
    d += fmt::format(" allowed_lateness={}us{}", lateness_us_, late_sink_ ? " late_data=" + late_sink_->Describe() : "");
  return d;
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
  for (int64_t i = 0; i < rows; ++i) {  // NOLINT
    s[i] = starts_[static_cast<size_t>(i)];
    e[i] = s[i] + len;
  }
  return output_->Push(out_);
}

Status WindowOperator::SnapshotState(StateWriter* w) const {
  w->Begin("window");
  w->I64(rows_dropped_);
  w->I64(rows_late_);
  w->I64(running_us_);
  w->I64(proctime_us_);
  w->End();
  return Status::OK();
}

Status WindowOperator::RestoreState(StateReader* r) {
  r->Begin("window");
  rows_dropped_ = r->I64();
  rows_late_ = r->I64();
  running_us_ = r->I64();
  proctime_us_ = r->I64();
  r->End();
  return r->status();
}

}  // namespace weir
