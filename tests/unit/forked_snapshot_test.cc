// Copy-on-write checkpoint snapshots: the by-reference StateWriter, ForkedSnapshot (a child
// process serializing a frozen image) and the checkpoint store's deferred blobs.
#include "engine/forked_snapshot.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cerrno>
#include <random>

#include "state/hash.h"
#include "state/hash_table.h"
#include "state/snapshot.h"
#include "storage/checkpoint_store.h"
#include "test_util.h"

namespace weir {
namespace {

std::string Gather(const StateWriter& w) {
  std::string out;
  w.ForEachPiece([&](const char* p, size_t n) {
    out.append(p, n);
    return true;
  });
  return out;
}

// Writes the same sequence into `w`: sections, small fields, large raw spans, a copied span.
void WriteSample(StateWriter* w, const std::vector<uint64_t>& big, const std::string& small) {
  w->Begin("outer");
  w->U64(42);
  w->Raw(big.data(), big.size() * 8);  // referenced when by reference
  w->Begin("inner");
  w->String(small);
  w->Raw(big.data(), 100);  // small: copied
  uint8_t* copy = w->RawCopy(big.data(), 1 << 17);
  copy[0] ^= 0xff;  // edits the snapshot, not `big`
  w->End();
  w->Bytes(big.data() + 7, (1 << 17) - 8);
  w->End();
}

TEST(StateWriterByReference, SameBytesAsACopyingWriter) {
  std::vector<uint64_t> big(100000);
  std::mt19937_64 rng(weir_test::TestSeed());
  for (auto& v : big) v = rng();
  StateWriter copying;
  WriteSample(&copying, big, "abc");
  StateWriter by_ref{StateWriter::ByReference{}};
  WriteSample(&by_ref, big, "abc");
  EXPECT_EQ(by_ref.size(), copying.size());
  EXPECT_LT(by_ref.buffer().size(), copying.size() / 2) << "large spans were copied";
  EXPECT_EQ(Gather(by_ref), copying.buffer());
  EXPECT_EQ(Gather(copying), copying.buffer());
  // And it reads back.
  const std::string bytes = Gather(by_ref);
  StateReader r(bytes, "sample");
  r.Begin("outer");
  EXPECT_EQ(r.U64(), 42u);
  EXPECT_EQ(r.Raw(big.size() * 8), std::string_view(reinterpret_cast<const char*>(big.data()), big.size() * 8));
  r.Begin("inner");
  EXPECT_EQ(r.String(), "abc");
  r.Raw(100);
  r.Raw(1 << 17);
  r.End();
  r.Bytes();
  r.End();
  ASSERT_OK(r.status());
  EXPECT_TRUE(r.at_end());
}

TEST(ForkedSnapshot, TheChildSerializesTheStateAsItWasAtTheFork) {
  std::vector<uint64_t> state(1 << 20, 7);  // 8 MiB
  auto started = ForkedSnapshot::Start(
      [&](const ForkedSnapshot::Emit& emit) -> Status {
        for (int i = 0; i < 3; ++i) {
          StateWriter w{StateWriter::ByReference{}};
          w.Begin("part");
          w.I64(i);
          w.Raw(state.data(), state.size() * 8);
          w.End();
          WEIR_RETURN_IF_ERROR(emit("blob/" + std::to_string(i), w));
        }
        return Status::OK();
      },
      {{"blob/1", std::string(10, 'x')}});
  ASSERT_OK(started.status());
  // The parent goes on changing its state: the child's copy-on-write image does not see it.
  std::fill(state.begin(), state.end(), 9);
  std::vector<std::pair<std::string, std::string>> blobs;
  ASSERT_OK((*started)->Produce(&blobs));
  ASSERT_EQ(blobs.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(blobs[i].first, "blob/" + std::to_string(i));
    StateReader r(blobs[i].second, "blob");
    r.Begin("part");
    EXPECT_EQ(r.I64(), i);
    std::string_view raw = r.Raw(state.size() * 8);
    r.End();
    ASSERT_OK(r.status());
    uint64_t first = 0, last = 0;
    std::memcpy(&first, raw.data(), 8);
    std::memcpy(&last, raw.data() + raw.size() - 8, 8);
    EXPECT_EQ(first, 7u);
    EXPECT_EQ(last, 7u);
  }
}

// A real state structure (a hash table of 300 K variable-length keys: slot array and key arena
// well above the by-reference threshold) snapshotted in a forked child through a by-reference
// writer gives the same bytes as an in-process snapshot — also while the parent keeps
// inserting after the fork.
TEST(ForkedSnapshot, AHashTableSnapshotIsByteIdenticalToAnInlineOne) {
  HashTable table(24, 0);
  std::mt19937_64 rng(weir_test::TestSeed());
  auto insert = [&](int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      const std::string key = "key-" + std::to_string(rng() % 1000000);
      bool inserted = false;
      uint8_t* payload = table.FindOrInsert(reinterpret_cast<const uint8_t*>(key.data()),
                                            static_cast<uint32_t>(key.size()), HashBytes(key.data(), key.size()), &inserted);
      if (inserted) std::memset(payload, 0, 24);
      ++payload[0];
    }
  };
  insert(300000);
  StateWriter inline_writer;
  table.Snapshot(&inline_writer);
  auto started = ForkedSnapshot::Start(
      [&](const ForkedSnapshot::Emit& emit) -> Status {
        StateWriter w{StateWriter::ByReference{}};
        table.Snapshot(&w);
        return emit("table", w);
      },
      {});
  ASSERT_OK(started.status());
  insert(100000);  // the parent goes on; the child's image is frozen
  std::vector<std::pair<std::string, std::string>> blobs;
  ASSERT_OK((*started)->Produce(&blobs));
  ASSERT_EQ(blobs.size(), 1u);
  EXPECT_GT(blobs[0].second.size(), size_t{4} << 20);
  EXPECT_TRUE(blobs[0].second == inline_writer.buffer()) << "forked snapshot differs from the inline one";
}

TEST(ForkedSnapshot, AProducerErrorFailsWithItsMessage) {
  auto started = ForkedSnapshot::Start(
      [](const ForkedSnapshot::Emit& emit) -> Status {
        StateWriter w{StateWriter::ByReference{}};
        w.U64(1);
        WEIR_RETURN_IF_ERROR(emit("a", w));
        return DataError("operator 3 refused");
      },
      {});
  ASSERT_OK(started.status());
  std::vector<std::pair<std::string, std::string>> blobs;
  Status s = (*started)->Produce(&blobs);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("operator 3 refused"), std::string::npos) << s.ToString();
}

TEST(ForkedSnapshot, AChildThatDiesFailsTheCheckpoint) {
  auto started = ForkedSnapshot::Start(
      [](const ForkedSnapshot::Emit& emit) -> Status {
        StateWriter w{StateWriter::ByReference{}};
        w.U64(1);
        WEIR_RETURN_IF_ERROR(emit("a", w));
        ::raise(SIGKILL);
        return Status::OK();
      },
      {});
  ASSERT_OK(started.status());
  std::vector<std::pair<std::string, std::string>> blobs;
  Status s = (*started)->Produce(&blobs);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kIOError) << s.ToString();
  EXPECT_NE(s.ToString().find("ended early"), std::string::npos) << s.ToString();
}

TEST(ForkedSnapshot, DestroyingWithoutProduceReapsTheChild) {
  pid_t pid;
  {
    auto started = ForkedSnapshot::Start(
        [](const ForkedSnapshot::Emit&) -> Status {
          ::pause();  // waits until killed
          return Status::OK();
        },
        {});
    ASSERT_OK(started.status());
    pid = (*started)->pid();
  }
  errno = 0;
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD) << "the child was not reaped";
}

// A DeferredBlobs from a list, or failing.
class ListBlobs final : public DeferredBlobs {
 public:
  explicit ListBlobs(std::vector<std::pair<std::string, std::string>> blobs, Status fail = Status::OK())
      : blobs_(std::move(blobs)), fail_(std::move(fail)) {}
  Status Produce(std::vector<std::pair<std::string, std::string>>* out) override {
    if (!fail_.ok()) return fail_;
    for (auto& b : blobs_) out->push_back(std::move(b));
    return Status::OK();
  }

 private:
  std::vector<std::pair<std::string, std::string>> blobs_;
  Status fail_;
};

TEST(CheckpointStoreDeferred, DeferredBlobsBelongToTheSameCheckpoint) {
  weir_test::TempDir dir;
  auto store = CheckpointStore::Open(Env::Default(), dir.path() + "/ck");
  ASSERT_OK(store.status());
  ASSERT_OK((*store)->WriteAsync(1, {{"meta", "m"}},
                                 std::make_unique<ListBlobs>(std::vector<std::pair<std::string, std::string>>{
                                     {"pipeline/a", std::string(3 << 20, 'a')}, {"table/t", "rows"}}))
                .status());
  auto durable = (*store)->WaitDurable();
  ASSERT_OK(durable.status());
  ASSERT_EQ(durable->size(), 1u);
  auto blobs = (*store)->Read(1);
  ASSERT_OK(blobs.status());
  EXPECT_EQ(blobs->size(), 3u);
  EXPECT_EQ(blobs->at("pipeline/a"), std::string(3 << 20, 'a'));
  EXPECT_EQ(blobs->at("table/t"), "rows");
}

TEST(CheckpointStoreDeferred, AFailedOrDuplicateDeferredBlobIsAStickyWriterError) {
  weir_test::TempDir dir;
  auto store = CheckpointStore::Open(Env::Default(), dir.path() + "/ck");
  ASSERT_OK(store.status());
  ASSERT_OK((*store)->WriteAsync(1, {{"meta", "m"}},
                                 std::make_unique<ListBlobs>(std::vector<std::pair<std::string, std::string>>{
                                     {"meta", "again"}}))
                .status());
  auto durable = (*store)->WaitDurable();
  ASSERT_FALSE(durable.ok());
  EXPECT_NE(durable.status().ToString().find("appears twice"), std::string::npos) << durable.status().ToString();
  EXPECT_FALSE((*store)->latest().has_value()) << "nothing may be published";
  EXPECT_FALSE((*store)->WriteAsync(2, {{"meta", "m"}}).ok()) << "the error is sticky";

  weir_test::TempDir dir2;
  auto store2 = CheckpointStore::Open(Env::Default(), dir2.path() + "/ck");
  ASSERT_OK(store2.status());
  ASSERT_OK((*store2)->WriteAsync(1, {{"meta", "m"}}, std::make_unique<ListBlobs>(
                                                         std::vector<std::pair<std::string, std::string>>{},
                                                         IOError("snapshot process 1 was killed by signal 9")))
                .status());
  auto d2 = (*store2)->WaitDurable();
  ASSERT_FALSE(d2.ok());
  EXPECT_NE(d2.status().ToString().find("killed by signal 9"), std::string::npos) << d2.status().ToString();
  EXPECT_FALSE((*store2)->latest().has_value());
}

}  // namespace
}  // namespace weir
