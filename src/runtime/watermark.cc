#include "runtime/watermark.h"

#include <algorithm>

namespace weir {

WatermarkTracker::WatermarkTracker(int num_splits, int64_t idle_timeout_ms)
    : splits_(static_cast<size_t>(num_splits < 1 ? 1 : num_splits)), idle_timeout_ms_(idle_timeout_ms) {}

void WatermarkTracker::Observe(int split, int64_t candidate_us, int64_t now_ms) {
  Split& s = splits_[static_cast<size_t>(split)];
  s.last_active_ms = now_ms;
  s.watermark_us = std::max(s.watermark_us, candidate_us);
}

void WatermarkTracker::Finish(int split) { splits_[static_cast<size_t>(split)].finished = true; }

int64_t WatermarkTracker::Current(int64_t now_ms) const {
  int64_t min_active = kFinal;
  bool any_active = false, any_unfinished = false;
  int64_t max_idle = kNone;
  for (const Split& s : splits_) {
    if (s.finished) continue;
    any_unfinished = true;
    bool idle = idle_timeout_ms_ > 0 && now_ms - s.last_active_ms >= idle_timeout_ms_;
    if (idle) {
      max_idle = std::max(max_idle, s.watermark_us);
      continue;
    }
    any_active = true;
    min_active = std::min(min_active, s.watermark_us);
  }
  if (!any_unfinished) return kFinal;
  // All remaining splits idle: hold at the largest watermark any of them reached.
  if (!any_active) return max_idle;
  return min_active;
}

}  // namespace weir
