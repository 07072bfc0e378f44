#include "exec/union_all.h"

#include <algorithm>

namespace weir {

class UnionAllOperator::Port final : public Operator {
 public:
  Port(UnionAllOperator* u, size_t i) : u_(u), i_(i) {}
  Status Push(const RecordBatch& batch) override { return u_->Push(batch); }
  Status OnWatermark(int64_t watermark_us) override { return u_->PortWatermark(i_, watermark_us); }
  Status Finish() override { return u_->PortFinish(i_); }
  std::string Describe() const override { return fmt::format("UnionAll input {}", i_); }

 private:
  UnionAllOperator* u_;
  size_t i_;
};

UnionAllOperator::UnionAllOperator(size_t inputs) : watermarks_(inputs, kNoWatermark) {
  for (size_t i = 0; i < inputs; ++i) ports_.push_back(std::make_unique<Port>(this, i));
}

Status UnionAllOperator::PortWatermark(size_t i, int64_t watermark_us) {
  watermarks_[i] = watermark_us;
  int64_t low = *std::min_element(watermarks_.begin(), watermarks_.end());
  if (low == kNoWatermark) return Status::OK();
  return PushWatermark(low);
}

Status UnionAllOperator::PortFinish(size_t i) {
  (void)i;
  if (++finished_ < ports_.size()) return Status::OK();
  return output_->Finish();
}

Status UnionAllOperator::SnapshotState(StateWriter* w) const {
  w->Begin("union_all");
  w->PodVector(watermarks_);
  for (const auto& p : ports_) w->I64(p->watermark_us());
  w->U64(finished_);
  w->End();
  return Status::OK();
}

Status UnionAllOperator::RestoreState(StateReader* r) {
  r->Begin("union_all");
  std::vector<int64_t> wms = r->PodVector<int64_t>();
  if (r->ok() && wms.size() != ports_.size()) r->Fail("union all: input count differs");
  for (auto& p : ports_) p->RestoreWatermark(r->I64());
  const uint64_t finished = r->U64();
  r->End();
  if (!r->ok()) return r->status();
  if (finished > ports_.size()) {
    r->Fail("union all: more finished inputs than inputs");
    return r->status();
  }
  watermarks_ = std::move(wms);
  finished_ = finished;
  return Status::OK();
}

}  // namespace weir
