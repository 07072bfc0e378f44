#include "state/snapshot.h"

#include <gtest/gtest.h>

namespace weir {
namespace {

TEST(Snapshot, RoundTripsFieldsAndSections) {
  StateWriter w;
  w.Begin("outer");
  w.U8(7);
  w.Bool(true);
  w.U32(0xdeadbeef);
  w.I64(-42);
  w.F64(2.5);
  w.String("hello");
  w.PodVector(std::vector<uint64_t>{1, 2, 3});
  w.Begin("inner");
  w.U64(99);
  w.End();
  w.End();
  StateReader r(w.buffer(), "test");
  r.Begin("outer");
  EXPECT_EQ(r.U8(), 7);
  EXPECT_TRUE(r.Bool());
  EXPECT_EQ(r.U32(), 0xdeadbeefu);
  EXPECT_EQ(r.I64(), -42);
  EXPECT_EQ(r.F64(), 2.5);
  EXPECT_EQ(r.String(), "hello");
  EXPECT_EQ(r.PodVector<uint64_t>(), (std::vector<uint64_t>{1, 2, 3}));
  r.Begin("inner");
  EXPECT_EQ(r.U64(), 99u);
  r.End();
  r.End();
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r.at_end());
}

TEST(Snapshot, ErrorsAreStickyAndNamed) {
  StateWriter w;
  w.Begin("join");
  w.U64(5);
  w.End();
  {
    StateReader r(w.buffer(), "view v operator 2");
    r.Begin("aggregate");
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.status().ToString().find("view v operator 2: expected section \"aggregate\""), std::string::npos)
        << r.status().ToString();
    EXPECT_EQ(r.U64(), 0u);  // sticky
  }
  {
    std::string cut = w.buffer().substr(0, w.size() - 3);
    StateReader r(cut, "x");
    r.Begin("join");
    EXPECT_FALSE(r.ok());  // section longer than the data
  }
  {
    StateReader r(w.buffer(), "x");
    r.Begin("join");
    r.End();  // 8 bytes left unread
    EXPECT_FALSE(r.ok());
  }
  {
    StateWriter big;
    big.U64(uint64_t{1} << 60);  // a corrupt length: no huge allocation
    StateReader r(big.buffer(), "x");
    EXPECT_TRUE(r.PodVector<uint64_t>().empty());
    EXPECT_FALSE(r.ok());
  }
}

}  // namespace
}  // namespace weir
