// Checkpointer: the engine side of checkpoints — a state directory's CheckpointStore, the
// epoch counter, the cadence, the restored checkpoint's blobs, and the run's bookkeeping
// (which statements and run phases the checkpoint covers).
//
// The database takes a checkpoint between batches (every operator has processed all input
// delivered so far, which is the state aligned barriers produce in a multi-threaded engine):
// it snapshots pipelines, source positions, tables and sinks' pre-commits into named blobs
// and hands them to Write(), which returns after the hand-off (the store writes and fsyncs in
// its own thread). Sinks commit an epoch only once PollDurable() / WaitDurable() returns it.
// Layout of DIR: DIR/checkpoints (docs/checkpoint-format.md). Blob names and the meta blob:
// docs/checkpoint-format.md, "Engine blobs".
//
// Errors: Open fails on a damaged checkpoint (DataError naming file and offset) rather than
// falling back; a writer error is fatal and sticky (restart and recover).
// Thread-safety: one thread (the database's).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/env.h"
#include "common/status.h"
#include "storage/checkpoint_store.h"

namespace weir {

/// What a checkpoint covers besides operator state.
struct CheckpointMeta {
  /// Statements of the script(s) executed before the checkpoint, and a hash of their texts:
  /// a restart re-executes the same script, checks it is the same, and skips the data
  /// changes (INSERT / UPDATE / DELETE) the checkpoint already contains.
  uint64_t statements = 0;
  uint64_t statements_hash = 0;
  /// Run phases (Database::Run calls that started pipelines) begun, and whether the last one
  /// had finished (every bounded source exhausted) when the checkpoint was taken.
  uint64_t phase = 0;
  bool phase_done = false;
};

struct CheckpointerStats {
  int64_t checkpoints = 0;         // written (handed to the store)
  int64_t durable = 0;             // published
  // Pauses: checkpoints taken while pipelines run (not those at the end of a run phase).
  int64_t running_checkpoints = 0;
  int64_t last_pause_us = 0;       // snapshot + hand-off of the last checkpoint, pipeline stalled
  int64_t max_pause_us = 0;
  int64_t total_pause_us = 0;
  int64_t max_snapshot_us = 0;     // of the pause: producing the blobs (fork or copy), without
  int64_t total_snapshot_us = 0;   // waiting for the previous checkpoint's write
  int64_t end_of_run_us = 0;       // snapshot + hand-off of end-of-phase checkpoints
  int64_t last_state_bytes = 0;    // blob bytes of the last checkpoint
  int64_t last_written_bytes = 0;  // bytes the store wrote for it (incremental)
  uint64_t last_durable_epoch = 0;
};

class Checkpointer {
 public:
  static constexpr int64_t kIntervalMsDefault = 1000;

  /// Opens DIR (creating it) and reads its latest checkpoint, if any.
  static Result<std::unique_ptr<Checkpointer>> Open(Env* env, const std::string& state_dir,
                                                    int64_t interval_ms);

  bool restored() const { return restored_epoch_.has_value(); }
  uint64_t restored_epoch() const { return restored_epoch_.value_or(0); }
  const CheckpointMeta& restored_meta() const { return restored_meta_; }
  /// The restored checkpoint's blob `name`, or nullptr.
  const std::string* Restored(const std::string& name) const;

  /// Epochs of the checkpoints the store keeps (published and retained), oldest first.
  std::vector<uint64_t> kept_epochs() const;
  /// The epoch the next Write() will get (sinks pre-commit under it first).
  uint64_t next_epoch() const { return next_epoch_; }
  int64_t interval_ms() const { return interval_ms_; }
  void set_interval_ms(int64_t ms) { interval_ms_ = ms; }
  /// True when the interval has passed since the last checkpoint (or the run began) and the
  /// previous checkpoint is durable (a slow disk stretches the cadence instead of stalling the
  /// pipeline behind the writer).
  bool Due(int64_t now_ms) const {
    return now_ms - last_ms_ >= interval_ms_ && stats_.durable >= stats_.checkpoints;
  }
  void ResetClock(int64_t now_ms) { last_ms_ = now_ms; }

  /// Hands checkpoint `blobs` + `meta` to the store's writer thread; returns its epoch.
  /// `pause_us`: how long the caller was stalled producing the blobs (for stats). `deferred`:
  /// more blobs of this checkpoint, produced later in the writer thread (a forked snapshot).
  Result<uint64_t> Write(std::vector<std::pair<std::string, std::string>> blobs, const CheckpointMeta& meta,
                         int64_t now_ms, int64_t pause_us, std::unique_ptr<DeferredBlobs> deferred = nullptr);
  /// Epochs made durable since the last call (oldest first), or the writer's fatal error.
  Result<std::vector<uint64_t>> PollDurable();
  Result<std::vector<uint64_t>> WaitDurable();

  /// A buffer for blob `name`: the memory of its previous checkpoint's blob once written (so
  /// large snapshots reuse mapped pages), else empty.
  std::string TakeBuffer(const std::string& name);

  const CheckpointerStats& stats() const { return stats_; }
  const std::string& dir() const { return dir_; }

 private:
  Checkpointer() = default;
  void Track(const std::vector<uint64_t>& durable);

  std::string dir_;
  std::unique_ptr<CheckpointStore> store_;
  std::optional<uint64_t> restored_epoch_;
  CheckpointMeta restored_meta_;
  std::map<std::string, std::string> restored_;
  uint64_t next_epoch_ = 1;
  int64_t interval_ms_ = kIntervalMsDefault;
  int64_t last_ms_ = 0;
  CheckpointerStats stats_;
  std::map<std::string, std::string> pool_;
};

/// FNV-1a over `text`, continuing from `h` (the statement fingerprint).
uint64_t HashStatement(uint64_t h, std::string_view text);

}  // namespace weir
