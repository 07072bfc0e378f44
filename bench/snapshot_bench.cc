// Snapshot / restore throughput of operator state (docs/operator-state.md, "Performance").
//
//   snapshot_bench [GiB]   (default 1)
//
// 1. A HashTable like a GROUP BY's: BIGINT keys, 48-byte payloads, slot array of ~GiB bytes.
// 2. A hash join's right side: BIGINT key + 60-byte VARCHAR rows, ~GiB of arena chunks.
// Reports wall time and MB/s (MB = 10^6 bytes of snapshot) for SnapshotState into a fresh
// StateWriter (its std::string grows by doubling, as in the driver) and for RestoreState into a
// fresh operator, validation included. Not a google-benchmark: one timed run per figure.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "exec/join/hash_join.h"
#include "state/hash.h"
#include "state/hash_table.h"

using namespace weir;

namespace {

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void Report(const char* what, size_t bytes, double snap_s, double restore_s) {
  const double mb = static_cast<double>(bytes) / 1e6;
  std::printf("%-34s %8.0f MB  snapshot %6.2f s (%6.0f MB/s)  restore %6.2f s (%6.0f MB/s)\n", what, mb, snap_s,
              mb / snap_s, restore_s, mb / restore_s);
}

void BenchHashTable(double gib) {
  // 64-byte slots: capacity = gib GiB / 64, filled to 60 %.
  size_t capacity = 16;
  while (static_cast<double>(capacity) * 64 < gib * (1 << 30)) capacity *= 2;
  const size_t keys = capacity * 6 / 10;
  HashTable t(48, 8);
  t.Reserve(keys);
  for (uint64_t k = 0; k < keys; ++k) {
    uint8_t* p = t.FindOrInsert(reinterpret_cast<const uint8_t*>(&k), 8, HashBytes(&k, 8), nullptr);
    std::memcpy(p, &k, 8);
  }
  auto t0 = std::chrono::steady_clock::now();
  StateWriter w;
  t.Snapshot(&w);
  const double snap = Seconds(t0);
  t0 = std::chrono::steady_clock::now();
  HashTable u(48, 8);
  StateReader r(w.buffer(), "bench");
  Status st = u.Restore(&r);
  const double restore = Seconds(t0);
  if (!st.ok() || u.size() != t.size()) std::printf("restore failed: %s\n", st.ToString().c_str());
  Report("HashTable (aggregate groups)", w.size(), snap, restore);
}

void BenchJoin(double gib) {
  auto left = std::make_shared<Schema>(std::vector<Field>{{"k", DataType::Int64(), false}});
  auto right = std::make_shared<Schema>(
      std::vector<Field>{{"k", DataType::Int64(), false}, {"s", DataType::Varchar(), false}});
  auto make = [&] {
    HashJoinOptions o;
    o.left_schema = left;
    o.right_schema = right;
    o.left_keys = {0};
    o.right_keys = {0};
    o.left_append_only = o.right_append_only = true;
    return std::move(HashJoinOperator::Make(o)).value();
  };
  auto join = make();
  const std::string payload(60, 'x');
  const int64_t batch_rows = 4096;
  RecordBatch b(right);
  int64_t key = 0;
  while (static_cast<double>(join->state_bytes()) < gib * (1 << 30)) {
    b.columns() = {std::make_shared<Column>(DataType::Int64()), std::make_shared<Column>(DataType::Varchar())};
    for (int64_t i = 0; i < batch_rows; ++i, ++key) {
      b.columns()[0]->Append<int64_t>(key);
      b.columns()[1]->AppendString(payload);
    }
    b.set_num_rows(batch_rows);
    Status st = join->right_input()->Push(b);
    if (!st.ok()) {
      std::printf("push failed: %s\n", st.ToString().c_str());
      return;
    }
  }
  auto t0 = std::chrono::steady_clock::now();
  StateWriter w;
  (void)join->SnapshotState(&w);
  const double snap = Seconds(t0);
  auto fresh = make();
  t0 = std::chrono::steady_clock::now();
  StateReader r(w.buffer(), "bench");
  Status st = fresh->RestoreState(&r);
  const double restore = Seconds(t0);
  if (!st.ok() || fresh->state_rows() != join->state_rows()) std::printf("restore failed: %s\n", st.ToString().c_str());
  char what[64];
  std::snprintf(what, sizeof what, "HashJoin (%lld rows)", static_cast<long long>(key));
  Report(what, w.size(), snap, restore);
}

}  // namespace

int main(int argc, char** argv) {
  const double gib = argc > 1 ? std::atof(argv[1]) : 1.0;
  BenchHashTable(gib);
  BenchJoin(gib);
  return 0;
}
