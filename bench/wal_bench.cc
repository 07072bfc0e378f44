// WAL benchmarks on the local disk (a fresh directory under $WEIR_BENCH_DIR, else the system
// temp directory — make sure that is a real disk, not tmpfs, or fdatasync costs nothing).
//   append/<records per commit>   100-byte records through WalWriter::Append, one Commit
//                                 (fdatasync) every N records: MB/s and records/s
//   group_commit/<records>        N 100-byte records + Commit per iteration: the time per
//                                 iteration is the group-commit latency (fdatasync dominated)
//   crc32c/<impl>                 CRC32C over 4 KiB: portable slicing-by-8 vs SSE4.2
// Afterwards, if PostgreSQL's pg_test_fsync is installed, its report for the same directory is
// printed as an independent yardstick for fdatasync latency on this disk.
//   build-wal/bench/wal_bench --benchmark_counters_tabular=true
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include "common/crc32c.h"
#include "common/env.h"
#include "storage/wal.h"

namespace weir {
namespace {

std::string& BenchDir() {
  static std::string dir = [] {
    const char* base = std::getenv("WEIR_BENCH_DIR");
    std::filesystem::path root = base != nullptr ? std::filesystem::path(base)
                                                 : std::filesystem::temp_directory_path();
    std::string tmpl = (root / "weir_wal_bench.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    return tmpl;
  }();
  return dir;
}

std::string FreshWalDir(const char* name) {
  std::string dir = JoinPath(BenchDir(), name);
  std::filesystem::remove_all(dir);
  return dir;
}

void BM_Append(benchmark::State& state) {
  const int64_t records_per_commit = state.range(0);
  const std::string dir = FreshWalDir("append");
  auto writer = WalWriter::Open(Env::Default(), dir, 1);
  if (!writer.ok()) {
    state.SkipWithError(writer.status().ToString().c_str());
    return;
  }
  WalWriter& w = **writer;
  const std::string payload(100, 'p');
  int64_t n = 0;
  for (auto _ : state) {
    auto lsn = w.Append(1, payload);
    if (!lsn.ok()) {
      state.SkipWithError(lsn.status().ToString().c_str());
      break;
    }
    if (++n % records_per_commit == 0) {
      Status s = w.Commit();
      if (!s.ok()) {
        state.SkipWithError(s.ToString().c_str());
        break;
      }
      if (n % (1 << 20) == 0) w.RemoveSegmentsBefore(*lsn).IgnoreError();  // bound disk use
    }
  }
  w.Close().IgnoreError();
  state.SetItemsProcessed(n);
  state.SetBytesProcessed(n * static_cast<int64_t>(payload.size() + kWalRecordHeaderBytes));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Append)->Name("append")->Arg(1000)->Arg(100000)->UseRealTime()->Unit(benchmark::kNanosecond);

void BM_GroupCommit(benchmark::State& state) {
  const int64_t records = state.range(0);
  const std::string dir = FreshWalDir("commit");
  auto writer = WalWriter::Open(Env::Default(), dir, 1);
  if (!writer.ok()) {
    state.SkipWithError(writer.status().ToString().c_str());
    return;
  }
  WalWriter& w = **writer;
  const std::string payload(100, 'p');
  for (auto _ : state) {
    for (int64_t i = 0; i < records; ++i) {
      if (!w.Append(1, payload).ok()) state.SkipWithError("append failed");
    }
    Status s = w.Commit();
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  w.Close().IgnoreError();
  state.SetItemsProcessed(state.iterations() * records);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_GroupCommit)->Name("group_commit")->Arg(1)->Arg(16)->Arg(256)->UseRealTime()->Unit(
    benchmark::kMicrosecond);  // time per iteration = latency of one group commit

void BM_Crc32c(benchmark::State& state) {
  const bool hardware = state.range(0) == 1;
  if (hardware && !crc32c::HardwareAvailable()) {
    state.SkipWithError("no SSE4.2");
    return;
  }
  std::vector<char> buf(4096, 'x');
  uint32_t crc = 0;
  for (auto _ : state) {
    crc = hardware ? crc32c::ExtendHardware(crc, buf.data(), buf.size())
                   : crc32c::ExtendPortable(crc, buf.data(), buf.size());
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(buf.size()));
  state.SetLabel(hardware ? "sse4.2" : "slicing-by-8");
}
BENCHMARK(BM_Crc32c)->Name("crc32c")->Arg(0)->Arg(1);

std::string FindPgTestFsync() {
  std::vector<std::string> candidates;
  if (const char* path = std::getenv("PATH")) {
    std::string p = path;
    size_t start = 0;
    while (start <= p.size()) {
      size_t end = p.find(':', start);
      if (end == std::string::npos) end = p.size();
      candidates.push_back(JoinPath(p.substr(start, end - start), "pg_test_fsync"));
      start = end + 1;
    }
  }
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/usr/lib/postgresql", ec)) {
    candidates.push_back((entry.path() / "bin" / "pg_test_fsync").string());
  }
  for (const auto& c : candidates) {
    if (::access(c.c_str(), X_OK) == 0) return c;
  }
  return "";
}

void RunPgTestFsync() {
  std::string bin = FindPgTestFsync();
  if (bin.empty()) {
    std::printf("\npg_test_fsync: not installed (skipped)\n");
    return;
  }
  std::string cmd =
      fmt::format("'{}' -s 2 -f '{}' 2>&1", bin, JoinPath(BenchDir(), "pg_test_fsync.out"));
  std::printf("\n$ %s\n", cmd.c_str());
  std::fflush(stdout);
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char line[512];
    while (std::fgets(line, sizeof(line), p) != nullptr) std::fputs(line, stdout);
    ::pclose(p);
  }
}

void PrintContext() {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  std::time_t now = std::time(nullptr);
  char date[64];
  std::strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  struct statfs fs {};
  ::statfs(BenchDir().c_str(), &fs);
  std::printf("wal_bench: %s on %s, directory %s (statfs type 0x%lx%s), crc32c %s\n", date, host,
              BenchDir().c_str(), static_cast<unsigned long>(fs.f_type),
              fs.f_type == 0x01021994 ? " = tmpfs: fdatasync is free, numbers are not disk numbers"
                                      : "",
              crc32c::HardwareAvailable() ? "sse4.2" : "portable");
}

}  // namespace
}  // namespace weir

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  weir::PrintContext();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  weir::RunPgTestFsync();
  std::filesystem::remove_all(weir::BenchDir());
  return 0;
}
