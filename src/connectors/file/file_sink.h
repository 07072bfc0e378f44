// File sink (connector = 'file'), and the buffered encoder-to-descriptor writer it shares with
// the stdout sink.
//
// File sink options: path (required), format ('csv' default | 'json'), and the encoder's
// options (csv: header, default 'true'; delimiter; quote). Every file access goes through the
// SinkContext's Env.
//
// Direct mode (SinkContext::two_phase_commit = false, no checkpoints): the file is created, or
// truncated, when the sink is created; the CSV header is written once, first, even when no row
// follows. Batches are encoded into a 1 MiB-threshold buffer, handed to the OS when the
// threshold is passed, on Flush() and on Close(). Durability: Flush() means "in the OS page
// cache", not fsynced (see connectors/sink.h). PreCommit/Commit/Recover are errors.
//
// Two-phase-commit mode (exactly-once, read-committed; docs/exactly-once-sinks.md): PATH only
// ever holds committed rows. Rows go to a hidden staging file beside PATH
// (`.NAME.weir-staging.SEQ`, one per checkpoint interval); PreCommit fsyncs it (and the
// directory) and records (SEQ, epoch, offset in PATH, length); Commit appends the staged bytes
// of the committed epochs to PATH, fdatasyncs PATH, then deletes the staging files; Recover
// truncates PATH to the first not-yet-deleted staging file's offset and re-publishes, and
// deletes staging files the checkpoint does not know. PATH is not touched at creation: the
// first call decides — Recover(), or anything else for a fresh start (PATH truncated to 0
// bytes, stale staging files deleted). Close() leaves pre-committed but uncommitted staging
// files for Recover and deletes the current, never pre-committed one.
//
// Errors name the path and the errno text; after a write error every later call returns it.
// Thread-safety: one driver thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "connectors/sink.h"
#include "formats/format.h"

namespace weir {

/// Encodes batches and writes them to a file descriptor through a buffer.
class EncodedFdSink final : public Sink {
 public:
  struct Config {
    std::string name;      // for errors: the path, or "stdout"
    std::string describe;  // Describe() text
    int fd = -1;
    bool owns_fd = false;                  // close the descriptor in Close()
    size_t flush_bytes = size_t{1} << 20;  // write(2) once this much is buffered (0: each Write)
  };
  /// Appends the encoder's header to the buffer at once.
  EncodedFdSink(std::unique_ptr<Encoder> encoder, Config config);
  ~EncodedFdSink() override;

  Status Write(const RecordBatch& batch) override;
  Status Flush() override;
  Status Close() override;
  SinkStats stats() const override { return stats_; }
  std::string Describe() const override { return config_.describe; }

 private:
  Status WriteBuffered();

  std::unique_ptr<Encoder> encoder_;
  Config config_;
  Buffer buffer_;
  Status error_;  // sticky write error
  bool closed_ = false;
  SinkStats stats_;
};

/// Encodes batches into a buffer and appends it to an Env file (the file sinks' writer).
/// Errors are "cannot write 'PATH': <errno text>"; the first one is sticky.
class EncodedFileWriter {
 public:
  EncodedFileWriter(std::unique_ptr<Encoder> encoder, size_t flush_bytes)
      : encoder_(std::move(encoder)), flush_bytes_(flush_bytes) {}

  void WriteHeader() { encoder_->WriteHeader(&buffer_); }
  /// Opens (creating; `truncate`: emptying) `path`, which the buffer goes to from now on. The
  /// previous file must be closed.
  Status Open(Env* env, const std::string& path, bool truncate);
  bool is_open() const { return file_ != nullptr; }
  /// Encodes `batch`; appends the buffer to the file once it holds flush_bytes.
  Status Write(const RecordBatch& batch);
  /// Appends the buffer to the file.
  Status Flush();
  /// Flush() then fdatasync.
  Status Sync();
  Status Close();
  /// Bytes in the file (appended so far), 0 before Open.
  uint64_t file_bytes() const { return file_ ? file_->Size() : 0; }
  size_t buffered_bytes() const { return buffer_.size(); }
  const std::string& path() const { return path_; }
  const SinkStats& stats() const { return stats_; }
  const Status& error() const { return error_; }

 private:
  Status Wrap(const Status& st, std::string_view what);

  std::unique_ptr<Encoder> encoder_;
  std::string path_;
  size_t flush_bytes_;
  Buffer buffer_;
  std::unique_ptr<WritableFile> file_;
  Status error_;
  SinkStats stats_;
};

/// `mkdir -p dir` through `env`; appends every directory it created to `*created` (if given).
Status CreateDirs(Env* env, const std::string& dir, std::vector<std::string>* created);

/// Creates the file sink of `options` (the partitioned sink when partition_by is given) writing
/// rows of `schema`; `changelog` adds the op column / field. Direct mode creates (truncates)
/// the path now; two-phase-commit mode touches nothing before the first call (see above).
Result<std::unique_ptr<Sink>> MakeFileSink(const Options& options, SchemaPtr schema,
                                           bool changelog, const SinkContext& context = {});

}  // namespace weir
