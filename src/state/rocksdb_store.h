// RocksStore: a keyed byte store over one RocksDB database in a working directory — the
// larger-than-memory backend of keyed operator state (`SET state_backend = 'rocksdb'`).
//
// Contract.
// - Keys and values are byte strings. Reads see every write committed with Commit(); writes
//   staged by Put / Delete are invisible (to reads and iteration) until then.
// - No write-ahead log: a crash loses the working directory's contents, by design. Durability
//   comes from Weir's checkpoints: CreateCheckpoint() writes a RocksDB checkpoint (SST files
//   hard-linked, the small MANIFEST / OPTIONS / CURRENT files copied) into a directory, and
//   OpenFromCheckpoint() makes a fresh working copy of such a directory (SST files hard-linked
//   again, the small mutable files copied), so a checkpoint costs a memtable flush plus a few
//   links, not a copy of the data. The checkpoint directory must be on the same file system as
//   the working directory (hard links).
// - Ownership: the store owns the DB handle and its working directory's contents: Open*()
//   empties `dir` first (leftovers of a crashed run are meaningless without a WAL), and the
//   destructor closes the DB and removes `dir`. Checkpoint directories belong to the caller.
// - Thread-safety: none. One owner thread (the pipeline's).
// - Errors: every RocksDB failure is returned as a Status naming the directory — kIOError for
//   I/O failures, kDataError for corruption (a missing or damaged checkpoint), kNotFound for a
//   checkpoint directory that does not exist; never an exception or abort.
//
// Tuning: a small block cache (RocksStoreOptions::block_cache_bytes) and one
// write buffer: operator state is read mostly from the operator's own in-memory cache.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rocksdb {
class DB;
class WriteBatch;
class PinnableSlice;
class Slice;
class Status;
}  // namespace rocksdb

namespace weir {

struct RocksStoreOptions {
  /// Bytes of RocksDB's LRU block cache (uncompressed data blocks).
  size_t block_cache_bytes = size_t{32} << 20;
  /// Bytes of one memtable before it is flushed to an SST file.
  size_t write_buffer_bytes = size_t{32} << 20;
};

class RocksStore {
 public:
  /// Opens an empty store in `dir`: removes whatever `dir` holds, creates it (and its parents)
  /// and a new database in it. Errors: kIOError naming `dir`.
  static Result<std::unique_ptr<RocksStore>> Open(const std::string& dir, const RocksStoreOptions& options = {});
  /// Opens a working copy of the checkpoint in `checkpoint_dir` (made by CreateCheckpoint) in
  /// `dir`: empties `dir`, hard-links every *.sst file of the checkpoint into it, copies the
  /// other files (CURRENT, MANIFEST-*, OPTIONS-*, an empty log), then opens it. The checkpoint
  /// is not modified and stays valid. Errors: kNotFound if `checkpoint_dir` does not exist;
  /// kDataError naming the directory if it is not an intact RocksDB checkpoint; kIOError.
  static Result<std::unique_ptr<RocksStore>> OpenFromCheckpoint(const std::string& checkpoint_dir,
                                                                const std::string& dir,
                                                                const RocksStoreOptions& options = {});
  /// Closes the database and removes the working directory (errors ignored).
  ~RocksStore();
  RocksStore(const RocksStore&) = delete;
  RocksStore& operator=(const RocksStore&) = delete;

  /// Batched point lookup of the committed state: for every i in [0, n) with keys[i] present,
  /// calls found(i, value); `value` is valid only during that call. One RocksDB MultiGet; the
  /// result buffers are reused across calls (no allocation per key in steady state beyond what
  /// RocksDB does). Errors: the first lookup error (kIOError / kDataError).
  Status MultiGet(const std::string_view* keys, size_t n,
                  const std::function<void(size_t i, std::string_view value)>& found);
  /// Single lookup of the committed state: *present tells whether `key` exists; if it does,
  /// *value is its value. Errors: kIOError / kDataError.
  Status Get(std::string_view key, std::string* value, bool* present);

  /// Stage a write / deletion in the pending batch (no I/O). Later stages of the same key win.
  void Put(std::string_view key, std::string_view value);
  void Delete(std::string_view key);
  /// Staged operations not yet committed.
  size_t pending() const;
  /// Applies the pending batch atomically (WAL disabled) and empties it. No-op when empty.
  Status Commit();

  /// Calls f(key, value) for every committed key starting with `prefix` ("" = all), in key
  /// order; stops at f's first error and returns it. The views are valid only during the call.
  /// `f` must not write to the store.
  Status ForEach(std::string_view prefix,
                 const std::function<Status(std::string_view key, std::string_view value)>& f) const;

  /// Flushes the memtable and writes a RocksDB checkpoint of the committed state into
  /// `checkpoint_dir`, which must not exist (its parents are created). Pending (uncommitted) writes are
  /// not included. SST files are hard links, so the cost is the flush plus the small files.
  /// Errors: kAlreadyExists if `checkpoint_dir` exists; kIOError naming it.
  Status CreateCheckpoint(const std::string& checkpoint_dir);

  /// Whether the committed state holds no key (one iterator seek).
  bool Empty() const;
  /// RocksDB's estimate of the number of keys (for statistics; may be off).
  uint64_t EstimateKeys() const;
  /// Bytes of SST files on disk (RocksDB property "rocksdb.total-sst-files-size").
  uint64_t DiskBytes() const;
  const std::string& dir() const { return dir_; }

 private:
  RocksStore();
  static Result<std::unique_ptr<RocksStore>> OpenDir(const std::string& dir, const RocksStoreOptions& options,
                                                     bool create);

  std::string dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<rocksdb::WriteBatch> batch_;
  // MultiGet scratch, grown to the largest batch seen.
  std::vector<rocksdb::Slice> mg_keys_;
  std::vector<rocksdb::PinnableSlice> mg_values_;
  std::vector<rocksdb::Status> mg_status_;
};

/// Removes `path` and everything below it; absent is fine. Errors: kIOError naming the path.
Status RemoveTree(const std::string& path);

/// Maps a RocksDB status to Weir's: corruption → kDataError, not found → kNotFound, invalid
/// argument → kInvalidArgument, everything else → kIOError; the message is "<context>: <rocksdb
/// message>". OK → OK.
Status RocksStatus(const rocksdb::Status& s, std::string_view context);

}  // namespace weir
