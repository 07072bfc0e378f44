// UnionAllOperator: UNION ALL of N inputs with the same schema. Each input arrives through its
// own port (input(i)); batches are forwarded as they come (no copy). The output watermark is
// the minimum over the inputs' watermarks; Finish() propagates once every input finished.
// Single-threaded.
#pragma once

#include <memory>
#include <vector>

#include "exec/operator.h"

namespace weir {

class UnionAllOperator final : public Operator {
 public:
  explicit UnionAllOperator(size_t inputs);
  Operator* input(size_t i) { return ports_[i].get(); }
  Status Push(const RecordBatch& batch) override { return output_->Push(batch); }
  std::string Describe() const override { return fmt::format("UnionAll ({} inputs)", ports_.size()); }
  /// Checkpoints: each input's last watermark and the count of finished inputs (no rows).
  Status SnapshotState(StateWriter* w) const override;
  Status RestoreState(StateReader* r) override;

 private:
  class Port;
  Status PortWatermark(size_t i, int64_t watermark_us);
  Status PortFinish(size_t i);

  std::vector<std::unique_ptr<Operator>> ports_;
  std::vector<int64_t> watermarks_;
  size_t finished_ = 0;
};

}  // namespace weir
