// WatermarkTracker: a source's event-time watermark, combined over its splits.
//
// Each split (a file, a partition, a generator stream) reports the largest watermark candidate
// of the rows it produced (the CREATE SOURCE `WATERMARK FOR col AS expr` value, computed per
// batch). A split's watermark only advances. The source's watermark is the minimum over its
// splits, except that a split which produced nothing for `idle_timeout_ms` stops holding the
// others back (it rejoins when it produces again), and a finished split no longer counts.
// When every split has finished the watermark is Operator::kFinalWatermark, which fires all
// windows. Model: the Dataflow model's watermark semantics (Akidau et al., VLDB 2015) and
// Flink's idle-source handling.
// Not thread-safe: owned by the driver thread.
#pragma once

#include <cstdint>
#include <vector>

namespace weir {

class WatermarkTracker {
 public:
  static constexpr int64_t kNone = INT64_MIN;
  static constexpr int64_t kFinal = INT64_MAX;

  /// `idle_timeout_ms` <= 0 disables idleness.
  WatermarkTracker(int num_splits, int64_t idle_timeout_ms);

  /// Split `split` produced rows at wall-clock `now_ms`, with watermark candidate
  /// `candidate_us` (kNone if the batch had no valid event time).
  void Observe(int split, int64_t candidate_us, int64_t now_ms);
  /// Split `split` will produce nothing more.
  void Finish(int split);
  /// The combined watermark at wall-clock `now_ms` (kNone until every active split has one).
  int64_t Current(int64_t now_ms) const;

 private:
  struct Split {
    int64_t watermark_us = kNone;
    int64_t last_active_ms = 0;
    bool finished = false;
  };
  std::vector<Split> splits_;
  int64_t idle_timeout_ms_;
};

}  // namespace weir
