// The engine's file and clock access really goes through the Env it is given
// (DatabaseOptions::env, SourceContext::env): a FaultInjectionEnv that fails reads makes file
// sources fail with an error naming the file, its crash simulation governs the dead-letter
// file, and its manual clock drives source pacing and the checkpoint cadence without any real
// waiting. Each test would fail if the code under test bypassed the Env (POSIX calls, the
// steady clock, real sleeps).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "common/env.h"
#include "connectors/file/file_source.h"
#include "formats/format.h"
#include "test_util.h"
#include "weir/database.h"

namespace weir {
namespace {

using weir_test::ReadFile;
using weir_test::WriteFile;

Options MakeOptions(std::initializer_list<std::pair<std::string, std::string>> kv) {
  Options o;
  for (const auto& [k, v] : kv) EXPECT_TRUE(o.Set(k, v).ok());
  return o;
}

SchemaPtr IdNameSchema() {
  return std::make_shared<Schema>(
      std::vector<Field>{{"id", DataType::Int64()}, {"name", DataType::Varchar()}});
}

// "id,name\n" then `rows` lines of exactly 17 bytes: "000042,abcdefghi\n".
std::string FixedWidthCsv(int rows) {
  std::string text = "id,name\n";
  for (int i = 0; i < rows; ++i) text += fmt::format("{:06d},abcdefghi\n", i);
  return text;
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

TEST(FaultInjectionEnvClock, ManualClockMovesOnlyWhenToldAndSleepsCostNoRealTime) {
  FaultInjectionEnv env(Env::Default(), 1);
  const int64_t real = env.NowMicros();
  EXPECT_GT(real, int64_t{1'600'000'000} * 1'000'000);  // forwarded wall clock before
  env.UseManualClock(5'000);
  EXPECT_EQ(env.NowMicros(), 5'000);
  EXPECT_EQ(env.MonotonicMicros(), 5'000);
  const auto t0 = std::chrono::steady_clock::now();
  env.SleepForMicros(3'600'000'000);  // an hour
  EXPECT_LT(SecondsSince(t0), 1.0);
  EXPECT_EQ(env.MonotonicMicros(), 3'600'005'000);
  env.AdvanceClock(7);
  EXPECT_EQ(env.NowMicros(), 3'600'005'007);
  env.SleepForMicros(-5);  // no time travel
  EXPECT_EQ(env.MonotonicMicros(), 3'600'005'007);
}

TEST(PosixEnvClock, MonotonicClockAdvancesBySleeps) {
  Env* env = Env::Default();
  const int64_t a = env->MonotonicMicros();
  env->SleepForMicros(20'000);
  const int64_t b = env->MonotonicMicros();
  EXPECT_GE(b - a, 20'000);
  EXPECT_LT(b - a, 5'000'000);
}

TEST(FaultInjectionEnvReads, FailReadsAtReturnsTheBytesBeforeTheOffsetOnly) {
  weir_test::TempDir dir("weir_env_routing");
  const std::string path = dir.Join("f.bin");
  WriteFile(path, std::string(100, 'x'));
  FaultInjectionEnv env(Env::Default(), 1);
  env.FailReadsAt(path, 60);
  auto ra = env.NewRandomAccessFile(path);
  ASSERT_OK(ra.status());
  char buf[100];
  auto n = (*ra)->Read(50, 50, buf);
  ASSERT_OK(n.status());
  EXPECT_EQ(*n, 10u);
  auto fail = (*ra)->Read(60, 10, buf);
  ASSERT_FALSE(fail.ok());
  EXPECT_EQ(fail.status().message(), path + ": read: Input/output error (injected)");
  auto seq = env.NewSequentialFile(path);
  ASSERT_OK(seq.status());
  n = (*seq)->Read(100, buf);
  ASSERT_OK(n.status());
  EXPECT_EQ(*n, 60u);
  EXPECT_FALSE((*seq)->Read(100, buf).ok());
  env.FailReadsAt("", 0);
  EXPECT_TRUE((*seq)->Read(100, buf).ok());
}

// The file source reads its input through SourceContext::env: every row before the failing
// offset arrives (in whole batches: 100-row batches end exactly at row 3000), then Next()
// fails with an error naming the file.
TEST(FileSourceEnv, AnInjectedReadErrorNamesTheFileAfterTheRowsBeforeIt) {
  weir_test::TempDir dir("weir_env_routing");
  const std::string path = dir.Join("in.csv");
  WriteFile(path, FixedWidthCsv(10'000));  // 170,008 bytes
  FaultInjectionEnv env(Env::Default(), 1);
  constexpr uint64_t kFailAt = 8 + 17 * 3'000 + 5;  // inside row 3000
  env.FailReadsAt(path, kFailAt);
  SourceContext context;
  context.env = &env;
  auto source = MakeFileSource(MakeOptions({{"path", path}, {"header", "true"}}), IdNameSchema(),
                               {0, 1}, context);
  ASSERT_OK(source.status());
  RecordBatch batch;
  int64_t rows = 0;
  Status error;
  while (true) {
    auto r = (*source)->Next(&batch, 100);
    if (!r.ok()) {
      error = r.status();
      break;
    }
    ASSERT_NE(*r, PollResult::kEnd) << "the injected read error was never hit";
    if (*r == PollResult::kBatch) {
      EXPECT_EQ(batch.column(0)->Get<int64_t>(0), rows);
      rows += batch.num_rows();
    }
  }
  EXPECT_EQ(rows, 3'000);
  EXPECT_EQ(error.code(), StatusCode::kIOError);
  EXPECT_EQ(error.message(), "cannot read '" + path + "': Input/output error (injected)");
  EXPECT_GT(env.reads(), 1u);
}

// The same through the Database: DatabaseOptions::env reaches the sources it creates.
TEST(FileSourceEnv, TheDatabasePassesItsEnvToSources) {
  weir_test::TempDir dir("weir_env_routing");
  const std::string path = dir.Join("in.csv");
  WriteFile(path, FixedWidthCsv(1'000));
  FaultInjectionEnv env(Env::Default(), 1);
  env.FailReadsAt(path, 1'000);  // the probe read at CREATE SOURCE (byte 0) still works
  DatabaseOptions o;
  o.env = &env;
  Database db(o);
  const std::string sql =
      "CREATE SOURCE src (id BIGINT, name VARCHAR) WITH (connector = 'file', path = '" + path +
      "', header = 'true');\n"
      "SELECT count(*) FROM src;\n";
  Status st = db.Execute(sql, [](const StatementResult&) { return Status::OK(); });
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cannot read '" + path + "': Input/output error (injected)"),
            std::string::npos)
      << st.ToString();
  // And without the failure the same Env serves the whole file.
  env.FailReadsAt("", 0);
  Database ok_db(o);
  std::string count;
  ASSERT_OK(ok_db.Execute(sql, [&](const StatementResult& r) {
    if (r.rows) count = r.rows->chunks().at(0)->column(0)->ValueToString(0);
    return Status::OK();
  }));
  EXPECT_EQ(count, "1000");
}

// The dead-letter file is written through the handler's Env: a simulated power loss keeps
// exactly the lines that SaveState synced.
TEST(DeadLetterEnv, OnlySyncedLinesSurviveASimulatedCrash) {
  weir_test::TempDir dir("weir_env_routing");
  const std::string path = dir.Join("bad.jsonl");
  FaultInjectionEnv env(Env::Default(), 7);
  std::string synced;
  {
    BadRecordHandler handler("in.csv", ErrorPolicy::kDeadLetter, path, &env);
    ASSERT_OK(handler.OnBadRecord(2, "x,y", "bad one"));
    ASSERT_OK(handler.OnBadRecord(5, "z", "bad two"));
    StateWriter w;
    ASSERT_OK(handler.SaveState(&w));
    synced = ReadFile(path);
    ASSERT_OK(handler.OnBadRecord(9, "after", "not synced"));
    EXPECT_EQ(handler.dead_lettered(), 3);
    EXPECT_NE(ReadFile(path).find("not synced"), std::string::npos);
    ASSERT_OK(env.SimulateCrash(CrashMode::kDropUnsynced));
  }
  EXPECT_EQ(ReadFile(path), synced);
  EXPECT_NE(synced.find("\"line\":5"), std::string::npos);
  EXPECT_EQ(synced.find("not synced"), std::string::npos);
}

TEST(DeadLetterEnv, AFailedSyncIsReportedWithThePath) {
  weir_test::TempDir dir("weir_env_routing");
  const std::string path = dir.Join("bad.jsonl");
  FaultInjectionEnv env(Env::Default(), 7);
  BadRecordHandler handler("in.csv", ErrorPolicy::kDeadLetter, path, &env);
  ASSERT_OK(handler.OnBadRecord(2, "x,y", "bad"));
  env.FailNthSync(1);
  StateWriter w;
  Status st = handler.SaveState(&w);
  EXPECT_EQ(st.code(), StatusCode::kIOError);
  EXPECT_EQ(st.message(),
            "cannot sync dead-letter file '" + path + "': Input/output error (injected)");
}

// A manual clock whose sleeps also take 0.5 ms of real time: the driver starts a checkpoint only
// once the previous one is durable (written by a background thread in real time), so the
// pacing must leave that thread some real time per interval of manual time.
class ManualClockEnv final : public FaultInjectionEnv {
 public:
  ManualClockEnv() : FaultInjectionEnv(Env::Default(), 3) {}
  void SleepForMicros(int64_t micros) override {
    FaultInjectionEnv::SleepForMicros(micros);
    Env::Default()->SleepForMicros(500);
  }
};

// A paced Nexmark source sleeps on the Env's clock, and the driver checkpoints on it: with a
// manual clock, 10 s of pacing take about 1 s of real time (~2000 sleeps of 2-10 ms manual time)
// and yield one checkpoint per interval of manual time. On the real clock the run would take
// 10 s and checkpoint ~once per real second of it.
int64_t PacedRunCheckpoints(int64_t interval_ms, int64_t* clock_end_us, double* real_seconds) {
  weir_test::TempDir dir("weir_env_routing");
  ManualClockEnv env;
  env.UseManualClock(1'000'000);
  DatabaseOptions o;
  o.env = &env;
  o.state_dir = dir.Join("state");
  o.checkpoint_interval_ms = interval_ms;
  Database db(o);
  const std::string sql =
      "CREATE SOURCE bid WITH (connector = 'nexmark', table = 'bid', events = '2000', "
      "rate = '200', seed = '1');\n"
      "CREATE SINK out AS SELECT auction FROM bid WITH (connector = 'blackhole');\n";
  const auto t0 = std::chrono::steady_clock::now();
  Status st = db.Execute(sql, [](const StatementResult&) { return Status::OK(); });
  if (st.ok()) st = db.Run();
  *real_seconds = SecondsSince(t0);
  EXPECT_TRUE(st.ok()) << st.ToString();
  *clock_end_us = env.MonotonicMicros();
  const int64_t checkpoints = db.stats().checkpoints.checkpoints;
  std::printf("interval %lld ms: %lld checkpoints, %.3f s manual, %.3f s real\n",
              static_cast<long long>(interval_ms), static_cast<long long>(checkpoints),
              static_cast<double>(*clock_end_us - 1'000'000) / 1e6, *real_seconds);
  return checkpoints;
}

TEST(ClockEnv, AManualClockDrivesPacingAndTheCheckpointCadence) {
  int64_t clock_end_us = 0;
  double real_seconds = 0;
  // 2000 events at 200 events/s: the last is due 9.995 s after the first.
  const int64_t every_second = PacedRunCheckpoints(1'000, &clock_end_us, &real_seconds);
  EXPECT_GE(clock_end_us - 1'000'000, 9'995'000);
  EXPECT_LT(clock_end_us - 1'000'000, 10'200'000);
  EXPECT_LT(real_seconds, 8.0) << "the pacing slept in real time (it would take 10 s)";
  // One checkpoint per second of manual time (the first after 1 s) plus the final one; one
  // may be skipped if the writer thread was starved of real time.
  EXPECT_GE(every_second, 8);
  EXPECT_LE(every_second, 11);
  const int64_t every_3s = PacedRunCheckpoints(3'000, &clock_end_us, &real_seconds);
  EXPECT_GE(every_3s, 3);
  EXPECT_LE(every_3s, 5);
  EXPECT_LT(every_3s, every_second);
}

}  // namespace
}  // namespace weir
