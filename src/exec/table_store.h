// TableStore: an in-memory, append-only columnar table (the contents of an append-only
// materialized view, or a query result). Rows are copied into chunks of up to
// kChunkRowsMax rows, so storage grows in large steps, not per batch.
// Not thread-safe: written by the pipeline thread; snapshot reads happen between runs.
#pragma once

#include <memory>
#include <vector>

#include "batch/record_batch.h"
#include "state/snapshot.h"

namespace weir {

class TableStore {
 public:
  static constexpr int64_t kChunkRowsMax = 65536;

  explicit TableStore(SchemaPtr schema) : schema_(std::move(schema)) {}

  const SchemaPtr& schema() const { return schema_; }
  /// Copies the rows of `batch` (which must match the schema; ops are ignored).
  void Append(const RecordBatch& batch);
  /// Chunks in insertion order; each is a complete RecordBatch.
  const std::vector<std::shared_ptr<RecordBatch>>& chunks() const { return chunks_; }
  int64_t num_rows() const { return rows_; }
  size_t MemoryBytes() const;
  void Clear() {
    chunks_.clear();
    rows_ = 0;
  }
  /// Checkpoints: a "table_store" section with every chunk as raw column spans
  /// (state/column_snapshot.h); a full chunk that did not change produces identical bytes.
  void SnapshotState(StateWriter* w) const;
  /// Replaces the contents; chunk boundaries are reproduced. Errors: the reader's kDataError
  /// (then the store is empty).
  Status RestoreState(StateReader* r);

 private:
  SchemaPtr schema_;
  std::vector<std::shared_ptr<RecordBatch>> chunks_;
  int64_t rows_ = 0;
};

}  // namespace weir
