// Tests for src/common/env: PosixEnv basics and error messages, FaultInjectionEnv crash modes
// (deterministic per seed), directory-sync semantics and injected failures.
//
// Randomized tests print their seed; rerun one with WEIR_TEST_SEED=<seed> to reproduce it.
#include <gtest/gtest.h>

#include "test_util.h"
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <set>
#include <string>

#include "common/env.h"

namespace weir {
namespace {

uint64_t BaseSeed() { return weir_test::TestSeed(); }

#define WEIR_SEED_TRACE() SCOPED_TRACE(::testing::Message() << "WEIR_TEST_SEED=" << BaseSeed())


/// A fresh temporary directory, removed at the end of the test.
// A fresh directory on the real disk (weir_env_test.XXXXXX).
struct TempDir : weir_test::TempDir {
  TempDir() : weir_test::TempDir("weir_env_test", /*in_memory=*/false) {}
};

std::string ReadAll(Env* env, const std::string& path) {
  Result<std::string> r = ReadFileToString(env, path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::string();
}

TEST(PosixEnv, WriteReadRenameDelete) {
  Env* env = Env::Default();
  TempDir dir;
  const std::string a = dir.Join("a.txt");
  {
    auto f = env->NewWritableFile(a, true);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    ASSERT_OK((*f)->Append("hello "));
    ASSERT_OK((*f)->Append("world"));
    EXPECT_EQ((*f)->Size(), 11u);
    ASSERT_OK((*f)->Sync());
    ASSERT_OK((*f)->Close());
  }
  EXPECT_EQ(ReadAll(env, a), "hello world");
  {
    auto f = env->NewWritableFile(a, /*truncate=*/false);  // append mode keeps the content
    ASSERT_TRUE(f.ok());
    EXPECT_EQ((*f)->Size(), 11u);
    ASSERT_OK((*f)->Append("!"));
    ASSERT_OK((*f)->Close());
  }
  EXPECT_EQ(ReadAll(env, a), "hello world!");
  auto size = env->GetFileSize(a);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(*size, 12u);

  auto raf = env->NewRandomAccessFile(a);
  ASSERT_TRUE(raf.ok());
  char buf[16];
  auto n = (*raf)->Read(6, 16, buf);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(std::string(buf, *n), "world!");

  ASSERT_OK(env->TruncateFile(a, 5));
  EXPECT_EQ(ReadAll(env, a), "hello");

  const std::string b = dir.Join("b.txt");
  ASSERT_OK(env->RenameFile(a, b));
  ASSERT_OK(env->SyncDir(dir.path()));
  EXPECT_FALSE(env->FileExists(a));
  EXPECT_TRUE(env->FileExists(b));
  ASSERT_OK(env->CreateDir(dir.Join("sub")));
  ASSERT_OK(env->CreateDir(dir.Join("sub")));  // existing directory is fine
  auto children = env->GetChildren(dir.path());
  ASSERT_TRUE(children.ok());
  std::sort(children->begin(), children->end());
  EXPECT_EQ(*children, (std::vector<std::string>{"b.txt", "sub"}));
  ASSERT_OK(env->DeleteFile(b));
  EXPECT_FALSE(env->FileExists(b));
  EXPECT_GT(env->NowMicros(), int64_t{1600000000} * 1000000);
}

TEST(PosixEnv, ErrorsNameThePathAndErrno) {
  Env* env = Env::Default();
  TempDir dir;
  const std::string missing = dir.Join("missing.txt");
  auto r = env->NewSequentialFile(missing);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find(missing), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("No such file or directory"), std::string::npos);

  Status s = env->DeleteFile(missing);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(missing), std::string::npos);

  auto w = env->NewWritableFile(dir.Join("no/such/dir/x"), true);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("no/such/dir/x"), std::string::npos);
  EXPECT_FALSE(env->SyncDir(dir.Join("nodir")).ok());
}

TEST(PathHelpers, JoinAndDirName) {
  EXPECT_EQ(JoinPath("a", "b"), "a/b");
  EXPECT_EQ(JoinPath("a/", "b"), "a/b");
  EXPECT_EQ(DirName("a/b/c.log"), "a/b");
  EXPECT_EQ(DirName("c.log"), ".");
  EXPECT_EQ(DirName("/c.log"), "/");
}

// ---- FaultInjectionEnv -------------------------------------------------------------------------

/// Writes `synced` + Sync, then `unsynced` without a sync, crashes with `mode` and returns what
/// is left of the file.
std::string CrashAfterWrites(uint64_t seed, CrashMode mode, const std::string& synced,
                             const std::string& unsynced) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default(), seed);
  const std::string path = dir.Join("f");
  {
    auto f = env.NewWritableFile(path, true);
    EXPECT_TRUE(f.ok());
    EXPECT_TRUE((*f)->Append(synced).ok());
    EXPECT_TRUE((*f)->Sync().ok());
    EXPECT_TRUE((*f)->Append(unsynced).ok());
  }
  EXPECT_TRUE(env.SyncDir(dir.path()).ok());
  Status s = env.SimulateCrash(mode);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return ReadAll(&env, path);
}

TEST(FaultInjectionEnv, DropUnsyncedKeepsExactlyTheSyncedBytes) {
  EXPECT_EQ(CrashAfterWrites(1, CrashMode::kDropUnsynced, "durable", "volatile"), "durable");
}

TEST(FaultInjectionEnv, TornWriteKeepsAPrefix) {
  WEIR_SEED_TRACE();
  const std::string synced = "durable|";
  const std::string unsynced(200, 'x');
  std::mt19937_64 rng(BaseSeed());
  std::set<size_t> lengths;
  for (int i = 0; i < 40; ++i) {
    uint64_t seed = rng();
    std::string got = CrashAfterWrites(seed, CrashMode::kTornWrite, synced, unsynced);
    ASSERT_GE(got.size(), synced.size());
    ASSERT_LE(got.size(), synced.size() + unsynced.size());
    EXPECT_EQ(got, (synced + unsynced).substr(0, got.size()));
    lengths.insert(got.size());
    // Deterministic per seed.
    EXPECT_EQ(got, CrashAfterWrites(seed, CrashMode::kTornWrite, synced, unsynced));
  }
  EXPECT_GT(lengths.size(), 10u);  // the cut point really varies
}

TEST(FaultInjectionEnv, GarbleKeepsSyncedBytesAndLength) {
  WEIR_SEED_TRACE();
  const std::string synced = "durable|";
  const std::string unsynced(300, 'x');
  std::mt19937_64 rng(BaseSeed() ^ 0x9e3779b97f4a7c15ull);
  bool saw_garbage = false;
  for (int i = 0; i < 20; ++i) {
    uint64_t seed = rng();
    std::string got = CrashAfterWrites(seed, CrashMode::kGarbleUnsynced, synced, unsynced);
    ASSERT_EQ(got.size(), synced.size() + unsynced.size());
    EXPECT_EQ(got.substr(0, synced.size()), synced);
    saw_garbage |= got != synced + unsynced;
    EXPECT_EQ(got, CrashAfterWrites(seed, CrashMode::kGarbleUnsynced, synced, unsynced));
  }
  EXPECT_TRUE(saw_garbage);
}

TEST(FaultInjectionEnv, CreationWithoutDirSyncIsLost) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default(), 7);
  ASSERT_OK(WriteStringToFileSync(&env, dir.Join("kept"), "k"));
  ASSERT_OK(env.SyncDir(dir.path()));
  ASSERT_OK(WriteStringToFileSync(&env, dir.Join("lost"), "l"));  // file synced, dir not
  ASSERT_OK(env.SimulateCrash(CrashMode::kDropUnsynced));
  EXPECT_TRUE(env.FileExists(dir.Join("kept")));
  EXPECT_FALSE(env.FileExists(dir.Join("lost")));
}

TEST(FaultInjectionEnv, RenameWithoutDirSyncIsUndone) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default(), 7);
  ASSERT_OK(WriteStringToFileSync(&env, dir.Join("MANIFEST"), "old"));
  ASSERT_OK(WriteStringToFileSync(&env, dir.Join("MANIFEST.tmp"), "new"));
  ASSERT_OK(env.SyncDir(dir.path()));
  ASSERT_OK(env.RenameFile(dir.Join("MANIFEST.tmp"), dir.Join("MANIFEST")));
  EXPECT_EQ(ReadAll(&env, dir.Join("MANIFEST")), "new");
  ASSERT_OK(env.SimulateCrash(CrashMode::kDropUnsynced));
  EXPECT_EQ(ReadAll(&env, dir.Join("MANIFEST")), "old");
  EXPECT_EQ(ReadAll(&env, dir.Join("MANIFEST.tmp")), "new");

  // The same rename followed by a directory sync survives.
  ASSERT_OK(env.RenameFile(dir.Join("MANIFEST.tmp"), dir.Join("MANIFEST")));
  ASSERT_OK(env.SyncDir(dir.path()));
  ASSERT_OK(env.SimulateCrash(CrashMode::kDropUnsynced));
  EXPECT_EQ(ReadAll(&env, dir.Join("MANIFEST")), "new");
  EXPECT_FALSE(env.FileExists(dir.Join("MANIFEST.tmp")));
}

TEST(FaultInjectionEnv, HandlesDieAtTheCrash) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default(), 7);
  auto f = env.NewWritableFile(dir.Join("f"), true);
  ASSERT_TRUE(f.ok());
  ASSERT_OK((*f)->Append("a"));
  ASSERT_OK(env.SimulateCrash(CrashMode::kDropUnsynced));
  EXPECT_FALSE((*f)->Append("b").ok());
  EXPECT_FALSE((*f)->Sync().ok());
}

TEST(FaultInjectionEnv, NthSyncFails) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default(), 7);
  auto f = env.NewWritableFile(dir.Join("f"), true);
  ASSERT_TRUE(f.ok());
  env.FailNthSync(2);
  ASSERT_OK((*f)->Append("a"));
  ASSERT_OK((*f)->Sync());
  ASSERT_OK((*f)->Append("b"));
  Status s = (*f)->Sync();
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("fdatasync"), std::string::npos) << s.message();
  ASSERT_OK((*f)->Sync());  // only the 2nd failed
}

TEST(FaultInjectionEnv, RenameFailure) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default(), 7);
  ASSERT_OK(WriteStringToFileSync(&env, dir.Join("a"), "x"));
  env.SetRenameFailure(true);
  EXPECT_EQ(env.RenameFile(dir.Join("a"), dir.Join("b")).code(), StatusCode::kIOError);
  EXPECT_TRUE(env.FileExists(dir.Join("a")));
  EXPECT_FALSE(env.FileExists(dir.Join("b")));
  env.SetRenameFailure(false);
  ASSERT_OK(env.RenameFile(dir.Join("a"), dir.Join("b")));
}

TEST(FaultInjectionEnv, CrashAfterSyncPointsPowersOff) {
  TempDir dir;
  FaultInjectionEnv env(Env::Default(), 7);
  auto f = env.NewWritableFile(dir.Join("f"), true);
  ASSERT_TRUE(f.ok());
  ASSERT_OK(env.SyncDir(dir.path()));
  env.CrashAfterSyncPoints(1);
  ASSERT_OK((*f)->Append("one"));
  ASSERT_OK((*f)->Sync());           // the one allowed sync point
  ASSERT_OK((*f)->Append("two"));
  EXPECT_FALSE((*f)->Sync().ok());   // power goes off here
  EXPECT_FALSE((*f)->Append("three").ok());
  EXPECT_FALSE(env.SyncDir(dir.path()).ok());
  EXPECT_EQ(env.sync_points(), 2u);
  ASSERT_OK(env.SimulateCrash(CrashMode::kDropUnsynced));
  EXPECT_EQ(ReadAll(&env, dir.Join("f")), "one");
}

}  // namespace
}  // namespace weir
