// Helpers shared by the unit tests.
//   weir_test::TestSeed()  the seed of randomized tests: WEIR_TEST_SEED when set (to replay a
//                          failure; decimal or 0x-hex), else random; printed once per process.
//   ASSERT_OK(status)      asserts a weir::Status is OK, printing it otherwise.
//   weir_test::TempDir     a fresh directory (in /dev/shm when present, or in the temp
//                          directory on disk), removed with its contents on destruction.
//   weir_test::WriteFile / ReadFile   whole files as byte strings.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>

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

class TempDir {
 public:
  explicit TempDir(std::string_view prefix = "weir_test", bool in_memory = true) {
    std::filesystem::path base = in_memory && std::filesystem::exists("/dev/shm")
                                     ? std::filesystem::path("/dev/shm")
                                     : std::filesystem::temp_directory_path();
    std::string tmpl = (base / (std::string(prefix) + ".XXXXXX")).string();
    char* p = ::mkdtemp(tmpl.data());
    if (p == nullptr) std::abort();
    path_ = p;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

inline void WriteFile(const std::string& path, const std::string& text, bool append = false) {
  std::ofstream out(path, append ? std::ios::app | std::ios::binary : std::ios::binary);
  out << text;
}
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace weir_test

#define ASSERT_OK(expr)                    \
  do {                                     \
    ::weir::Status _s = (expr);            \
    ASSERT_TRUE(_s.ok()) << _s.ToString(); \
  } while (0)
