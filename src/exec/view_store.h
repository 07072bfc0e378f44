// ViewStore: the current contents of a materialized view.
//
//   AppendOnlyViewStore  an append-only view (filters, projections, EMIT ON WINDOW CLOSE
//                        aggregates): rows are appended to a TableStore.
//   ChangelogViewStore   a view over a changelog (EMIT ON UPDATE aggregates): a multiset of rows
//                        (encoded row -> multiplicity) to which `+` rows add and `-` rows
//                        subtract; a row whose multiplicity reaches 0 disappears. Deleting a row
//                        that is not present is an internal error (a changelog out of order).
// Snapshot() returns the contents as batches (a fresh TableStore for the changelog form).
// Single-threaded: written by the pipeline thread, read between runs.
#pragma once

#include <memory>
#include <vector>

#include "exec/table_store.h"
#include "state/hash_table.h"
#include "state/key_encoder.h"

namespace weir {

class ViewStore {
 public:
  virtual ~ViewStore() = default;
  virtual Status Apply(const RecordBatch& batch) = 0;
  virtual std::shared_ptr<TableStore> Snapshot() const = 0;
  virtual int64_t num_rows() const = 0;
  virtual size_t MemoryBytes() const = 0;
  /// Checkpoints: the contents (append-only: the TableStore's chunks; changelog: the multiset
  /// as a raw HashTable dump of encoded row -> multiplicity). Restore replaces the contents of
  /// a store built for the same schema. Errors: the reader's kDataError.
  virtual void SnapshotState(StateWriter* w) const = 0;
  virtual Status RestoreState(StateReader* r) = 0;
};

class AppendOnlyViewStore final : public ViewStore {
 public:
  explicit AppendOnlyViewStore(SchemaPtr schema) : store_(std::make_shared<TableStore>(std::move(schema))) {}
  Status Apply(const RecordBatch& batch) override {
    store_->Append(batch);
    return Status::OK();
  }
  std::shared_ptr<TableStore> Snapshot() const override { return store_; }
  int64_t num_rows() const override { return store_->num_rows(); }
  size_t MemoryBytes() const override { return store_->MemoryBytes(); }
  void SnapshotState(StateWriter* w) const override { store_->SnapshotState(w); }
  /// Restores into a fresh TableStore: a reader holding the old contents keeps them.
  Status RestoreState(StateReader* r) override {
    auto fresh = std::make_shared<TableStore>(store_->schema());
    WEIR_RETURN_IF_ERROR(fresh->RestoreState(r));
    store_ = std::move(fresh);
    return Status::OK();
  }

 private:
  std::shared_ptr<TableStore> store_;
};

class ChangelogViewStore final : public ViewStore {
 public:
  explicit ChangelogViewStore(SchemaPtr schema);
  Status Apply(const RecordBatch& batch) override;
  std::shared_ptr<TableStore> Snapshot() const override;
  int64_t num_rows() const override { return rows_; }
  size_t MemoryBytes() const override { return table_.MemoryBytes() + keys_.MemoryBytes(); }
  void SnapshotState(StateWriter* w) const override;
  Status RestoreState(StateReader* r) override;

 private:
  SchemaPtr schema_;
  KeyEncoder keys_;
  HashTable table_;
  std::vector<const Column*> cols_;
  std::vector<uint64_t> hashes_;
  int64_t rows_ = 0;
};

}  // namespace weir
