// StateBackendOptions: where an operator keeps its keyed state — in memory (the default) or in
// RocksDB (`SET state_backend = 'rocksdb'`, larger-than-memory state) — and CheckpointContext,
// what Operator::PrepareCheckpoint gets to place external checkpoint files.
//
// Directory layout under `root` (docs/checkpoint-format.md, "RocksDB state"):
//   root/work/<operator name>/          the operator's live RocksDB (no WAL; rebuilt on start)
//   root/ckpt-<epoch>/<operator name>/  a RocksDB checkpoint (hard-linked SST files) that the
//                                       engine checkpoint of that epoch refers to
// `root` is <state_dir>/rocksdb with a state directory, else a temporary directory the
// database removes at close. The operator name is stable across restarts of the same SQL
// (pipeline name + operator index, StateOperatorName) so a restart finds its checkpoint.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace weir {

enum class StateBackend : uint8_t { kMemory, kRocksDb };

/// "memory" / "rocksdb".
std::string_view StateBackendName(StateBackend b);
/// "memory" / "rocksdb" (any case) → the backend; else kInvalidArgument naming both.
Result<StateBackend> ParseStateBackend(std::string_view text);
/// A byte size: "65536", "256KB", "64MB", "1 GB", "512KiB", "2MiB", "1GiB" (KB/MB/GB are
/// powers of 1024 too, as in PostgreSQL's memory settings) → bytes (>= 1). Errors:
/// kInvalidArgument naming the text.
Result<int64_t> ParseByteSize(std::string_view text);

struct StateBackendOptions {
  StateBackend backend = StateBackend::kMemory;
  static constexpr size_t kCacheBytesDefault = size_t{64} << 20;
  /// RocksDB backend: bytes of groups an operator keeps in memory (its hash-table cache: slots
  /// plus key arena) before writing them back to RocksDB. RocksDB's own block cache and
  /// memtable come on top (RocksStoreOptions).
  size_t cache_bytes = kCacheBytesDefault;
  /// RocksDB backend: the directory holding working copies and checkpoints (layout above).
  std::string root;
  /// RocksDB backend: this operator's stable name, a file name (StateOperatorName).
  std::string name;
};

/// The stable state name of operator `index` of pipeline `pipeline`: "<pipeline>.<index>",
/// with every byte outside [A-Za-z0-9_-] written as %XX so that it is one safe file name.
std::string StateOperatorName(std::string_view pipeline, size_t index);

/// What Operator::PrepareCheckpoint gets: where operators with external state write their part
/// of checkpoint `epoch`.
struct CheckpointContext {
  /// Absolute directory for this epoch's external state (root/ckpt-<epoch>); may not exist yet.
  /// Empty: no external state directory is configured (memory backend).
  std::string dir;
  /// `dir` relative to StateBackendOptions::root ("ckpt-<epoch>"): what snapshots record, so
  /// the state directory can be moved.
  std::string relative_dir;
};

}  // namespace weir
