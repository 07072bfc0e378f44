#include <gtest/gtest.h>

#include "batch/record_batch.h"
#include "types/datetime.h"

namespace weir {
namespace {

TEST(Timestamp, RoundTrip) {
  int64_t us;
  ASSERT_TRUE(ParseTimestamp("2001-01-01 00:05:00", &us));
  char buf[kTimestampTextMax];
  EXPECT_EQ(std::string(buf, FormatTimestamp(us, buf)), "2001-01-01 00:05:00");
  ASSERT_TRUE(ParseTimestamp("1969-12-31 23:59:59.5", &us));
  EXPECT_EQ(us, -500000);
  EXPECT_EQ(std::string(buf, FormatTimestamp(us, buf)), "1969-12-31 23:59:59.5");
  ASSERT_TRUE(ParseTimestamp("2015-07-15", &us));
  EXPECT_EQ(std::string(buf, FormatTimestamp(us, buf)), "2015-07-15 00:00:00");
  EXPECT_FALSE(ParseTimestamp("2001-02-29 00:00:00", &us));
  EXPECT_FALSE(ParseTimestamp("2001-01-01 24:00:00", &us));
  EXPECT_FALSE(ParseTimestamp("abc", &us));
  EXPECT_FALSE(ParseTimestamp("2001-01-01 00:00:00.", &us));
}

TEST(Interval, Parse) {
  Interval iv;
  ASSERT_TRUE(ParseInterval("90 minutes", "", &iv));
  EXPECT_EQ(iv.micros, 90 * kMicrosPerMinute);
  ASSERT_TRUE(ParseInterval("5", "MINUTE", &iv));
  EXPECT_EQ(iv.micros, 5 * kMicrosPerMinute);
  ASSERT_TRUE(ParseInterval("1 day 2 hours", "", &iv));
  EXPECT_EQ(iv.days, 1);
  EXPECT_EQ(iv.micros, 2 * kMicrosPerHour);
  ASSERT_TRUE(ParseInterval("1 month", "", &iv));
  EXPECT_EQ(iv.months, 1);
  EXPECT_FALSE(ParseInterval("5 parsecs", "", &iv));
  char buf[kIntervalTextMax];
  Interval x{0, 1, 2 * kMicrosPerHour};
  EXPECT_EQ(std::string(buf, FormatInterval(x, buf)), "1 day 02:00:00");
}

TEST(Timestamp, AddMonthsClamps) {
  int64_t us, out;
  ASSERT_TRUE(ParseTimestamp("2001-01-31 10:00:00", &us));
  ASSERT_TRUE(AddInterval(us, Interval{1, 0, 0}, &out));
  char buf[kTimestampTextMax];
  EXPECT_EQ(std::string(buf, FormatTimestamp(out, buf)), "2001-02-28 10:00:00");
}

TEST(Decimal, ParseFormat) {
  int64_t v;
  ASSERT_TRUE(ParseDecimal("-12.345", 10, 2, &v));
  EXPECT_EQ(v, -1235);  // half away from zero
  char buf[kDecimalTextMax];
  EXPECT_EQ(std::string(buf, FormatDecimal(v, 2, buf)), "-12.35");
  EXPECT_FALSE(ParseDecimal("123456", 5, 2, &v));
  EXPECT_FALSE(ParseDecimal("1x", 5, 2, &v));
  ASSERT_TRUE(ParseDecimal("0.05", 3, 2, &v));
  EXPECT_EQ(std::string(buf, FormatDecimal(v, 2, buf)), "0.05");
}

TEST(Column, AppendGatherNulls) {
  Column c(DataType::Varchar());
  c.AppendString("a");
  c.AppendNull();
  c.AppendString("ccc");
  EXPECT_EQ(c.length(), 3);
  EXPECT_TRUE(c.IsNull(1));
  EXPECT_EQ(c.GetString(2), "ccc");
  uint32_t sel[] = {2, 1};
  Column g(DataType::Varchar());
  g.Gather(c, sel, 2);
  EXPECT_EQ(g.GetString(0), "ccc");
  EXPECT_TRUE(g.IsNull(1));
  EXPECT_EQ(g.CountNulls(), 1);
}

TEST(Column, ConstantMaterialize) {
  Column c(DataType::Int64());
  c.Append<int64_t>(7);
  c.MakeConstant(5);
  EXPECT_EQ(c.Get<int64_t>(4), 7);
  c.Materialize();
  EXPECT_FALSE(c.is_constant());
  EXPECT_EQ(c.length(), 5);
  EXPECT_EQ(c.data<int64_t>()[4], 7);
}

}  // namespace
}  // namespace weir
