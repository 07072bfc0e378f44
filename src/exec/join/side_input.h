// JoinSideInput: the input port of one side of a two-input operator (joins). Upstream pushes
// into it like into any operator; it forwards batches, watermarks and end of input to the join
// with the side's number (0 = left, 1 = right). The join keeps each port's last watermark
// through the port's Operator base (watermark_us()).
// Requires of J: Status PushSide(int, const RecordBatch&), Status SideWatermark(),
// Status SideFinish(int) — accessible to this class (friend). Not thread-safe (the pipeline's).
#pragma once

#include <string>
#include <string_view>

#include "exec/operator.h"

namespace weir {

template <typename J>
class JoinSideInput final : public Operator {
 public:
  /// `kind`: the join's name for Describe ("HashJoin left input").
  JoinSideInput(J* join, int side, std::string_view kind) : join_(join), side_(side), kind_(kind) {}
  Status Push(const RecordBatch& batch) override { return join_->PushSide(side_, batch); }
  Status OnWatermark(int64_t) override { return join_->SideWatermark(); }
  Status Finish() override { return join_->SideFinish(side_); }
  std::string Describe() const override { return kind_ + (side_ == 0 ? " left input" : " right input"); }

 private:
  J* join_;
  int side_;
  std::string kind_;
};

}  // namespace weir
