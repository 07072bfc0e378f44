// File sink (connector = 'file'), and the buffered encoder-to-descriptor writer it shares with
// the stdout sink.
//
// File sink options: path (required), format ('csv' default | 'json'), and the encoder's
// options (csv: header, default 'true'; delimiter; quote). The file is created, or truncated,
// when the sink is created; the CSV header is written once, first, even when no row follows.
//
// Writing: batches are encoded into a 1 MiB-threshold buffer, handed to the OS with write(2)
// (partial writes and EINTR retried) when the threshold is passed, on Flush() and on Close().
// Durability: Flush() means "in the OS page cache", not fsynced (see connectors/sink.h).
// Errors name the path and the errno text; after a write error every later call returns it.
// Thread-safety: one driver thread.
#pragma once

#include <memory>
#include <string>

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

/// Creates (truncates) `options`' path and returns a sink writing rows of `schema`;
/// `changelog` adds the op column / field.
Result<std::unique_ptr<Sink>> MakeFileSink(const Options& options, SchemaPtr schema,
                                           bool changelog);

}  // namespace weir
