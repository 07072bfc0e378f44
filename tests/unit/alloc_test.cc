// Counting-allocator test: steady-state filter/project pipelines allocate nothing per row or
// per batch. Every malloc-family call in the process is counted (operator new goes through
// malloc), and the allocation count of a run over N events is compared with the count over
// 10·N events: the difference must not grow with the input.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "weir/database.h"

#include "counting_malloc.h"

namespace weir {
namespace {

#ifndef WEIR_NO_MALLOC_INTERPOSE
int64_t CountRun(const std::string& script) {
  Database db;
  Status st = db.Execute(script, [](const StatementResult&) { return Status::OK(); });
  EXPECT_TRUE(st.ok()) << st.ToString();
  int64_t before = weir_test::AllocationCount();
  st = db.Run();
  EXPECT_TRUE(st.ok()) << st.ToString();
  return weir_test::AllocationCount() - before;
}

std::string NexmarkScript(int64_t events) {
  return fmt::format(
      "CREATE SOURCE bid WITH (connector = 'nexmark', table = 'bid', events = '{}', seed = '7');"
      "CREATE SINK s AS SELECT auction, 0.908 * price AS euro, lower(channel) AS ch,"
      "  CASE WHEN price > 1000 THEN 'big' ELSE 'small' END AS size, date_trunc('minute', date_time) AS m"
      "  FROM bid WHERE MOD(auction, 7) <> 0 AND url LIKE 'https://%'"
      " WITH (connector = 'blackhole');",
      events);
}

TEST(Allocation, NexmarkFilterProjectAllocatesNothingPerEvent) {
  int64_t small = CountRun(NexmarkScript(100'000));
  int64_t large = CountRun(NexmarkScript(1'000'000));
  std::printf("allocations: 100K events -> %lld, 1M events -> %lld\n", static_cast<long long>(small),
              static_cast<long long>(large));
  // 900K more events (~200 more batches) may not add allocations.
  EXPECT_LE(large - small, 4);
}

std::string AggregateScript(int64_t events) {
  return fmt::format(
      "CREATE SOURCE bid (WATERMARK FOR date_time AS date_time - INTERVAL '4' SECOND)"
      " WITH (connector = 'nexmark', table = 'bid', events = '{}', seed = '7');"
      "CREATE SINK per_auction AS SELECT auction, window_start, window_end, count(*) AS n, max(price) AS top"
      " FROM TUMBLE(bid, date_time, INTERVAL '10' SECOND) GROUP BY auction, window_start, window_end"
      " EMIT ON WINDOW CLOSE WITH (connector = 'blackhole');"
      "CREATE SINK hops AS SELECT auction, window_start, count(*) AS n"
      " FROM HOP(bid, date_time, INTERVAL '2' SECOND, INTERVAL '10' SECOND) GROUP BY auction, window_start, window_end"
      " EMIT ON WINDOW CLOSE WITH (connector = 'blackhole');"
      "CREATE SINK per_channel AS SELECT channel, count(*) AS n, sum(price) AS total, avg(price) AS mean"
      " FROM bid GROUP BY channel WITH (connector = 'blackhole');",
      events);
}

TEST(Allocation, WindowedAggregationAllocatesNothingPerEvent) {
  int64_t small = CountRun(AggregateScript(400'000));
  int64_t large = CountRun(AggregateScript(4'000'000));
  std::printf("allocations: 400K events -> %lld, 4M events -> %lld\n", static_cast<long long>(small),
              static_cast<long long>(large));
  // 10x the events (and windows) may not add allocations beyond a few container growths.
  EXPECT_LE(large - small, 16);
}

TEST(Allocation, CsvFilterProjectAllocatesNothingPerRow) {
  auto dir = std::filesystem::temp_directory_path() / ("weir_alloc_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  auto write = [&](const std::string& name, int64_t rows) {
    std::ofstream f(dir / name);
    f << "date,delay,distance,origin,destination\n";
    for (int64_t i = 0; i < rows; ++i)
      f << "2001-01-0" << (1 + i % 9) << " 0" << (i % 10) << ":1" << (i % 6) << ":00," << (i % 97) - 20 << ','
        << 100 + i % 3000 << ',' << (i % 2 ? "SFO" : "LAX") << ',' << (i % 3 ? "JFK" : "ORD") << '\n';
  };
  write("small.csv", 50'000);
  write("large.csv", 500'000);
  auto script = [&](const std::string& name) {
    return fmt::format(
        "CREATE SOURCE f (date TIMESTAMP, delay BIGINT, distance BIGINT, origin VARCHAR, destination VARCHAR)"
        " WITH (connector = 'file', path = '{}', format = 'csv', header = 'true');"
        "CREATE SINK s AS SELECT date, origin || '-' || destination AS route, CAST(delay AS DOUBLE) / 60 AS h"
        " FROM f WHERE delay > 10 AND distance >= 1000 WITH (connector = 'blackhole');",
        (dir / name).string());
  };
  int64_t small = CountRun(script("small.csv"));
  int64_t large = CountRun(script("large.csv"));
  std::printf("allocations: 50K rows -> %lld, 500K rows -> %lld\n", static_cast<long long>(small),
              static_cast<long long>(large));
  EXPECT_LE(large - small, 4);
  std::filesystem::remove_all(dir);
}
#else
TEST(Allocation, RequiresUninstrumentedBuild) {
  GTEST_SKIP() << "the counting allocator interposes malloc, which AddressSanitizer owns; "
                  "this test runs in the regular build";
}
#endif

}  // namespace
}  // namespace weir
