// RocksStore: staged writes, batched lookups, prefix iteration, checkpoints by hard links and
// working copies opened from them, and the errors of missing or damaged checkpoint directories.
#include "state/rocksdb_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <random>

#include "test_util.h"

namespace weir {
namespace {

std::map<std::string, std::string> Dump(const RocksStore& s, std::string_view prefix = "") {
  std::map<std::string, std::string> out;
  Status st = s.ForEach(prefix, [&](std::string_view k, std::string_view v) {
    out.emplace(std::string(k), std::string(v));
    return Status::OK();
  });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

std::map<size_t, std::string> MultiGet(RocksStore& s, const std::vector<std::string>& keys) {
  std::vector<std::string_view> views(keys.begin(), keys.end());
  std::map<size_t, std::string> got;
  Status st = s.MultiGet(views.data(), views.size(), [&](size_t i, std::string_view v) { got[i] = std::string(v); });
  EXPECT_TRUE(st.ok()) << st.ToString();
  return got;
}

TEST(RocksStoreTest, PutGetDeleteIterate) {
  weir_test::TempDir tmp("rocks");
  auto s = RocksStore::Open(tmp.Join("work"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  RocksStore& store = **s;
  store.Put("a/1", "x");
  store.Put("a/2", "y");
  store.Put("b/1", std::string("z\0z", 3));
  EXPECT_EQ(store.pending(), 3u);
  // Staged writes are invisible until Commit.
  EXPECT_TRUE(MultiGet(store, {"a/1"}).empty());
  ASSERT_TRUE(store.Commit().ok());
  EXPECT_EQ(store.pending(), 0u);
  auto got = MultiGet(store, {"a/1", "nope", "b/1", "a/2"});
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0], "x");
  EXPECT_EQ(got[2], std::string("z\0z", 3));
  EXPECT_EQ(got[3], "y");
  std::string v;
  bool present = false;
  ASSERT_TRUE(store.Get("a/2", &v, &present).ok());
  EXPECT_TRUE(present);
  EXPECT_EQ(v, "y");
  ASSERT_TRUE(store.Get("a/3", &v, &present).ok());
  EXPECT_FALSE(present);

  EXPECT_EQ(Dump(store, "a/"), (std::map<std::string, std::string>{{"a/1", "x"}, {"a/2", "y"}}));
  EXPECT_EQ(Dump(store).size(), 3u);
  // Later stages of a key win; deletes apply at Commit.
  store.Put("a/1", "x2");
  store.Delete("a/2");
  store.Delete("a/1");
  store.Put("a/1", "x3");
  ASSERT_TRUE(store.Commit().ok());
  EXPECT_EQ(Dump(store, "a/"), (std::map<std::string, std::string>{{"a/1", "x3"}}));
  // ForEach stops at the callback's first error.
  int calls = 0;
  Status st = store.ForEach("", [&](std::string_view, std::string_view) {
    ++calls;
    return DataError("stop");
  });
  EXPECT_EQ(st.code(), StatusCode::kDataError);
  EXPECT_EQ(calls, 1);
}

TEST(RocksStoreTest, OpenEmptiesTheWorkingDirectory) {
  weir_test::TempDir tmp("rocks");
  {
    auto s = RocksStore::Open(tmp.Join("work"));
    ASSERT_TRUE(s.ok());
    (*s)->Put("k", "v");
    ASSERT_TRUE((*s)->Commit().ok());
  }
  // The destructor removed the working directory.
  EXPECT_FALSE(std::filesystem::exists(tmp.Join("work")));
  weir_test::WriteFile(tmp.Join("stale"), "junk");
  std::filesystem::create_directories(tmp.Join("work2"));
  weir_test::WriteFile(tmp.Join("work2/leftover"), "junk");
  auto s = RocksStore::Open(tmp.Join("work2"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(Dump(**s).empty());
  EXPECT_FALSE(std::filesystem::exists(tmp.Join("work2/leftover")));
}

TEST(RocksStoreTest, CheckpointAndReopen) {
  weir_test::TempDir tmp("rocks", /*in_memory=*/false);
  std::mt19937_64 rng(7);
  std::map<std::string, std::string> model;
  auto s = RocksStore::Open(tmp.Join("work"));
  ASSERT_TRUE(s.ok());
  RocksStore& store = **s;
  // Enough data for several SST files (and a memtable that only the checkpoint's flush saves).
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 20000; ++i) {
      std::string k = "key" + std::to_string(rng() % 50000);
      if (rng() % 5 == 0) {
        store.Delete(k);
        model.erase(k);
      } else {
        std::string v(static_cast<size_t>(rng() % 64), static_cast<char>('a' + round));
        store.Put(k, v);
        model[k] = v;
      }
    }
    ASSERT_TRUE(store.Commit().ok());
  }
  ASSERT_TRUE(store.CreateCheckpoint(tmp.Join("ckpt-1")).ok());
  EXPECT_EQ(store.CreateCheckpoint(tmp.Join("ckpt-1")).code(), StatusCode::kAlreadyExists);
  // SST files of the checkpoint are hard links, not copies.
  bool linked = false;
  for (const auto& e : std::filesystem::directory_iterator(tmp.Join("ckpt-1")))
    if (e.path().extension() == ".sst") linked |= std::filesystem::hard_link_count(e.path()) >= 2;
  EXPECT_TRUE(linked);
  // Changes after the checkpoint do not reach it.
  store.Put("key-after", "later");
  store.Delete(model.begin()->first);
  ASSERT_TRUE(store.Commit().ok());

  auto copy = RocksStore::OpenFromCheckpoint(tmp.Join("ckpt-1"), tmp.Join("copy"));
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(Dump(**copy), model);
  // The copy is writable and independent of the checkpoint: a second copy still sees the
  // checkpoint's contents.
  (*copy)->Put("key-copy", "c");
  ASSERT_TRUE((*copy)->Commit().ok());
  auto copy2 = RocksStore::OpenFromCheckpoint(tmp.Join("ckpt-1"), tmp.Join("copy2"));
  ASSERT_TRUE(copy2.ok()) << copy2.status().ToString();
  EXPECT_EQ(Dump(**copy2), model);
  // A checkpoint of a copy opens too (restart after restart).
  ASSERT_TRUE((*copy)->CreateCheckpoint(tmp.Join("ckpt-2")).ok());
  copy->reset();
  auto copy3 = RocksStore::OpenFromCheckpoint(tmp.Join("ckpt-2"), tmp.Join("copy3"));
  ASSERT_TRUE(copy3.ok()) << copy3.status().ToString();
  auto expected = model;
  expected["key-copy"] = "c";
  EXPECT_EQ(Dump(**copy3), expected);
}

TEST(RocksStoreTest, MissingOrDamagedCheckpoint) {
  weir_test::TempDir tmp("rocks");
  auto missing = RocksStore::OpenFromCheckpoint(tmp.Join("nope"), tmp.Join("work"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(tmp.Join("nope")), std::string::npos);

  std::filesystem::create_directories(tmp.Join("empty"));
  auto empty = RocksStore::OpenFromCheckpoint(tmp.Join("empty"), tmp.Join("work"));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kDataError);

  {
    auto s = RocksStore::Open(tmp.Join("src"));
    ASSERT_TRUE(s.ok());
    for (int i = 0; i < 1000; ++i) (*s)->Put("k" + std::to_string(i), "v");
    ASSERT_TRUE((*s)->Commit().ok());
    ASSERT_TRUE((*s)->CreateCheckpoint(tmp.Join("ckpt")).ok());
  }
  // An SST file the MANIFEST lists is gone.
  int removed = 0;
  for (const auto& e : std::filesystem::directory_iterator(tmp.Join("ckpt")))
    if (e.path().extension() == ".sst") removed += std::filesystem::remove(e.path());
  ASSERT_GT(removed, 0);
  auto damaged = RocksStore::OpenFromCheckpoint(tmp.Join("ckpt"), tmp.Join("work"));
  ASSERT_FALSE(damaged.ok());
  EXPECT_EQ(damaged.status().code(), StatusCode::kDataError) << damaged.status().ToString();
  EXPECT_NE(damaged.status().message().find(tmp.Join("ckpt")), std::string::npos);

  // A garbled CURRENT file.
  {
    auto s = RocksStore::Open(tmp.Join("src2"));
    ASSERT_TRUE(s.ok());
    (*s)->Put("k", "v");
    ASSERT_TRUE((*s)->Commit().ok());
    ASSERT_TRUE((*s)->CreateCheckpoint(tmp.Join("ckpt2")).ok());
  }
  weir_test::WriteFile(tmp.Join("ckpt2/CURRENT"), "MANIFEST-999999\n");
  auto garbled = RocksStore::OpenFromCheckpoint(tmp.Join("ckpt2"), tmp.Join("work"));
  ASSERT_FALSE(garbled.ok());
  EXPECT_EQ(garbled.status().code(), StatusCode::kDataError) << garbled.status().ToString();
}

}  // namespace
}  // namespace weir
