// Sink: where results leave Weir (file, stdout, ...).
//
// Lifecycle: created from CREATE SINK options by the connector registry, written by one driver
// thread, then Close()d. Write() receives batches in order; a changelog sink receives batches
// with ops() set. Durability: Flush() hands buffered bytes to the OS (no fsync yet; exactly-once
// commit protocols come with checkpoints).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "batch/record_batch.h"
#include "common/status.h"
#include "connectors/options.h"

namespace weir {

struct SinkStats {
  int64_t rows_written = 0;
  int64_t bytes_written = 0;
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual Status Write(const RecordBatch& batch) = 0;
  virtual Status Flush() = 0;
  /// Flushes and releases the destination. Idempotent.
  virtual Status Close() = 0;
  virtual SinkStats stats() const = 0;
  virtual std::string Describe() const = 0;
};

}  // namespace weir
