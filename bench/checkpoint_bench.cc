// Checkpoint store figures on the local disk (a fresh directory under $WEIR_BENCH_DIR, else the
// system temp directory — make sure that is a real disk, not tmpfs, or fdatasync costs nothing).
// A plain program (one run of each step is the measurement; 1 GiB does not fit benchmark loops):
//   1. full checkpoint of STATE_MIB (default 1024) of random state in 1 MiB blobs:
//      the caller's pause (WriteAsync returning), time until durable, MB/s;
//   2. incremental checkpoint with 1% of the blocks changed: blocks and bytes written, time;
//   3. an unchanged checkpoint (manifest only), then the pause of 15 more checkpoints;
//   4. recovery: Open + Read of the newest checkpoint, with the pack files evicted from the page
//      cache (posix_fadvise DONTNEED, after an fdatasync) and again warm.
//   build/bench/checkpoint_bench [STATE_MIB] [BLOCK_KIB]
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "common/env.h"
#include "storage/checkpoint_store.h"

namespace weir {
namespace {

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

/// Deterministic pseudo-random contents for blob `i` (xorshift64*), so the state can be rebuilt
/// instead of kept twice in memory.
std::string MakeBlob(uint64_t i, size_t bytes) {
  std::string s(bytes, '\0');
  uint64_t x = 0x9E3779B97F4A7C15ull * (i + 1);
  for (size_t o = 0; o + 8 <= bytes; o += 8) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    const uint64_t v = x * 0x2545F4914F6CDD1Dull;
    std::memcpy(s.data() + o, &v, 8);
  }
  return s;
}

std::vector<std::pair<std::string, std::string>> MakeState(size_t blobs, size_t blob_bytes,
                                                          size_t changed_every) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(blobs);
  for (size_t i = 0; i < blobs; ++i) {
    std::string b = MakeBlob(i, blob_bytes);
    if (changed_every != 0 && i % changed_every == 0) b[blob_bytes / 2] ^= 1;
    out.emplace_back(fmt::format("operator/{:04}", i), std::move(b));
  }
  return out;
}

void EvictFromPageCache(const std::string& dir) {
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    int fd = ::open(e.path().c_str(), O_RDONLY);
    if (fd < 0) continue;
    ::fdatasync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

int Fail(const Status& s) {
  std::fprintf(stderr, "checkpoint_bench: %s\n", s.ToString().c_str());
  return 1;
}

int Run(int argc, char** argv) {
  const size_t state_mib = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 1024;
  const size_t block_kib = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1024;
  const size_t blob_bytes = 1u << 20;
  const size_t blobs = state_mib;
  const double mb = static_cast<double>(state_mib) * 1.048576;  // MiB -> MB (10^6)

  const char* base = std::getenv("WEIR_BENCH_DIR");
  std::filesystem::path root =
      base != nullptr ? std::filesystem::path(base) : std::filesystem::temp_directory_path();
  std::string tmpl = (root / "weir_ckpt_bench.XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) return 1;
  const std::string dir = JoinPath(tmpl, "ckpt");
  std::printf("checkpoint_bench: %zu MiB of state in %zu blobs of 1 MiB, %zu KiB blocks, dir %s\n",
              state_mib, blobs, block_kib, dir.c_str());

  CheckpointStoreOptions o;
  o.retain = 2;
  o.block_bytes = block_kib << 10;
  auto opened = CheckpointStore::Open(Env::Default(), dir, o);
  if (!opened.ok()) return Fail(opened.status());
  std::unique_ptr<CheckpointStore> store = std::move(opened).value();

  auto checkpoint = [&](uint64_t epoch, size_t changed_every, const char* what) -> Status {
    auto state = MakeState(blobs, blob_bytes, changed_every);
    const auto t0 = std::chrono::steady_clock::now();
    auto w = store->WriteAsync(epoch, std::move(state));
    const auto t1 = std::chrono::steady_clock::now();
    if (!w.ok()) return w.status();
    auto d = store->WaitDurable();
    const auto t2 = std::chrono::steady_clock::now();
    if (!d.ok()) return d.status();
    const CheckpointWriteStats st = store->last_write_stats();
    std::printf("%-28s pause %8.1f us | durable after %7.3f s | %8.1f MB/s of state | "
                "%llu/%llu blocks written, %.1f MB written (writer %.3f s)\n",
                what, Seconds(t0, t1) * 1e6, Seconds(t0, t2), mb / Seconds(t0, t2),
                static_cast<unsigned long long>(st.blocks_written),
                static_cast<unsigned long long>(st.blocks),
                static_cast<double>(st.bytes_written) / 1e6,
                static_cast<double>(st.write_micros) / 1e6);
    return Status::OK();
  };
  if (Status s = checkpoint(1, 0, "full checkpoint"); !s.ok()) return Fail(s);
  if (Status s = checkpoint(2, 100, "1% of blocks changed"); !s.ok()) return Fail(s);
  if (Status s = checkpoint(3, 100, "unchanged"); !s.ok()) return Fail(s);

  // The pause alone, 15 times (1% of blocks changed each time, the writer idle at each call):
  // on a shared machine single figures are noisy, so report the distribution.
  std::vector<double> pauses_us;
  for (uint64_t epoch = 4; epoch < 19; ++epoch) {
    auto state = MakeState(blobs, blob_bytes, 97 + epoch);
    const auto t0 = std::chrono::steady_clock::now();
    auto w = store->WriteAsync(epoch, std::move(state));
    const auto t1 = std::chrono::steady_clock::now();
    if (!w.ok()) return Fail(w.status());
    if (auto d = store->WaitDurable(); !d.ok()) return Fail(d.status());
    pauses_us.push_back(Seconds(t0, t1) * 1e6);
  }
  std::sort(pauses_us.begin(), pauses_us.end());
  std::printf("pause over %zu checkpoints      min %.1f us | median %.1f us | max %.1f us\n",
              pauses_us.size(), pauses_us.front(), pauses_us[pauses_us.size() / 2],
              pauses_us.back());
  store.reset();

  for (bool cold : {true, false}) {
    if (cold) EvictFromPageCache(dir);
    const auto t0 = std::chrono::steady_clock::now();
    auto s = CheckpointStore::Open(Env::Default(), dir, o);
    if (!s.ok()) return Fail(s.status());
    const auto t1 = std::chrono::steady_clock::now();
    auto r = (*s)->Read(*(*s)->latest());
    const auto t2 = std::chrono::steady_clock::now();
    if (!r.ok()) return Fail(r.status());
    size_t bytes = 0;
    for (const auto& [name, b] : *r) bytes += b.size();
    std::printf("recovery (%s page cache)    Open %7.3f ms | Read %7.3f s | %8.1f MB/s | %zu blobs, "
                "%.1f MB\n",
                cold ? "cold" : "warm", Seconds(t0, t1) * 1e3, Seconds(t1, t2),
                static_cast<double>(bytes) / 1e6 / Seconds(t1, t2), r->size(),
                static_cast<double>(bytes) / 1e6);
  }
  std::filesystem::remove_all(tmpl);
  return 0;
}

}  // namespace
}  // namespace weir

int main(int argc, char** argv) { return weir::Run(argc, argv); }
