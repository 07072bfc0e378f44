// CheckpointStore: durable, incremental, asynchronously written checkpoints of named byte strings.
// Format: docs/checkpoint-format.md.
//
// The engine hands the store one checkpoint at a time as a list of (name, bytes) blobs — operator
// snapshots (src/state/snapshot.h), source offsets, watermarks, sink pre-commit handles — and the
// store makes them one atomic unit on disk:
//   - every blob is cut into blocks of `block_bytes`; a block is identified by its content
//     (XXH3-128 of the bytes + length). Blocks not already on disk are appended to one new pack
//     file per checkpoint (pack-<epoch>.blk); blocks already present in a kept pack are referenced,
//     not rewritten: that is the incremental checkpoint (an operator's dense arena that did not
//     change produces identical blocks).
//   - the checkpoint is published by its manifest (MANIFEST-<epoch>), written to a temp name,
//     fsynced, renamed, and made durable by fsyncing the directory — after the pack was fsynced.
//   - after publication the newest `retain` manifests are kept; older manifests are deleted, then
//     packs no kept manifest references.
//
// Durability (what a result means for the disk):
//   - WriteAsync OK: the blobs were handed to the writer thread. Nothing is durable yet.
//   - An epoch returned by PollDurable/WaitDurable: its manifest rename and the directory fsync
//     returned OK; Open after any crash finds it (or a newer one). Only then may the caller
//     commit sinks' pre-committed transactions of that epoch.
//   - After a crash, latest() may name an epoch that was never reported durable (the rename
//     reached the disk, the process died before hearing so). It is complete and valid; recovery
//     treats it like any other checkpoint (2PC sinks commit its pre-committed transactions).
//   - Any I/O error in the writer (write, fdatasync, rename, directory fsync, deletion) is fatal
//     and sticky: every later WriteAsync/PollDurable/WaitDurable returns it. We never retry an
//     fdatasync (see env.h); the process restarts and recovers from latest().
// Corruption: a pack block or a published manifest that fails its checksum, length or structure
// check is a DataError "checkpoint DIR/FILE: <what> at offset N" — never a silently different
// result, and never a silent fall-back to an older checkpoint (the rule and its reasons:
// docs/checkpoint-format.md, "Recovery rules").
//
// Ownership: the store owns DIR exclusively (one store per directory, no inter-process lock yet),
// a writer thread (nice +5: it yields the CPU to the pipeline), and the blobs of the write in
// flight; it does not own the Env.
// Thread-safety: WriteAsync, PollDurable and WaitDurable belong to one thread (the checkpoint
// coordinator). latest() and Read() may be called from any thread, also while a write is in
// flight, but Read(e) races with the retention of epoch e: read only epochs the store will keep
// (in practice: at recovery, before the first WriteAsync).
// Limits: blob names are at most 64 KiB, blobs at most 2^48 bytes, block_bytes in
// [kCheckpointBlockBytesMin, kCheckpointBlockBytesMax]; Read materialises a whole checkpoint in
// memory (that is its contract); the writer holds per block 40 bytes of metadata, not a copy.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "common/env.h"
#include "common/status.h"

namespace weir {

inline constexpr size_t kCheckpointBlockBytesMin = 64;
inline constexpr size_t kCheckpointBlockBytesMax = 256u << 20;
inline constexpr size_t kCheckpointNameBytesMax = 64u << 10;

struct CheckpointStoreOptions {
  /// Checkpoints kept after a new one is published (>= 1).
  int retain = 3;
  /// Blobs are cut into blocks of this size (the last one of a blob may be shorter); the unit of
  /// deduplication. Smaller blocks find more unchanged data but cost 40 bytes of manifest each.
  size_t block_bytes = 1u << 20;
};

/// Blobs of a checkpoint that arrive after WriteAsync returned — e.g. from a snapshot process
/// forked at the checkpoint's instant (engine/forked_snapshot.h). The writer thread calls
/// Produce once, before writing, and appends what it returns to the checkpoint's blobs; an
/// error fails the checkpoint like any writer error (fatal, sticky). Destroyed on the writer
/// thread (or by ~CheckpointStore) after Produce returned, or without Produce having been
/// called if an earlier write failed: the destructor must release what it holds either way.
class DeferredBlobs {
 public:
  virtual ~DeferredBlobs() = default;
  virtual Status Produce(std::vector<std::pair<std::string, std::string>>* out) = 0;
};

/// What one checkpoint write did (for metrics, tests and benchmarks).
struct CheckpointWriteStats {
  uint64_t epoch = 0;
  uint64_t blobs = 0;
  uint64_t blob_bytes = 0;          // sum of blob lengths
  uint64_t blocks = 0;              // block references in the manifest
  uint64_t blocks_written = 0;      // blocks appended to this checkpoint's pack
  uint64_t bytes_written = 0;       // pack + manifest bytes handed to the OS
  uint64_t blocks_rewritten = 0;    // unchanged blocks copied out of a mostly-dead pack
  uint64_t packs_deleted = 0;       // by retention after publication
  uint64_t manifests_deleted = 0;
  int64_t write_micros = 0;         // writer thread: start of the write to manifest published
  int64_t deferred_micros = 0;      // writer thread: waiting for DeferredBlobs::Produce
};

/// "MANIFEST-<epoch, 20 digits>", "pack-<epoch, 20 digits>.blk".
std::string CheckpointManifestName(uint64_t epoch);
std::string CheckpointPackName(uint64_t epoch);

class CheckpointStore {
 public:
  /// Opens DIR (creating it), validates every published manifest and checks that the packs they
  /// reference exist and are long enough, applies retention, and removes the leftovers of
  /// incomplete checkpoints (temp manifests, unreferenced packs). Errors: DataError naming the
  /// file and offset for a damaged manifest or a missing/short pack (nothing is deleted then);
  /// IOError; InvalidArgument for bad options.
  static Result<std::unique_ptr<CheckpointStore>> Open(Env* env, std::string dir,
                                                       CheckpointStoreOptions options = {});
  /// Waits for the write in flight (its result is lost unless polled first), stops the thread.
  ~CheckpointStore();
  CheckpointStore(const CheckpointStore&) = delete;
  CheckpointStore& operator=(const CheckpointStore&) = delete;

  /// The newest published checkpoint's epoch, or nullopt if there is none. Moves forward as the
  /// writer publishes.
  std::optional<uint64_t> latest() const;
  /// Epochs of the kept checkpoints, oldest first.
  std::vector<uint64_t> epochs() const;

  /// Reads every blob of checkpoint `epoch` (name -> bytes), verifying the manifest and every
  /// block's and blob's checksum. NotFound if `epoch` is not a kept checkpoint; DataError
  /// "checkpoint DIR/FILE: <what> at offset N" for corruption; IOError.
  Result<std::map<std::string, std::string>> Read(uint64_t epoch) const;

  /// Starts writing checkpoint `epoch` in the writer thread and returns without doing I/O; the
  /// blobs are moved in. At most one write is in flight: if one is, this call first waits for
  /// it. Returns the microseconds spent waiting (0 when the writer was idle) — back-pressure the
  /// caller should report. Errors: InvalidArgument (not sticky) if `epoch` is not above every
  /// earlier epoch, or for a duplicate or oversized name; the sticky writer error otherwise.
  /// `deferred` (optional, owned from now on): more blobs of the same checkpoint, produced in
  /// the writer thread before it writes; the same name checks apply to them, as a writer error.
  Result<uint64_t> WriteAsync(uint64_t epoch,
                              std::vector<std::pair<std::string, std::string>> blobs,
                              std::unique_ptr<DeferredBlobs> deferred = nullptr);

  /// The blobs of the last finished write, handed back so the caller can reuse their memory
  /// (contents are stale; empty if taken already or none finished). Thread-safe.
  std::vector<std::pair<std::string, std::string>> TakeSpentBuffers();
  /// Non-blocking: the epochs published since the last call, oldest first; or the writer's
  /// sticky error.
  Result<std::vector<uint64_t>> PollDurable();
  /// Blocks until no write is in flight, then returns PollDurable()'s result.
  Result<std::vector<uint64_t>> WaitDurable();

  /// Statistics of the last write that finished (epoch 0 / zeros before the first).
  CheckpointWriteStats last_write_stats() const;
  const std::string& dir() const { return dir_; }

  struct BlockRef;
  struct BlobEntry;
  struct Manifest;

 private:
  CheckpointStore(Env* env, std::string dir, CheckpointStoreOptions options);
  void WriterLoop();
  Status WriteCheckpoint(uint64_t epoch, std::vector<std::pair<std::string, std::string>>& blobs,
                         CheckpointWriteStats* stats);
  Status Collect(CheckpointWriteStats* stats);

  Env* env_;
  const std::string dir_;
  const CheckpointStoreOptions options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // Guarded by mu_. Kept manifests by epoch (parsed); packs' sizes in bytes by epoch.
  std::map<uint64_t, std::shared_ptr<const Manifest>> manifests_;
  std::map<uint64_t, uint64_t> pack_bytes_;
  std::optional<uint64_t> last_epoch_submitted_;
  bool job_pending_ = false;      // a job waits for or is in the writer
  bool job_blobs_taken_ = false;  // the writer has taken the pending job
  uint64_t job_epoch_ = 0;
  std::vector<std::pair<std::string, std::string>> job_blobs_;
  std::unique_ptr<DeferredBlobs> job_deferred_;
  std::vector<std::pair<std::string, std::string>> spent_;  // written blobs, for reuse
  std::vector<uint64_t> durable_;  // published, not yet returned by PollDurable
  Status fatal_;
  CheckpointWriteStats last_stats_;
  bool stop_ = false;
  std::thread writer_;
};

}  // namespace weir
