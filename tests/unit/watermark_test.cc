#include <gtest/gtest.h>

#include "runtime/watermark.h"

namespace weir {
namespace {

TEST(WatermarkTracker, MinimumOverSplitsAndMonotonic) {
  WatermarkTracker t(2, 0);
  EXPECT_EQ(t.Current(0), WatermarkTracker::kNone);
  t.Observe(0, 100, 0);
  EXPECT_EQ(t.Current(0), WatermarkTracker::kNone);  // split 1 has no watermark yet
  t.Observe(1, 50, 0);
  EXPECT_EQ(t.Current(0), 50);
  t.Observe(1, 40, 1);  // a split's watermark never goes back
  EXPECT_EQ(t.Current(1), 50);
  t.Observe(1, 200, 2);
  EXPECT_EQ(t.Current(2), 100);
}

TEST(WatermarkTracker, IdleSplitStopsHoldingBack) {
  WatermarkTracker t(2, 1000);
  t.Observe(0, 10, 0);
  t.Observe(1, 500, 0);
  EXPECT_EQ(t.Current(10), 10);
  t.Observe(1, 900, 1500);
  // Split 0 has been silent for 1500 ms >= 1000 ms: it no longer holds the watermark.
  EXPECT_EQ(t.Current(1500), 900);
  // It rejoins when it produces again.
  t.Observe(0, 20, 1600);
  EXPECT_EQ(t.Current(1600), 20);
}

TEST(WatermarkTracker, AllIdleHoldsAtLargest) {
  WatermarkTracker t(2, 100);
  t.Observe(0, 10, 0);
  t.Observe(1, 30, 0);
  EXPECT_EQ(t.Current(500), 30);
}

TEST(WatermarkTracker, FinishedSplitsAndFinal) {
  WatermarkTracker t(2, 0);
  t.Observe(0, 10, 0);
  t.Observe(1, 30, 0);
  t.Finish(0);
  EXPECT_EQ(t.Current(0), 30);
  t.Finish(1);
  EXPECT_EQ(t.Current(0), WatermarkTracker::kFinal);
}

}  // namespace
}  // namespace weir
