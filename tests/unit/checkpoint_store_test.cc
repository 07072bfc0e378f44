// Tests for src/storage/checkpoint_store: round trips (empty, tiny, block-boundary and multi-block
// blobs), incremental checkpoints (bytes handed to the OS counted by a wrapping Env), pack
// compaction, retention and garbage collection, argument errors and back-pressure, crashes at
// every sync point of a multi-checkpoint workload under FaultInjectionEnv (dropped, torn and
// garbled unsynced data) with all-or-nothing recovery, corruption of manifests and packs reported
// as file + offset, and a long seeded randomized run against an in-memory model.
//
// Randomized tests print their seed; rerun one with WEIR_TEST_SEED=<seed> to reproduce it.
// Files live in /dev/shm when it exists (fsync is free there; FaultInjectionEnv models
// durability), else in the system temp directory.
#include "storage/checkpoint_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "common/env.h"
#include "test_util.h"

namespace weir {
namespace {

uint64_t BaseSeed() { return weir_test::TestSeed(); }

#define WEIR_SEED_TRACE() SCOPED_TRACE(::testing::Message() << "WEIR_TEST_SEED=" << BaseSeed())

using Blobs = std::vector<std::pair<std::string, std::string>>;
using BlobMap = std::map<std::string, std::string>;

// A fresh directory per test (weir_ckpt_test.XXXXXX).
struct TempDir : weir_test::TempDir {
  TempDir() : weir_test::TempDir("weir_ckpt_test") {}
};

/// Forwards to `base`, counting the bytes appended to files (what the store hands the OS).
class CountingEnv final : public Env {
 public:
  explicit CountingEnv(Env* base) : base_(base) {}
  uint64_t bytes_appended() const { return bytes_; }

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                        bool truncate) override {
    WEIR_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> f, base_->NewWritableFile(path, truncate));
    return std::unique_ptr<WritableFile>(new File(std::move(f), &bytes_));
  }
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override {
    return base_->NewSequentialFile(path);
  }
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override {
    return base_->NewRandomAccessFile(path);
  }
  Status RenameFile(const std::string& f, const std::string& t) override {
    return base_->RenameFile(f, t);
  }
  Status DeleteFile(const std::string& p) override { return base_->DeleteFile(p); }
  Status TruncateFile(const std::string& p, uint64_t n) override {
    return base_->TruncateFile(p, n);
  }
  Result<std::vector<std::string>> GetChildren(const std::string& d) override {
    return base_->GetChildren(d);
  }
  Status CreateDir(const std::string& d) override { return base_->CreateDir(d); }
  bool FileExists(const std::string& p) override { return base_->FileExists(p); }
  Result<uint64_t> GetFileSize(const std::string& p) override { return base_->GetFileSize(p); }
  Status SyncDir(const std::string& d) override { return base_->SyncDir(d); }
  int64_t NowMicros() override { return base_->NowMicros(); }
  int64_t MonotonicMicros() override { return base_->MonotonicMicros(); }
  void SleepForMicros(int64_t micros) override { base_->SleepForMicros(micros); }

 private:
  class File final : public WritableFile {
   public:
    File(std::unique_ptr<WritableFile> f, std::atomic<uint64_t>* bytes)
        : f_(std::move(f)), bytes_(bytes) {}
    Status Append(std::string_view data) override {
      *bytes_ += data.size();
      return f_->Append(data);
    }
    Status Flush() override { return f_->Flush(); }
    Status Sync() override { return f_->Sync(); }
    Status Close() override { return f_->Close(); }
    uint64_t Size() const override { return f_->Size(); }

   private:
    std::unique_ptr<WritableFile> f_;
    std::atomic<uint64_t>* bytes_;
  };
  Env* base_;
  std::atomic<uint64_t> bytes_{0};
};

std::string RandomBytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

BlobMap ToMap(const Blobs& blobs) { return BlobMap(blobs.begin(), blobs.end()); }

std::unique_ptr<CheckpointStore> OpenOrDie(Env* env, const std::string& dir,
                                           CheckpointStoreOptions o = {}) {
  auto s = CheckpointStore::Open(env, dir, o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(s).value() : nullptr;
}

/// Writes one checkpoint and waits for it; returns the epochs WaitDurable reported.
std::vector<uint64_t> WriteSync(CheckpointStore* store, uint64_t epoch, Blobs blobs) {
  auto w = store->WriteAsync(epoch, std::move(blobs));
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  auto d = store->WaitDurable();
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? *d : std::vector<uint64_t>{};
}

std::set<std::string> Files(const std::string& dir) {
  std::set<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    out.insert(e.path().filename().string());
  }
  return out;
}

void FlipByte(const std::string& path, uint64_t offset) {
  auto data = ReadFileToString(Env::Default(), path);
  ASSERT_TRUE(data.ok());
  ASSERT_LT(offset, data->size());
  (*data)[offset] = static_cast<char>((*data)[offset] ^ 0x20);
  ASSERT_OK(WriteStringToFileSync(Env::Default(), path, *data));
}

// ---- round trips -------------------------------------------------------------------------------

TEST(CheckpointStore, EmptyDirectoryHasNoCheckpoint) {
  TempDir dir;
  auto store = OpenOrDie(Env::Default(), dir.Join("ckpt"));
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->latest().has_value());
  EXPECT_EQ(store->Read(1).status().code(), StatusCode::kNotFound);
  auto polled = store->PollDurable();
  ASSERT_TRUE(polled.ok());
  EXPECT_TRUE(polled->empty());
}

TEST(CheckpointStore, RoundTripAcrossBlockBoundariesAndReopen) {
  WEIR_SEED_TRACE();
  std::mt19937_64 rng(BaseSeed());
  TempDir dir;
  CheckpointStoreOptions o;
  o.block_bytes = 1000;
  Blobs blobs;
  for (size_t n : {size_t{0}, size_t{1}, size_t{999}, size_t{1000}, size_t{1001}, size_t{5003},
                   size_t{200000}}) {
    blobs.emplace_back(fmt::format("op/{}", n), RandomBytes(rng, n));
  }
  blobs.emplace_back("", "the empty name is a name");
  blobs.emplace_back(std::string("nul\0name", 8), std::string(3000, '\0'));  // repeated blocks
  const BlobMap expected = ToMap(blobs);
  {
    auto store = OpenOrDie(Env::Default(), dir.path(), o);
    EXPECT_EQ(WriteSync(store.get(), 7, blobs), std::vector<uint64_t>{7});
    EXPECT_EQ(store->latest(), std::optional<uint64_t>(7));
    auto r = store->Read(7);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(*r == expected);
    const CheckpointWriteStats st = store->last_write_stats();
    EXPECT_EQ(st.epoch, 7u);
    EXPECT_EQ(st.blobs, blobs.size());
    // The three zero blocks of the nul blob are stored once.
    EXPECT_EQ(st.blocks_written + 2, st.blocks);
  }
  auto store = OpenOrDie(Env::Default(), dir.path(), o);
  EXPECT_EQ(store->latest(), std::optional<uint64_t>(7));
  auto r = store->Read(7);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(*r == expected);
  // An empty checkpoint is a checkpoint too.
  EXPECT_EQ(WriteSync(store.get(), 8, {}), std::vector<uint64_t>{8});
  r = store->Read(8);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(CheckpointStore, IncrementalCheckpointWritesOnlyTheChangedBlock) {
  WEIR_SEED_TRACE();
  std::mt19937_64 rng(BaseSeed() + 1);
  TempDir dir;
  CountingEnv env(Env::Default());
  CheckpointStoreOptions o;
  o.block_bytes = 4096;
  auto store = OpenOrDie(&env, dir.path(), o);
  std::string arena = RandomBytes(rng, 64 * 4096);
  const std::string offsets = RandomBytes(rng, 100);
  WriteSync(store.get(), 1, {{"arena", arena}, {"offsets", offsets}});
  EXPECT_EQ(store->last_write_stats().blocks_written, 65u);

  arena[17 * 4096 + 5] ^= 1;
  const uint64_t before = env.bytes_appended();
  WriteSync(store.get(), 2, {{"arena", arena}, {"offsets", offsets}});
  const uint64_t appended = env.bytes_appended() - before;
  const CheckpointWriteStats st = store->last_write_stats();
  EXPECT_EQ(st.blocks, 65u);
  EXPECT_EQ(st.blocks_written, 1u);
  EXPECT_EQ(st.blocks_rewritten, 0u);
  EXPECT_EQ(st.bytes_written, appended);
  // One block (+ its 32-byte header) in a pack with a 32-byte header, plus the manifest.
  auto pack2 = env.GetFileSize(dir.Join(CheckpointPackName(2)));
  ASSERT_TRUE(pack2.ok());
  EXPECT_EQ(*pack2, 32u + 32u + 4096u);
  auto manifest2 = env.GetFileSize(dir.Join(CheckpointManifestName(2)));
  ASSERT_TRUE(manifest2.ok());
  EXPECT_EQ(appended, *pack2 + *manifest2);
  EXPECT_LT(appended, 2 * 4096u + 65 * 40 + 200);

  // Unchanged state: no pack at all, only a manifest.
  const uint64_t before3 = env.bytes_appended();
  WriteSync(store.get(), 3, {{"arena", arena}, {"offsets", offsets}});
  EXPECT_EQ(store->last_write_stats().blocks_written, 0u);
  EXPECT_FALSE(env.FileExists(dir.Join(CheckpointPackName(3))));
  EXPECT_LT(env.bytes_appended() - before3, 65 * 40 + 200u);

  for (uint64_t e : {1, 2, 3}) {
    auto r = store->Read(e);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->at("offsets"), offsets);
  }
  EXPECT_EQ(store->Read(3)->at("arena"), arena);
  EXPECT_NE(store->Read(1)->at("arena"), arena);
}

TEST(CheckpointStore, RetentionDeletesOldManifestsThenUnreferencedPacks) {
  WEIR_SEED_TRACE();
  std::mt19937_64 rng(BaseSeed() + 2);
  TempDir dir;
  CheckpointStoreOptions o;
  o.retain = 2;
  o.block_bytes = 512;
  auto store = OpenOrDie(Env::Default(), dir.path(), o);
  const std::string stable = RandomBytes(rng, 4096);  // written once, in pack 1, kept alive
  std::map<uint64_t, BlobMap> expected;
  for (uint64_t e = 1; e <= 6; ++e) {
    Blobs blobs = {{"stable", stable}, {"churn", RandomBytes(rng, 2048)}};
    expected[e] = ToMap(blobs);
    WriteSync(store.get(), e, blobs);
    const uint64_t first_kept = e >= 2 ? e - 1 : 1;
    std::vector<uint64_t> kept;
    for (uint64_t k = first_kept; k <= e; ++k) kept.push_back(k);
    EXPECT_EQ(store->epochs(), kept);
    std::set<std::string> want;
    for (uint64_t k : kept) {
      want.insert(CheckpointManifestName(k));
      want.insert(CheckpointPackName(k));
    }
    want.insert(CheckpointPackName(1));  // "stable" lives there
    EXPECT_EQ(Files(dir.path()), want) << "after epoch " << e;
    if (e > 2) {
      EXPECT_EQ(store->Read(e - 2).status().code(), StatusCode::kNotFound);
      EXPECT_EQ(store->last_write_stats().manifests_deleted, 1u);
    }
    for (uint64_t k : kept) {
      auto r = store->Read(k);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_TRUE(*r == expected[k]);
    }
  }
}

TEST(CheckpointStore, SparselyUsedPackIsCompactedAway) {
  WEIR_SEED_TRACE();
  std::mt19937_64 rng(BaseSeed() + 3);
  TempDir dir;
  CheckpointStoreOptions o;
  o.retain = 1;
  o.block_bytes = 1024;
  auto store = OpenOrDie(Env::Default(), dir.path(), o);
  std::string state = RandomBytes(rng, 10 * 1024);
  WriteSync(store.get(), 1, {{"s", state}});
  // Change 8 of 10 blocks: reusing pack 1 for 2 blocks would pin 10 blocks of space.
  for (int b = 0; b < 8; ++b) state[b * 1024] ^= 1;
  WriteSync(store.get(), 2, {{"s", state}});
  const CheckpointWriteStats st = store->last_write_stats();
  EXPECT_EQ(st.blocks_written, 10u);
  EXPECT_EQ(st.blocks_rewritten, 2u);
  EXPECT_EQ(st.packs_deleted, 1u);
  EXPECT_EQ(Files(dir.path()),
            (std::set<std::string>{CheckpointManifestName(2), CheckpointPackName(2)}));
  EXPECT_EQ(store->Read(2)->at("s"), state);
  // Change 3 of 10: pack 2 stays 70% used and is reused.
  for (int b = 0; b < 3; ++b) state[b * 1024 + 1] ^= 1;
  WriteSync(store.get(), 3, {{"s", state}});
  EXPECT_EQ(store->last_write_stats().blocks_written, 3u);
  EXPECT_EQ(store->last_write_stats().blocks_rewritten, 0u);
  EXPECT_EQ(store->Read(3)->at("s"), state);
}

TEST(CheckpointStore, ArgumentErrorsAreNotSticky) {
  TempDir dir;
  EXPECT_EQ(CheckpointStore::Open(Env::Default(), dir.path(), {0, 1024}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckpointStore::Open(Env::Default(), dir.path(), {1, 1}).status().code(),
            StatusCode::kInvalidArgument);
  auto store = OpenOrDie(Env::Default(), dir.path());
  WriteSync(store.get(), 5, {{"a", "1"}});
  EXPECT_EQ(store->WriteAsync(5, {{"a", "2"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->WriteAsync(4, {{"a", "2"}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store->WriteAsync(6, {{"a", "2"}, {"a", "3"}}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(WriteSync(store.get(), 6, {{"a", "2"}}), std::vector<uint64_t>{6});
  store.reset();
  // A reopened store also refuses epochs at or below the latest.
  store = OpenOrDie(Env::Default(), dir.path());
  EXPECT_EQ(store->WriteAsync(6, {}).status().code(), StatusCode::kInvalidArgument);
}

TEST(CheckpointStore, SecondWriteWaitsForTheFirstAndEpochsArriveInOrder) {
  WEIR_SEED_TRACE();
  std::mt19937_64 rng(BaseSeed() + 4);
  TempDir dir;
  auto store = OpenOrDie(Env::Default(), dir.path(), {3, 4096});
  const std::string big = RandomBytes(rng, 8 << 20);
  std::vector<uint64_t> durable;
  for (uint64_t e = 1; e <= 4; ++e) {
    std::string s = big;
    s[e * 4096] ^= 1;
    auto waited = store->WriteAsync(e, {{"s", std::move(s)}});
    ASSERT_TRUE(waited.ok()) << waited.status().ToString();
    auto polled = store->PollDurable();
    ASSERT_TRUE(polled.ok());
    durable.insert(durable.end(), polled->begin(), polled->end());
  }
  auto rest = store->WaitDurable();
  ASSERT_TRUE(rest.ok());
  durable.insert(durable.end(), rest->begin(), rest->end());
  EXPECT_EQ(durable, (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_TRUE(store->WaitDurable()->empty());
}

TEST(CheckpointStore, SyncFailureIsFatalAndSticky) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default(), 5);
  auto store = OpenOrDie(&env, dir.path());
  WriteSync(store.get(), 1, {{"a", "one"}});
  env.FailNthSync(1);
  ASSERT_TRUE(store->WriteAsync(2, {{"a", "two"}}).ok());
  auto d = store->WaitDurable();
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), StatusCode::kIOError);
  EXPECT_NE(d.status().message().find("writer stopped at epoch 2"), std::string::npos)
      << d.status().message();
  EXPECT_EQ(store->WriteAsync(3, {}).status().message(), d.status().message());
  EXPECT_EQ(store->PollDurable().status().message(), d.status().message());
  EXPECT_EQ(store->latest(), std::optional<uint64_t>(1));
  store.reset();
  store = OpenOrDie(&env, dir.path());
  EXPECT_EQ(store->latest(), std::optional<uint64_t>(1));
  EXPECT_EQ(Files(dir.path()), (std::set<std::string>{CheckpointManifestName(1),
                                                      CheckpointPackName(1)}));
}

// ---- crashes at every sync point ---------------------------------------------------------------

struct Workload {
  std::map<uint64_t, BlobMap> written;  // every epoch attempted, with its blobs
  uint64_t durable = 0;                 // newest epoch reported durable (0: none)
  uint64_t attempted = 0;               // newest epoch handed to WriteAsync
  Status first_error;
};

/// Four checkpoints (retain 2, 256-byte blocks): each keeps some blobs, changes blocks of others,
/// adds and drops blobs, so packs are shared and retention deletes manifests and packs.
Workload RunWorkload(Env* env, const std::string& dir, uint64_t seed) {
  Workload w;
  std::mt19937_64 rng(seed);
  CheckpointStoreOptions o;
  o.retain = 2;
  o.block_bytes = 256;
  auto opened = CheckpointStore::Open(env, dir, o);
  if (!opened.ok()) {
    w.first_error = opened.status();
    return w;
  }
  std::unique_ptr<CheckpointStore> store = std::move(opened).value();
  BlobMap state;
  for (int i = 0; i < 4; ++i) state[fmt::format("op{}", i)] = RandomBytes(rng, rng() % 3000);
  for (uint64_t e = 1; e <= 4; ++e) {
    for (auto& [name, bytes] : state) {
      if (!bytes.empty() && rng() % 2) bytes[rng() % bytes.size()] ^= 1;
    }
    if (rng() % 2) state.erase(state.begin());
    state[fmt::format("new{}", e)] = RandomBytes(rng, rng() % 700);
    w.written[e] = state;
    w.attempted = e;
    Result<uint64_t> r = store->WriteAsync(e, Blobs(state.begin(), state.end()));
    if (!r.ok()) {
      w.first_error = r.status();
      return w;
    }
    Result<std::vector<uint64_t>> d = store->WaitDurable();
    if (!d.ok()) {
      w.first_error = d.status();
      return w;
    }
    if (!d->empty()) w.durable = d->back();
  }
  return w;
}

TEST(CheckpointStore, CrashAtEverySyncPointRecoversAWholeCheckpoint) {
  WEIR_SEED_TRACE();
  int runs = 0;
  std::map<std::string, int> outcome;
  for (CrashMode mode :
       {CrashMode::kDropUnsynced, CrashMode::kTornWrite, CrashMode::kGarbleUnsynced}) {
    for (uint64_t s = 0; s < 8; ++s) {
      const uint64_t seed = BaseSeed() + 1000 * static_cast<uint64_t>(mode) + s;
      uint64_t points = 0;
      {
        TempDir dir;
        FaultInjectionEnv env(Env::Default(), seed);
        Workload full = RunWorkload(&env, dir.Join("ckpt"), seed);
        ASSERT_OK(full.first_error);
        ASSERT_EQ(full.durable, 4u);
        points = env.sync_points();
      }
      ASSERT_GT(points, 12u);
      for (uint64_t k = 0; k <= points; ++k) {
        SCOPED_TRACE(::testing::Message() << "mode " << static_cast<int>(mode) << " seed " << seed
                                          << " crash after sync point " << k);
        TempDir dir;
        const std::string ckpt = dir.Join("ckpt");
        FaultInjectionEnv env(Env::Default(), seed * 31 + k);
        env.CrashAfterSyncPoints(static_cast<int64_t>(k));
        Workload w = RunWorkload(&env, ckpt, seed);
        ASSERT_EQ(w.first_error.ok(), k == points) << w.first_error.ToString();
        ASSERT_OK(env.SimulateCrash(mode));

        auto reopened = CheckpointStore::Open(&env, ckpt, {2, 256});
        ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
        CheckpointStore& store = **reopened;
        // Never older than what was reported durable, never newer than what was attempted ...
        const uint64_t latest = store.latest().value_or(0);
        ASSERT_GE(latest, w.durable);
        ASSERT_LE(latest, w.attempted);
        outcome[latest > w.durable ? "published, not yet reported" : "last reported durable"]++;
        // ... and every kept checkpoint is exactly what was written for it.
        for (uint64_t e : store.epochs()) {
          auto r = store.Read(e);
          ASSERT_TRUE(r.ok()) << "epoch " << e << ": " << r.status().ToString();
          ASSERT_TRUE(*r == w.written[e]) << "epoch " << e;
        }
        // No leftovers: only kept manifests and the packs they reference.
        for (const std::string& f : Files(ckpt)) {
          ASSERT_EQ(f.find(".tmp"), std::string::npos) << f;
        }
        // The store continues after recovery.
        const BlobMap next = {{"after", "crash"}};
        ASSERT_EQ(WriteSync(&store, latest + 1, Blobs(next.begin(), next.end())),
                  std::vector<uint64_t>{latest + 1});
        auto r = store.Read(latest + 1);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        ASSERT_TRUE(*r == next);
        ++runs;
      }
    }
  }
  std::printf("checkpoint_store_test: %d crash runs (3 modes x 8 seeds); outcomes:", runs);
  for (const auto& [k, v] : outcome) std::printf(" %s=%d", k.c_str(), v);
  std::printf("\n");
}

// ---- corruption --------------------------------------------------------------------------------

class CorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::mt19937_64 rng(BaseSeed() + 9);
    auto store = OpenOrDie(Env::Default(), dir_.path(), {3, 1024});
    blobs1_ = {{"a", RandomBytes(rng, 5000)}, {"b", RandomBytes(rng, 300)}};
    blobs2_ = blobs1_;
    blobs2_[0].second[4500] ^= 1;  // block 4 of "a" changes: pack 2 holds just that block
    WriteSync(store.get(), 1, blobs1_);
    WriteSync(store.get(), 2, blobs2_);
  }
  Status OpenStatus() { return CheckpointStore::Open(Env::Default(), dir_.path()).status(); }
  Status ReadStatus(uint64_t epoch) {
    auto store = CheckpointStore::Open(Env::Default(), dir_.path());
    if (!store.ok()) return store.status();
    return (*store)->Read(epoch).status();
  }
  static void ExpectDataError(const Status& s, const std::string& file, const std::string& what) {
    ASSERT_EQ(s.code(), StatusCode::kDataError) << s.ToString();
    EXPECT_EQ(s.message().rfind("checkpoint ", 0), 0u) << s.message();
    EXPECT_NE(s.message().find(file), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(what), std::string::npos) << s.message();
  }

  TempDir dir_;
  Blobs blobs1_, blobs2_;
};

TEST_F(CorruptionTest, DamagedManifestIsAnErrorAtOpenNotAFallBack) {
  const std::string m2 = dir_.Join(CheckpointManifestName(2));
  const std::string pristine = ReadFileToString(Env::Default(), m2).value();
  struct Case {
    uint64_t offset;
    const char* what;
  };
  for (Case c : {Case{0, "bad magic"}, Case{9, "header checksum mismatch at offset 0"},
                 Case{40, "body checksum mismatch at offset 32"},
                 Case{pristine.size() - 1, "body checksum mismatch at offset 32"}}) {
    SCOPED_TRACE(c.offset);
    FlipByte(m2, c.offset);
    ExpectDataError(OpenStatus(), m2, c.what);
    ASSERT_OK(WriteStringToFileSync(Env::Default(), m2, pristine));
  }
  // A truncated (renamed, so published) manifest is corruption too.
  ASSERT_OK(WriteStringToFileSync(Env::Default(), m2, pristine.substr(0, pristine.size() - 7)));
  ExpectDataError(OpenStatus(), m2, "at offset 16");
  // Nothing was deleted on the error paths: repairing the file repairs the store.
  ASSERT_OK(WriteStringToFileSync(Env::Default(), m2, pristine));
  auto r = CheckpointStore::Open(Env::Default(), dir_.path());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->latest(), std::optional<uint64_t>(2));
  EXPECT_TRUE((*r)->Read(2).value() == ToMap(blobs2_));
}

TEST_F(CorruptionTest, DamagedBlockIsAnErrorNamingPackAndOffset) {
  const std::string p1 = dir_.Join(CheckpointPackName(1));
  const std::string p2 = dir_.Join(CheckpointPackName(2));
  // Pack 1: header 32, then block 0 of "a" (header at 32, data at 64).
  FlipByte(p1, 64 + 100);
  ASSERT_OK(OpenStatus());  // Open checks manifests and pack sizes, Read checks block contents
  ExpectDataError(ReadStatus(2), p1, "block checksum mismatch at offset 64 (blob 'a', block 0)");
  ExpectDataError(ReadStatus(1), p1, "block checksum mismatch at offset 64");
  FlipByte(p1, 64 + 100);
  ASSERT_OK(ReadStatus(2));
  // A block header byte.
  FlipByte(p2, 32 + 3);
  ExpectDataError(ReadStatus(2), p2, "block header checksum mismatch at offset 32");
  ASSERT_OK(ReadStatus(1));  // epoch 1 does not use pack 2
  FlipByte(p2, 32 + 3);
  // The pack header.
  FlipByte(p2, 2);
  ExpectDataError(OpenStatus(), p2, "damaged pack header at offset 0");
  FlipByte(p2, 2);
  ASSERT_OK(ReadStatus(2));
}

TEST_F(CorruptionTest, MissingOrShortPackIsAnErrorAtOpen) {
  const std::string p2 = dir_.Join(CheckpointPackName(2));
  const std::string pristine = ReadFileToString(Env::Default(), p2).value();
  ASSERT_OK(WriteStringToFileSync(Env::Default(), p2, pristine.substr(0, pristine.size() - 1)));
  ExpectDataError(OpenStatus(), CheckpointManifestName(2), "pack-00000000000000000002.blk is");
  ASSERT_OK(Env::Default()->DeleteFile(p2));
  ExpectDataError(OpenStatus(), CheckpointManifestName(2), "which is missing");
  ASSERT_OK(WriteStringToFileSync(Env::Default(), p2, pristine));
  ASSERT_OK(ReadStatus(2));
}

TEST_F(CorruptionTest, TornTempManifestAndStrayPackAreLeftoversNotCorruption) {
  ASSERT_OK(WriteStringToFileSync(Env::Default(),
                                  dir_.Join(CheckpointManifestName(3) + ".tmp"), "WEIRCK"));
  ASSERT_OK(WriteStringToFileSync(Env::Default(), dir_.Join(CheckpointPackName(3)), "junk"));
  ASSERT_OK(WriteStringToFileSync(Env::Default(), dir_.Join("README"), "not ours"));
  auto store = CheckpointStore::Open(Env::Default(), dir_.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->latest(), std::optional<uint64_t>(2));
  EXPECT_EQ(Files(dir_.path()),
            (std::set<std::string>{CheckpointManifestName(1), CheckpointManifestName(2),
                                   CheckpointPackName(1), CheckpointPackName(2), "README"}));
}

TEST_F(CorruptionTest, RandomDamageNeverYieldsWrongBlobs) {
  WEIR_SEED_TRACE();
  std::mt19937_64 rng(BaseSeed() + 10);
  std::vector<std::string> files;
  for (const std::string& f : Files(dir_.path())) files.push_back(dir_.Join(f));
  std::map<std::string, std::string> pristine;
  for (const auto& f : files) pristine[f] = ReadFileToString(Env::Default(), f).value();
  int errors = 0, intact = 0;
  for (int iter = 0; iter < 300; ++iter) {
    const std::string& victim = files[rng() % files.size()];
    std::string bad = pristine[victim];
    const int flips = 1 + static_cast<int>(rng() % 3);
    for (int f = 0; f < flips; ++f) bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
    if (rng() % 5 == 0) bad.resize(rng() % bad.size());
    ASSERT_OK(WriteStringToFileSync(Env::Default(), victim, bad));
    auto store = CheckpointStore::Open(Env::Default(), dir_.path());
    bool ok = store.ok();
    if (!ok) {
      EXPECT_EQ(store.status().code(), StatusCode::kDataError) << store.status().ToString();
    } else {
      for (uint64_t e : {1, 2}) {
        auto r = (*store)->Read(e);
        if (!r.ok()) {
          EXPECT_EQ(r.status().code(), StatusCode::kDataError) << r.status().ToString();
          ok = false;
          continue;
        }
        ASSERT_TRUE(*r == ToMap(e == 1 ? blobs1_ : blobs2_)) << victim;
      }
    }
    ok ? ++intact : ++errors;
    ASSERT_OK(WriteStringToFileSync(Env::Default(), victim, pristine[victim]));
  }
  std::printf("checkpoint_store_test: random damage: %d reported, %d harmless\n", errors, intact);
}

// ---- many epochs -------------------------------------------------------------------------------

TEST(CheckpointStore, ManyEpochsAgainstAModel) {
  WEIR_SEED_TRACE();
  std::mt19937_64 rng(BaseSeed() + 11);
  TempDir dir;
  CheckpointStoreOptions o;
  o.retain = 1 + static_cast<int>(rng() % 4);
  o.block_bytes = 64 << (rng() % 4);
  std::printf("checkpoint_store_test: many epochs with retain=%d block_bytes=%zu\n", o.retain,
              o.block_bytes);
  auto store = OpenOrDie(Env::Default(), dir.path(), o);
  BlobMap state;
  std::map<uint64_t, BlobMap> model;
  uint64_t epoch = 0;
  for (int i = 0; i < 120; ++i) {
    // Mutate: change bytes, grow, shrink, add or drop blobs; sometimes change nothing.
    const int op = static_cast<int>(rng() % 6);
    const std::string name = fmt::format("op{}", rng() % 6);
    std::string& s = state[name];
    if (op == 0) s = RandomBytes(rng, rng() % 5000);
    if (op == 1 && !s.empty()) s[rng() % s.size()] ^= static_cast<char>(1 + rng() % 255);
    if (op == 2) s += RandomBytes(rng, rng() % 300);
    if (op == 3) s.resize(s.size() / 2);
    if (op == 4) state.erase(name);
    epoch += 1 + rng() % 3;
    model[epoch] = state;
    auto w = store->WriteAsync(epoch, Blobs(state.begin(), state.end()));
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    if (rng() % 3 == 0) {
      auto d = store->WaitDurable();
      ASSERT_TRUE(d.ok()) << d.status().ToString();
    }
    if (rng() % 10 == 0) {
      ASSERT_TRUE(store->WaitDurable().ok());
      store.reset();
      store = OpenOrDie(Env::Default(), dir.path(), o);
      ASSERT_EQ(store->latest(), std::optional<uint64_t>(epoch));
    }
    if (rng() % 4 == 0) {
      ASSERT_TRUE(store->WaitDurable().ok());
      const std::vector<uint64_t> kept = store->epochs();
      ASSERT_EQ(kept.size(), std::min<size_t>(o.retain, model.size()));
      ASSERT_EQ(kept.back(), epoch);
      for (uint64_t e : kept) {
        auto r = store->Read(e);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        ASSERT_TRUE(*r == model[e]) << "epoch " << e;
      }
      // Only kept manifests and at most one pack per kept epoch plus the packs they share.
      size_t manifests = 0;
      for (const std::string& f : Files(dir.path())) manifests += f.rfind("MANIFEST-", 0) == 0;
      ASSERT_EQ(manifests, kept.size());
    }
  }
  ASSERT_TRUE(store->WaitDurable().ok());
  auto r = store->Read(epoch);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(*r == state);
}

}  // namespace
}  // namespace weir
