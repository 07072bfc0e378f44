// Exactly-once file sinks (two-phase commit, docs/exactly-once-sinks.md) under simulated power
// loss: a driver-like loop writes epochs of rows, pre-commits, "makes the checkpoint durable"
// (a sync point of its own, holding the sink state in memory as a checkpoint store would), and
// commits — sometimes only after the next epoch's PreCommit, as an asynchronous checkpoint
// writer does. FaultInjectionEnv cuts the power at every sync point in turn, in each crash
// mode; then the run restarts from the last durable checkpoint (Recover + replay of the rows
// after it) and the published output must hold every row exactly once, in order. Randomized
// epochs and batches take their seed from WEIR_TEST_SEED (test_util.h).
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>

#include "common/env.h"
#include "connectors/file/file_sink.h"
#include "test_util.h"

namespace weir {
namespace {

using weir_test::ReadFile;

namespace fs = std::filesystem;

SchemaPtr RowSchema() {
  return std::make_shared<Schema>(std::vector<Field>{{"id", DataType::Int64()},
                                                     {"part", DataType::Varchar()},
                                                     {"text", DataType::Varchar()}});
}

// The workload: epochs of batches of rows, fixed by the seed (replay regenerates them).
struct Workload {
  std::vector<std::vector<RecordBatch>> epochs;
  std::vector<bool> late_commit;  // commit epoch e only after PreCommit(e + 1)
};

Workload MakeWorkload(uint64_t seed, int epochs, int partitions) {
  std::mt19937_64 rng(seed);
  Workload w;
  int64_t id = 0;
  auto schema = RowSchema();
  for (int e = 0; e < epochs; ++e) {
    std::vector<RecordBatch> batches;
    const int nbatches = static_cast<int>(rng() % 4);  // empty epochs too
    for (int b = 0; b < nbatches; ++b) {
      RecordBatch batch(schema);
      for (const Field& f : schema->fields()) batch.columns().push_back(std::make_shared<Column>(f.type));
      const int64_t rows = 1 + static_cast<int64_t>(rng() % 40);
      for (int64_t r = 0; r < rows; ++r, ++id) {
        batch.columns()[0]->Append<int64_t>(id);
        batch.columns()[1]->AppendString("p" + std::to_string(rng() % static_cast<uint64_t>(partitions)));
        batch.columns()[2]->AppendString(std::string(rng() % 30, static_cast<char>('a' + id % 26)) + ",\"q\"");
      }
      batch.set_num_rows(rows);
      batches.push_back(std::move(batch));
    }
    w.epochs.push_back(std::move(batches));
    w.late_commit.push_back(rng() % 3 == 0);
  }
  return w;
}

// What survives a crash: the last checkpoint made durable (epoch and the sink's state).
struct CheckpointStore {
  std::optional<std::pair<uint64_t, std::string>> durable;
};

// One process lifetime: create the sink, recover from the store's checkpoint (or start fresh),
// replay the epochs after it, commit, close. Returns the first error (a simulated crash).
// `marker` is the "checkpoint store" file: syncing it is the checkpoint's durability point.
Status RunOnce(Env* env, const Options& options, const Workload& w, CheckpointStore* store,
               const std::string& marker) {
  SinkContext context;
  context.env = env;
  context.two_phase_commit = true;
  WEIR_ASSIGN_OR_RETURN(std::unique_ptr<Sink> sink, MakeFileSink(options, RowSchema(), false, context));
  size_t next_epoch = 0;  // epochs are numbered 1.. ; epoch e holds w.epochs[e - 1]
  if (store->durable) {
    StateReader r(store->durable->second, "sink state");
    WEIR_RETURN_IF_ERROR(sink->Recover(store->durable->first, &r));
    next_epoch = store->durable->first;
  }
  std::optional<uint64_t> uncommitted;
  for (size_t e = next_epoch; e < w.epochs.size(); ++e) {
    const uint64_t epoch = e + 1;
    for (const RecordBatch& b : w.epochs[e]) WEIR_RETURN_IF_ERROR(sink->Write(b));
    WEIR_RETURN_IF_ERROR(sink->Flush());
    StateWriter state;
    WEIR_RETURN_IF_ERROR(sink->PreCommit(epoch, &state));
    if (uncommitted) {  // the previous checkpoint became durable late
      WEIR_RETURN_IF_ERROR(sink->Commit(*uncommitted));
      uncommitted.reset();
    }
    // The checkpoint store's write: durable once this sync point passes.
    WEIR_RETURN_IF_ERROR(WriteStringToFileSync(env, marker, std::to_string(epoch)));
    store->durable = {epoch, state.buffer()};
    if (w.late_commit[e] && e + 1 < w.epochs.size()) {
      uncommitted = epoch;
    } else {
      WEIR_RETURN_IF_ERROR(sink->Commit(epoch));
      WEIR_RETURN_IF_ERROR(sink->Commit(epoch));  // idempotent
    }
  }
  if (uncommitted) WEIR_RETURN_IF_ERROR(sink->Commit(*uncommitted));
  return sink->Close();
}

// The expected output: what a direct-mode sink writes for the whole workload.
std::string ExpectedSingleFile(const Workload& w, const std::string& path) {
  Options options;
  EXPECT_TRUE(options.Set("path", path).ok());
  auto sink = MakeFileSink(options, RowSchema(), false);
  EXPECT_TRUE(sink.ok());
  for (const auto& epoch : w.epochs)
    for (const RecordBatch& b : epoch) EXPECT_TRUE((*sink)->Write(b).ok());
  EXPECT_TRUE((*sink)->Close().ok());
  return ReadFile(path);
}

class ExactlyOnceSinkTest : public ::testing::Test {
 protected:
  weir_test::TempDir tmp_{"weir_eo_test", /*in_memory=*/false};
  const std::string dir_ = tmp_.path();
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  static std::vector<std::string> StagingFiles(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.path().filename().string().find("weir-staging") != std::string::npos)
        out.push_back(e.path().string());
    return out;
  }

};

TEST_F(ExactlyOnceSinkTest, FileSinkCrashAtEverySyncPoint) {
  const uint64_t seed = weir_test::TestSeed();
  const Workload w = MakeWorkload(seed, 7, 3);
  const std::string expected = ExpectedSingleFile(w, Path("expected.csv"));
  Options options;
  ASSERT_OK(options.Set("path", Path("out/result.csv")));
  const std::string out = Path("out/result.csv");

  // A crash-free run: the output, and how many sync points it has.
  uint64_t sync_points = 0;
  {
    FaultInjectionEnv env(Env::Default(), seed);
    CheckpointStore store;
    ASSERT_OK(RunOnce(&env, options, w, &store, Path("marker")));
    EXPECT_EQ(ReadFile(out), expected);
    EXPECT_TRUE(StagingFiles(Path("out")).empty());
    sync_points = env.sync_points();
  }
  ASSERT_GT(sync_points, 10u);

  for (CrashMode mode : {CrashMode::kDropUnsynced, CrashMode::kTornWrite, CrashMode::kGarbleUnsynced}) {
    for (uint64_t k = 0; k <= sync_points; ++k) {
      SCOPED_TRACE("crash mode " + std::to_string(static_cast<int>(mode)) + ", after sync point " +
                   std::to_string(k));
      fs::remove_all(Path("out"));
      fs::remove(Path("marker"));
      FaultInjectionEnv env(Env::Default(), seed + k);
      CheckpointStore store;
      env.CrashAfterSyncPoints(static_cast<int64_t>(k));
      Status st = RunOnce(&env, options, w, &store, Path("marker"));
      ASSERT_OK(env.SimulateCrash(mode));
      if (mode == CrashMode::kDropUnsynced && fs::exists(out)) {
        // Read-committed: what is published is a prefix of the output made of whole epochs.
        const std::string seen = ReadFile(out);
        EXPECT_EQ(expected.compare(0, seen.size(), seen), 0) << "published: " << seen;
      }
      // Restart (a second crash-free lifetime) from the last durable checkpoint.
      ASSERT_OK(RunOnce(&env, options, w, &store, Path("marker")));
      ASSERT_EQ(ReadFile(out), expected) << "first run: " << st.ToString();
      EXPECT_TRUE(StagingFiles(Path("out")).empty());
    }
  }
}

// Two crashes in a row, the second during recovery itself.
TEST_F(ExactlyOnceSinkTest, FileSinkCrashDuringRecovery) {
  const uint64_t seed = weir_test::TestSeed();
  const Workload w = MakeWorkload(seed ^ 0x5eed, 6, 2);
  const std::string expected = ExpectedSingleFile(w, Path("expected.csv"));
  Options options;
  ASSERT_OK(options.Set("path", Path("o.csv")));
  std::mt19937_64 rng(seed);
  for (int trial = 0; trial < 60; ++trial) {
    SCOPED_TRACE("trial " + std::to_string(trial));
    fs::remove(Path("o.csv"));
    fs::remove(Path("marker"));
    for (const std::string& f : StagingFiles(dir_)) fs::remove(f);
    FaultInjectionEnv env(Env::Default(), rng());
    CheckpointStore store;
    for (int crash = 0; crash < 2; ++crash) {
      env.CrashAfterSyncPoints(static_cast<int64_t>(rng() % 30));
      RunOnce(&env, options, w, &store, Path("marker")).IgnoreError();
      ASSERT_OK(env.SimulateCrash(static_cast<CrashMode>(rng() % 3)));
    }
    ASSERT_OK(RunOnce(&env, options, w, &store, Path("marker")));
    ASSERT_EQ(ReadFile(Path("o.csv")), expected);
  }
}

TEST_F(ExactlyOnceSinkTest, FileSinkReadCommittedAndModes) {
  auto schema = RowSchema();
  Workload w = MakeWorkload(1, 3, 1);
  Options options;
  ASSERT_OK(options.Set("path", Path("rc.csv")));
  { std::ofstream(Path("rc.csv")) << "old content\n"; }
  SinkContext two_phase;
  two_phase.two_phase_commit = true;
  auto sink = MakeFileSink(options, schema, false, two_phase);
  ASSERT_TRUE(sink.ok());
  EXPECT_EQ(ReadFile(Path("rc.csv")), "old content\n");  // untouched until the first call
  ASSERT_OK((*sink)->Write(w.epochs[0].empty() ? w.epochs[1][0] : w.epochs[0][0]));
  ASSERT_OK((*sink)->Flush());
  EXPECT_EQ(ReadFile(Path("rc.csv")), "");  // fresh start: emptied; rows not yet committed
  StateWriter s1;
  ASSERT_OK((*sink)->PreCommit(1, &s1));
  EXPECT_EQ(ReadFile(Path("rc.csv")), "");  // pre-committed is not published
  ASSERT_OK((*sink)->Commit(1));
  const std::string after1 = ReadFile(Path("rc.csv"));
  EXPECT_EQ(after1.substr(0, 12), "id,part,text");
  ASSERT_OK((*sink)->Write(w.epochs[2].empty() ? w.epochs[1][0] : w.epochs[2][0]));
  ASSERT_OK((*sink)->Close());  // rows after the last PreCommit are not published
  EXPECT_EQ(ReadFile(Path("rc.csv")), after1);
  EXPECT_TRUE(StagingFiles(dir_).empty());

  // Direct mode refuses the two-phase calls; Recover after a Write is refused.
  auto direct = MakeFileSink(options, schema, false);
  ASSERT_TRUE(direct.ok());
  StateWriter s;
  EXPECT_FALSE((*direct)->PreCommit(1, &s).ok());
  auto late = MakeFileSink(options, schema, false, two_phase);
  ASSERT_OK((*late)->Write(w.epochs[1][0]));
  StateReader r(s1.buffer(), "state");
  EXPECT_FALSE((*late)->Recover(1, &r).ok());
}

// Both file sinks keep the epoch rules of sink.h through one PendingCommits (two_phase.h):
// PreCommit epochs increase even across PreCommits that staged nothing and after Recover,
// and Recover refuses a state saved under another epoch.
TEST_F(ExactlyOnceSinkTest, PreCommitEpochsIncreaseInBothSinks) {
  SinkContext two_phase;
  two_phase.two_phase_commit = true;
  for (bool partitioned : {false, true}) {
    SCOPED_TRACE(partitioned ? "partitioned" : "single file");
    Options options;
    const std::string path = Path(partitioned ? "epochs_dir" : "epochs.csv");
    ASSERT_OK(options.Set("path", path));
    if (partitioned) ASSERT_OK(options.Set("partition_by", "part"));
    auto sink = MakeFileSink(options, RowSchema(), false, two_phase);
    ASSERT_OK(sink.status());
    StateWriter s5, s4;
    ASSERT_OK((*sink)->PreCommit(5, &s5));  // stages nothing
    Status st = (*sink)->PreCommit(4, &s4);
    EXPECT_EQ(st.code(), StatusCode::kInternal);
    EXPECT_EQ(st.message(), path + ": PreCommit(4) after PreCommit(5)");
    ASSERT_OK((*sink)->Close());

    auto wrong = MakeFileSink(options, RowSchema(), false, two_phase);
    StateReader r6(s5.buffer(), "state");
    st = (*wrong)->Recover(6, &r6);
    EXPECT_EQ(st.code(), StatusCode::kDataError);
    EXPECT_EQ(st.message(), path + ": sink state of epoch 5 restored as epoch 6");

    auto restored = MakeFileSink(options, RowSchema(), false, two_phase);
    StateReader r5(s5.buffer(), "state");
    ASSERT_OK((*restored)->Recover(5, &r5));
    StateWriter again;
    EXPECT_EQ((*restored)->PreCommit(5, &again).code(), StatusCode::kInternal);
    ASSERT_OK((*restored)->PreCommit(6, &again));
    ASSERT_OK((*restored)->Commit(6));
    ASSERT_OK((*restored)->Close());
  }
}

// ---- partitioned sink -------------------------------------------------------------------------

// Per partition directory: the rows of its part files, in part order, headers removed.
std::map<std::string, std::string> PartitionContents(const std::string& base) {
  std::map<std::string, std::map<int64_t, std::string>> parts;
  if (!fs::exists(base)) return {};
  for (const auto& e : fs::recursive_directory_iterator(base)) {
    const std::string name = e.path().filename().string();
    if (!e.is_regular_file() || name.rfind("part-", 0) != 0) continue;
    const int64_t n = std::stoll(name.substr(5));
    std::string text = ReadFile(e.path().string());
    text = text.substr(text.find('\n') + 1);  // header
    parts[fs::relative(e.path().parent_path(), base).string()][n] = text;
  }
  std::map<std::string, std::string> out;
  for (auto& [dir, files] : parts)
    for (auto& [n, text] : files) out[dir] += text;
  return out;
}

TEST_F(ExactlyOnceSinkTest, PartitionedSinkCrashAtEverySyncPoint) {
  const uint64_t seed = weir_test::TestSeed();
  const Workload w = MakeWorkload(seed + 7, 6, 4);
  Options options;
  ASSERT_OK(options.Set("path", Path("parts")));
  ASSERT_OK(options.Set("partition_by", "part"));
  ASSERT_OK(options.Set("partitions_open_max", "2"));  // evictions inside epochs too
  std::map<std::string, std::string> expected;
  {
    Options direct;
    ASSERT_OK(direct.Set("path", Path("expected")));
    ASSERT_OK(direct.Set("partition_by", "part"));
    auto sink = MakeFileSink(direct, RowSchema(), false);
    ASSERT_TRUE(sink.ok());
    for (const auto& epoch : w.epochs)
      for (const RecordBatch& b : epoch) ASSERT_OK((*sink)->Write(b));
    ASSERT_OK((*sink)->Close());
    expected = PartitionContents(Path("expected"));
  }
  uint64_t sync_points = 0;
  {
    FaultInjectionEnv env(Env::Default(), seed);
    CheckpointStore store;
    ASSERT_OK(RunOnce(&env, options, w, &store, Path("marker")));
    EXPECT_EQ(PartitionContents(Path("parts")), expected);
    sync_points = env.sync_points();
  }
  for (CrashMode mode : {CrashMode::kDropUnsynced, CrashMode::kTornWrite, CrashMode::kGarbleUnsynced}) {
    for (uint64_t k = 0; k <= sync_points; ++k) {
      SCOPED_TRACE("crash mode " + std::to_string(static_cast<int>(mode)) + ", after sync point " +
                   std::to_string(k));
      fs::remove_all(Path("parts"));
      fs::remove(Path("marker"));
      FaultInjectionEnv env(Env::Default(), seed + k);
      CheckpointStore store;
      env.CrashAfterSyncPoints(static_cast<int64_t>(k));
      Status st = RunOnce(&env, options, w, &store, Path("marker"));
      ASSERT_OK(env.SimulateCrash(mode));
      // Read-committed: published part files hold only rows of committed epochs, whole.
      for (const auto& [dir, text] : PartitionContents(Path("parts")))
        EXPECT_EQ(expected[dir].compare(0, text.size(), text), 0) << dir;
      ASSERT_OK(RunOnce(&env, options, w, &store, Path("marker")));
      ASSERT_EQ(PartitionContents(Path("parts")), expected) << "first run: " << st.ToString();
      EXPECT_TRUE(StagingFiles(Path("parts")).empty());
    }
  }
}

}  // namespace
}  // namespace weir
