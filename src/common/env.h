// Env: the one interface through which Weir touches files and the clock.
//
// Everything the engine reads or writes (WAL, checkpoints, manifest, file sources, file sinks,
// dead-letter files) and every clock it reads (checkpoint cadence, idle timeouts, source
// pacing, pause timing) goes through the database's Env (DatabaseOptions::env), so tests can
// swap in FaultInjectionEnv: crash the "machine" at any sync point, fail reads, or drive a
// manual clock. Production code uses Env::Default() (POSIX syscalls). Known exception:
// proctime() and processing-time windows read Env::Default()'s wall clock (they are built
// without access to the database).
//
// Ownership: an Env outlives every file it opens; files are owned by the caller
// (std::unique_ptr) and closed by their destructor if Close() was not called (errors on that
// implicit close are lost, so durable paths call Close() and check it).
// Thread-safety: Env::Default() and FaultInjectionEnv may be called from any thread; one file
// object must be used by one thread at a time.
// Durability (POSIX semantics, which every Env models):
//   - WritableFile::Append/Flush hand bytes to the operating system: they survive a process crash
//     but NOT a power loss or kernel crash.
//   - WritableFile::Sync (fdatasync) returning OK means every byte appended before it is on
//     stable storage. A failed Sync means nothing about what is on disk; after it the file's
//     contents are unknown (Linux may have dropped the dirty pages), so callers must treat it as
//     fatal for that file, never retry and carry on.
//   - Creating, renaming or deleting a file is durable only after SyncDir(parent) returns OK.
// Errors: IOError naming the path and the errno text ("wal/x.log: open: No such file or
// directory"); NotFound for a missing file where the call says so.
// Limits: paths are plain byte strings; no locking between processes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace weir {

/// A file read front to back. Not thread-safe.
class SequentialFile {
 public:
  virtual ~SequentialFile() = default;
  /// Reads up to `n` bytes into `scratch`; returns how many were read (0 at end of file).
  virtual Result<size_t> Read(size_t n, char* scratch) = 0;
  virtual Status Skip(uint64_t n) = 0;
};

/// A file read at arbitrary offsets. Thread-safe (pread).
class RandomAccessFile {
 public:
  virtual ~RandomAccessFile() = default;
  /// Reads up to `n` bytes at `offset` into `scratch`; returns how many were read (short only at
  /// end of file).
  virtual Result<size_t> Read(uint64_t offset, size_t n, char* scratch) const = 0;
};

/// An append-only file. Not thread-safe.
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  /// Hands `data` to the OS (see the durability paragraph above: not yet durable).
  virtual Status Append(std::string_view data) = 0;
  /// Pushes any user-space buffer to the OS. Not a durability point.
  virtual Status Flush() = 0;
  /// fdatasync: every byte appended so far is durable once this returns OK.
  virtual Status Sync() = 0;
  virtual Status Close() = 0;
  /// Bytes in the file (existing bytes when opened without truncation + appended).
  virtual uint64_t Size() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  /// Opens `path` for appending, creating it if missing; `truncate` empties an existing file.
  virtual Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                                bool truncate) = 0;
  /// NotFound if `path` does not exist.
  virtual Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) = 0;
  virtual Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(
      const std::string& path) = 0;
  /// rename(2): atomic replacement of `to`; durable after SyncDir of both parents.
  virtual Status RenameFile(const std::string& from, const std::string& to) = 0;
  virtual Status DeleteFile(const std::string& path) = 0;
  /// Shrinks `path` to `size_bytes` and syncs it (durable on OK).
  virtual Status TruncateFile(const std::string& path, uint64_t size_bytes) = 0;
  /// Names (not paths) of the entries of `dir`, without "." and "..", in no particular order.
  virtual Result<std::vector<std::string>> GetChildren(const std::string& dir) = 0;
  /// mkdir; OK if the directory already exists.
  virtual Status CreateDir(const std::string& dir) = 0;
  virtual bool FileExists(const std::string& path) = 0;
  virtual Result<uint64_t> GetFileSize(const std::string& path) = 0;
  /// fsync of the directory itself: makes creations, renames and deletions in it durable.
  virtual Status SyncDir(const std::string& dir) = 0;
  /// Wall-clock microseconds since the Unix epoch (CLOCK_REALTIME: may jump when the system
  /// clock is set). For timestamps users see (proctime, checkpoint creation time); never for
  /// durations — use MonotonicMicros.
  virtual int64_t NowMicros() = 0;
  /// Microseconds on a clock that never goes backwards (CLOCK_MONOTONIC; arbitrary origin,
  /// meaningful only as differences within one process). For durations, cadences, timeouts.
  virtual int64_t MonotonicMicros() = 0;
  /// Blocks the calling thread for about `micros` (<= 0: returns at once). A test Env with a
  /// manual clock advances that clock instead of sleeping.
  virtual void SleepForMicros(int64_t micros) = 0;

  /// The process-wide POSIX Env (never destroyed).
  static Env* Default();
};

/// Reads the whole of `path` into a string (convenience over NewSequentialFile).
Result<std::string> ReadFileToString(Env* env, const std::string& path);
/// Writes `data` to `path` (truncating), syncs and closes it. Does not sync the directory.
Status WriteStringToFileSync(Env* env, const std::string& path, std::string_view data);
/// "dir/name" (no separator doubling).
std::string JoinPath(std::string_view dir, std::string_view name);
/// The directory part of `path` ("." when it has none).
std::string DirName(std::string_view path);
/// The errno text of an Env error ("PATH: op: No such file or directory" -> "No such file or
/// directory"), for messages that name the path their own way. A view into `st`'s message.
std::string_view EnvErrorText(const Status& st);

/// How SimulateCrash treats bytes appended after a file's last successful Sync.
enum class CrashMode : unsigned char {
  kDropUnsynced,    // every unsynced byte is lost
  kTornWrite,       // a random prefix of the unsynced bytes survives (cut anywhere)
  kGarbleUnsynced,  // a random prefix survives intact; the rest of the unsynced range (to the
                    // original length) becomes random bytes
};

/// An Env for tests: wraps `base` (usually Env::Default()), remembers per file how many bytes
/// were synced and per directory which creations/renames were not yet made durable by SyncDir,
/// and can then simulate a power loss (SimulateCrash) or fail chosen operations (syncs,
/// renames, reads). Its clock is `base`'s until UseManualClock: then both clocks read a
/// counter that only AdvanceClock and SleepForMicros move, so time-driven behaviour
/// (checkpoint cadence, pacing, idle timeouts) is deterministic and sleeps cost no real time.
///
/// After SimulateCrash every file object opened before it is dead (all calls return IOError),
/// mirroring a process that did not survive. Randomness comes only from the seed, so a crash is
/// reproducible. Thread-safe (one mutex). Limits: deletions and CreateDir are always treated as
/// durable (a deleted file never reappears); sector reordering inside the unsynced range is not
/// modelled; files must be small enough to rewrite in memory at crash time.
class FaultInjectionEnv : public Env {
 public:
  explicit FaultInjectionEnv(Env* base, uint64_t seed);

  Result<std::unique_ptr<WritableFile>> NewWritableFile(const std::string& path,
                                                        bool truncate) override;
  Result<std::unique_ptr<SequentialFile>> NewSequentialFile(const std::string& path) override;
  Result<std::unique_ptr<RandomAccessFile>> NewRandomAccessFile(const std::string& path) override;
  Status RenameFile(const std::string& from, const std::string& to) override;
  Status DeleteFile(const std::string& path) override;
  Status TruncateFile(const std::string& path, uint64_t size_bytes) override;
  Result<std::vector<std::string>> GetChildren(const std::string& dir) override;
  Status CreateDir(const std::string& dir) override;
  bool FileExists(const std::string& path) override;
  Result<uint64_t> GetFileSize(const std::string& path) override;
  Status SyncDir(const std::string& dir) override;
  int64_t NowMicros() override;
  int64_t MonotonicMicros() override;
  void SleepForMicros(int64_t micros) override;

  /// Switches to a manual clock reading `start_micros` (both NowMicros and MonotonicMicros).
  void UseManualClock(int64_t start_micros);
  /// Moves the manual clock forward by `micros` (>= 0). Requires UseManualClock.
  void AdvanceClock(int64_t micros);
  /// Reads (SequentialFile and RandomAccessFile opened through this env) of `path` that reach
  /// byte `offset` or beyond fail with IOError("PATH: read: Input/output error (injected)");
  /// bytes before it are returned normally (a read spanning it returns them first, short).
  /// An empty `path` disables. Applies to files opened before and after the call.
  void FailReadsAt(const std::string& path, uint64_t offset);
  /// Read calls (Sequential + RandomAccess) made through this env so far.
  uint64_t reads() const;

  /// Power loss: applies `mode` to every file's unsynced bytes, then undoes (newest first) every
  /// creation and rename not made durable by SyncDir. Kills all open file objects.
  Status SimulateCrash(CrashMode mode);

  /// The `n`-th Sync() from now (1 = the next one) fails with IOError; the synced size does not
  /// advance. 0 disables.
  void FailNthSync(uint64_t n);
  /// While set, RenameFile fails with IOError and changes nothing.
  void SetRenameFailure(bool fail);
  /// Once `n` more sync points (file Sync or SyncDir) have succeeded, the env "loses power": that
  /// next sync point and every later write-side call fail with IOError("simulated crash") until
  /// SimulateCrash. Used to crash at every sync point of a workload. A negative `n` disables.
  void CrashAfterSyncPoints(int64_t n);
  /// Sync points (file Sync + SyncDir) that succeeded so far.
  uint64_t sync_points() const;

 private:
  friend class FaultWritableFile;
  friend class FaultSequentialFile;
  friend class FaultRandomAccessFile;
  struct FileState {
    uint64_t size_bytes = 0;
    uint64_t synced_bytes = 0;
  };
  struct DirOp {  // a directory change not yet made durable
    enum Kind : unsigned char { kCreate, kRename } kind;
    std::string path;          // created file, or rename target
    std::string from;          // rename source
    bool had_target = false;   // rename replaced an existing file ...
    std::string old_target;    // ... whose durable content was this
  };

  // Called by FaultWritableFile (with mu_ not held).
  Status BeforeWrite(uint64_t generation, const std::string& path);
  void AfterAppend(const std::string& path, uint64_t size_bytes);
  Status BeforeSync(uint64_t generation, const std::string& path);
  void AfterSync(const std::string& path, uint64_t size_bytes);

  // How many of `n` bytes at `offset` of `path` a read may return before the injected read
  // failure (n when none applies); counts the read.
  uint64_t ReadableBytes(const std::string& path, uint64_t offset, uint64_t n);

  Status CheckPowerLocked(std::string_view what, const std::string& path);
  Status ApplyFileCrash(const std::string& path, const FileState& st, CrashMode mode);

  Env* base_;
  mutable std::mutex mu_;
  std::mt19937_64 rng_;
  uint64_t generation_ = 0;
  std::map<std::string, FileState> files_;
  std::map<std::string, std::vector<DirOp>> dir_ops_;  // by directory
  uint64_t sync_calls_ = 0;
  uint64_t fail_sync_at_ = 0;  // absolute sync call number; 0 = off
  bool fail_rename_ = false;
  int64_t crash_after_ = -1;   // remaining successful sync points; -1 = off
  bool powered_off_ = false;
  uint64_t sync_points_ = 0;
  bool manual_clock_ = false;
  int64_t clock_micros_ = 0;       // the manual clock
  std::string fail_read_path_;     // empty: no injected read failure
  uint64_t fail_read_offset_ = 0;
  uint64_t reads_ = 0;
};

}  // namespace weir
