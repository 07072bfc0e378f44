// Write-ahead log: segmented, checksummed, group-committed. Format: docs/wal-format.md.
//
// WalWriter appends records of (type, payload) and gives each the next LSN (log sequence number:
// consecutive integers, strictly increasing across segments and restarts). Commit() makes every
// record appended so far durable with one fdatasync (group commit) and writes a commit marker, so
// recovery returns whole commit groups or nothing of them.
//
// Durability guarantees (what a returned Status means for the disk):
//   - Append OK: the record is in memory (or handed to the OS); a crash may lose it. Never
//     acknowledge a client on Append.
//   - Commit OK: every record appended before it — and the segment files holding them — is on
//     stable storage (fdatasync of the segment, fsync of the directory after a segment roll).
//     Recovery will return them.
//   - Any I/O error (write, fdatasync, directory fsync, file creation) is fatal: the writer keeps
//     that error and returns it from every later Append/Commit. Retrying an fdatasync after a
//     failure can report success for data the kernel already dropped, so we never retry; the
//     process must restart and recover from the log (which returns only committed groups, plus
//     possibly later groups whose data happened to reach the disk).
// Recovery (WalReader::Open) returns exactly the records of every commit group whose marker is
// on disk, in LSN order, and repairs the tail: an incomplete or checksum-failing record at the end
// of the log (nothing valid after it) is a torn write and is truncated away, as are valid records
// after the last commit marker (an unfinished group). Corruption followed by any valid record is
// not a torn write; it is a DataError naming "file:offset", and nothing is repaired.
//
// Ownership: a WalWriter owns its directory exclusively (one writer per directory, no
// inter-process lock yet) and its open segment; it does not own the Env. Thread-safety: none —
// one thread (the engine's log thread) owns a WalWriter; WalReader likewise.
// Limits: payload <= segment_size_bytes - 66 bytes (and < 4 GiB); records never span segments;
// recovery holds one segment in memory at a time; record types 1..254 (0 and 255 are reserved).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/env.h"
#include "common/status.h"

namespace weir {

struct WalOptions {
  /// Segment files are capped at this size; a record that does not fit starts a new segment.
  uint64_t segment_size_bytes = 64ull << 20;
  /// Appended records are collected in memory and written to the OS in pieces of this size (and
  /// at Commit).
  size_t write_buffer_bytes = 1u << 20;
};

/// Record types 1..kWalTypeMax are the caller's; 0 is invalid and 255 marks a commit.
inline constexpr uint8_t kWalTypeMax = 254;
inline constexpr size_t kWalSegmentHeaderBytes = 32;
inline constexpr size_t kWalRecordHeaderBytes = 17;  // length u32, crc u32, lsn u64, type u8
inline constexpr uint64_t kWalSegmentSizeMin = 256;

/// "wal-<first LSN, 20 digits>.log".
std::string WalSegmentName(uint64_t first_lsn);
/// Parses a segment file name; false if `name` is not one.
bool ParseWalSegmentName(std::string_view name, uint64_t* first_lsn);
/// The largest payload a record can carry with `segment_size_bytes` segments.
uint64_t WalPayloadMaxBytes(uint64_t segment_size_bytes);

class WalWriter {
 public:
  /// Starts a writer whose first record gets `next_lsn` (>= 1). The directory is created if
  /// missing. An existing log must have been recovered first (WalReader::Open), and `next_lsn`
  /// must exceed its last LSN: InvalidArgument if a segment at or beyond `next_lsn` exists.
  /// The first segment file is created by the first Append.
  static Result<std::unique_ptr<WalWriter>> Open(Env* env, std::string dir, uint64_t next_lsn,
                                                 WalOptions options = {});
  /// Abandons buffered, uncommitted records (as a crash would). Call Close() to keep them.
  ~WalWriter();
  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  /// Buffers a record and returns its LSN. InvalidArgument (not fatal) for a bad type or an
  /// oversized payload; a fatal I/O error from a segment roll or buffer write otherwise.
  Result<uint64_t> Append(uint8_t type, std::string_view payload);
  /// Group commit: one fdatasync makes every record appended so far durable (see the contract
  /// above). A no-op when nothing was appended since the last Commit.
  Status Commit();
  /// Commit, then close the segment. The writer accepts nothing afterwards.
  Status Close();
  /// Deletes every segment whose records all have LSN < `lsn` (they are covered by a
  /// checkpoint), oldest first, then syncs the directory. Never deletes the newest segment.
  /// Requires `lsn` <= committed_lsn() + 1.
  Status RemoveSegmentsBefore(uint64_t lsn);

  /// LSN of the last appended record (next_lsn - 1 before any Append).
  uint64_t last_lsn() const { return next_lsn_ - 1; }
  /// LSN of the last record made durable by Commit (0 if none in this writer's life).
  uint64_t committed_lsn() const { return committed_lsn_; }
  /// OK, or the fatal error every call now returns.
  const Status& fatal_status() const { return fatal_; }
  const std::string& dir() const { return dir_; }

 private:
  WalWriter(Env* env, std::string dir, uint64_t next_lsn, WalOptions options);
  Status Roll();
  Status WriteBuffer();
  Status Fail(Status s);

  Env* env_;
  std::string dir_;
  WalOptions options_;
  std::unique_ptr<WritableFile> file_;  // current segment; null before the first Append
  std::string file_path_;
  uint64_t segment_bytes_ = 0;          // bytes in the current segment, buffered ones included
  std::string buffer_;                  // encoded records not yet handed to the OS
  uint64_t next_lsn_;
  uint64_t committed_lsn_ = 0;
  uint64_t uncommitted_records_ = 0;    // appended since the last commit marker
  bool dir_sync_pending_ = false;       // a segment was created since the last directory fsync
  bool closed_ = false;
  Status fatal_;
};

/// Deletes every segment in `dir` whose records all have LSN < `lsn` (see
/// WalWriter::RemoveSegmentsBefore); usable without a writer.
Status RemoveWalSegmentsBefore(Env* env, const std::string& dir, uint64_t lsn);

/// One record; `payload` points into the reader's buffer and is valid until the next Next().
struct WalRecord {
  uint64_t lsn = 0;
  uint8_t type = 0;
  std::string_view payload;
};

/// What WalReader::Open found and repaired.
struct WalRecoveryReport {
  size_t segments = 0;              // segment files holding committed records
  uint64_t records = 0;             // committed records
  uint64_t first_lsn = 0;           // of the first committed record; 0 when there is none
  uint64_t last_lsn = 0;            // of the last committed record; 0 when there is none
  bool tail_truncated = false;      // the log ended in a torn write or an unfinished group
  std::string tail_reason;          // "checksum mismatch", "incomplete record", ...
  std::string tail_file;            // segment name and offset where the torn tail began
  uint64_t tail_offset = 0;
  uint64_t tail_bytes_dropped = 0;  // bytes removed (or, without repair, to be removed)
  uint64_t uncommitted_records_dropped = 0;  // valid records after the last commit marker
  std::vector<std::string> segments_deleted;  // segment names with nothing committed in them

  std::string ToString() const;
};

class WalReader {
 public:
  struct Options {
    /// Truncate/delete the torn tail on disk (needed before a WalWriter continues the log).
    /// When false, Open only reports it and leaves the files untouched.
    bool repair = true;
  };

  /// Validates the whole log in `dir` (a missing or empty directory is an empty log), repairs a
  /// torn tail, and positions the reader at the first committed record. DataError "file:offset:
  /// what" for corruption that is not a torn tail (valid records after it, LSN gaps, a damaged
  /// segment header before the end); IOError for I/O failures.
  static Result<std::unique_ptr<WalReader>> Open(Env* env, std::string dir, Options options);
  static Result<std::unique_ptr<WalReader>> Open(Env* env, std::string dir) {
    return Open(env, std::move(dir), Options{});
  }

  const WalRecoveryReport& report() const { return report_; }

  /// The next committed record in LSN order: true and `*out` filled, or false at the end.
  Result<bool> Next(WalRecord* out);

  struct Segment {
    std::string name;
    uint64_t first_lsn = 0;
    uint64_t end_offset = 0;  // records end here (after the last commit marker it holds)
  };

 private:
  WalReader(Env* env, std::string dir) : env_(env), dir_(std::move(dir)) {}

  Env* env_;
  std::string dir_;
  WalRecoveryReport report_;
  std::vector<Segment> segments_;  // committed segments, in LSN order
  size_t seg_index_ = 0;
  std::string data_;               // the current segment's bytes
  uint64_t pos_ = 0;
  bool loaded_ = false;
};

}  // namespace weir
