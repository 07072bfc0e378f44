// Helpers shared by the unit tests.
//   weir_test::TestSeed()  the seed of randomized tests: WEIR_TEST_SEED when set (to replay a
//                          failure; decimal or 0x-hex), else random; printed once per process.
//   ASSERT_OK(status)      asserts a weir::Status is OK, printing it otherwise.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "common/status.h"

namespace weir_test {

inline uint64_t TestSeed() {
  static const uint64_t seed = [] {
    const char* env = std::getenv("WEIR_TEST_SEED");
    uint64_t s = env != nullptr ? std::strtoull(env, nullptr, 0)
                                : (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
    std::printf("WEIR_TEST_SEED=%llu%s\n", static_cast<unsigned long long>(s),
                env != nullptr ? " (from environment)" : "");
    return s;
  }();
  return seed;
}

}  // namespace weir_test

#define ASSERT_OK(expr)                    \
  do {                                     \
    ::weir::Status _s = (expr);            \
    ASSERT_TRUE(_s.ok()) << _s.ToString(); \
  } while (0)
