// TableStorage: the rows of a table (CREATE TABLE), columnar and dense, with an optional
// primary-key index.
//
// Layout.
//   rows     chunks of up to kChunkRows rows, each a RecordBatch in the table's layout plus one
//            `live` byte per row (1 = present). A row is addressed by its RowId =
//            chunk × kChunkRows + offset; new rows are appended to the last chunk.
//   deletes  mark the row dead (live = 0) and erase its key. When more than half of the rows
//            (and at least kChunkRows) are dead, the chunks are rewritten with the live rows
//            only and the index rebuilt (amortized O(1) per delete), so storage stays dense.
//            RowIds are therefore valid only until the next Delete/Update.
//   updates  are a delete of the old row plus an append of the new one (VARCHAR columns
//            cannot be overwritten in place in the Arrow layout).
//   index    primary key → RowId in a HashTable (state/hash_table.h), keys encoded by
//            KeyEncoder, 8-byte payload. A table without a primary key is a multiset and has
//            no index.
//
// Constraints and atomicity: Insert and Update check NOT NULL columns and key uniqueness
// (within the statement's rows and against the stored rows) before changing anything, so a
// failed call leaves the table as it was. Errors are kDataError, PostgreSQL-worded:
//   null value in column "b" of relation "t" violates not-null constraint
//   duplicate key value violates primary key of table "t": Key (a)=(1) already exists
//
// Ownership: owns its chunks. Chunks handed out by ForEachLiveBatch are shared (no copy); a
// consumer must not keep them beyond the call (the table appends to the last one later).
// Thread-safety: none; one owner thread (the database's statement thread).
// Durability: memory only (a WAL for tables is a later issue).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "batch/record_batch.h"
#include "common/status.h"
#include "state/hash_table.h"
#include "state/key_encoder.h"

namespace weir {

class TableStorage {
 public:
  static constexpr int64_t kChunkRows = 4096;
  using RowId = int64_t;

  /// `schema` gives the columns (a non-nullable field is NOT NULL); `key_columns` the primary
  /// key (schema indices; empty: a multiset). `table_name` is used in error messages.
  TableStorage(std::string table_name, SchemaPtr schema, std::vector<int> key_columns);

  const SchemaPtr& schema() const { return schema_; }
  const std::vector<int>& key_columns() const { return key_columns_; }
  bool keyed() const { return !key_columns_.empty(); }
  /// Live rows.
  int64_t num_rows() const { return live_rows_; }
  /// Bytes held: chunk columns, live flags, index.
  size_t MemoryBytes() const;

  /// Inserts the rows of `rows` (the table's layout, any batch size). Atomic. Errors: a NULL in
  /// a NOT NULL column; with `skip_conflicts` false, a key that exists or repeats within
  /// `rows`. With `skip_conflicts` true such rows are left out (the first of repeats wins).
  /// `inserted` (if non-null) receives the indices of the rows inserted, in order.
  Status Insert(const RecordBatch& rows, bool skip_conflicts, std::vector<uint32_t>* inserted);

  /// Deletes rows `ids` (distinct, live); `old_rows` must hold those rows, in the same order
  /// (their keys are erased from the index). May compact.
  void Delete(const std::vector<RowId>& ids, const RecordBatch& old_rows);

  /// Replaces rows `ids` (distinct, live; `old_rows` holding them, as for Delete) by `new_rows` (same
  /// count, table layout). Atomic. Errors: NULL in a NOT NULL column; a new key that repeats
  /// within `new_rows` or equals the key of a row not being updated. May compact.
  Status Update(const std::vector<RowId>& ids, const RecordBatch& old_rows, const RecordBatch& new_rows);

  /// Calls f(const RecordBatch& chunk, RowId first_row, const uint8_t* live) for every chunk,
  /// live holding chunk.num_rows() flags. For scans that evaluate predicates (UPDATE/DELETE).
  template <typename F>
  Status ForEachChunk(F&& f) const {
    for (size_t c = 0; c < chunks_.size(); ++c)
      WEIR_RETURN_IF_ERROR(f(*chunks_[c].batch, static_cast<RowId>(c) * kChunkRows, chunks_[c].live.data()));
    return Status::OK();
  }

  /// Calls f(const RecordBatch&) with the live rows, chunk by chunk: a chunk without dead rows
  /// is passed as is (no copy), others are gathered into a scratch batch first.
  template <typename F>
  Status ForEachLiveBatch(F&& f) const {
    for (const Chunk& ch : chunks_) {
      if (ch.batch->num_rows() == 0) continue;
      if (ch.dead == 0) {
        WEIR_RETURN_IF_ERROR(f(*ch.batch));
        continue;
      }
      if (ch.dead == ch.batch->num_rows()) continue;
      GatherLive(ch, &scratch_);
      WEIR_RETURN_IF_ERROR(f(scratch_));
    }
    return Status::OK();
  }

  /// Removes every row (keeps nothing; used by tests and DROP).
  void Clear();

  /// Checkpoints (docs/operator-state.md): a "table_storage" section with every chunk's
  /// columns as raw spans (state/column_snapshot.h), its live flags and dead count, and the
  /// primary-key index as a raw HashTable dump (payload: RowId). Unchanged full chunks produce
  /// identical bytes.
  void SnapshotState(StateWriter* w) const;
  /// Replaces the contents with a snapshot of a table of the same schema and key. Validates
  /// chunk sizes, live flags against the counts and every index entry (a live RowId, as many
  /// entries as live rows). Errors: the reader's kDataError; the table is then empty.
  Status RestoreState(StateReader* r);

 private:
  struct Chunk {
    std::shared_ptr<RecordBatch> batch;
    std::vector<uint8_t> live;
    int64_t dead = 0;
  };

  Status CheckNotNull(const RecordBatch& rows) const;
  /// Encodes the key columns of `rows` into keys_ and hashes_.
  void EncodeKeys(const RecordBatch& rows);
  std::string KeyText(const RecordBatch& rows, int64_t i) const;
  /// Appends rows (all, or sel[0..n)) and indexes them; keys_/hashes_ hold their keys.
  void AppendRows(const RecordBatch& rows, const uint32_t* sel, int64_t n);
  void MarkDead(const std::vector<RowId>& ids, const RecordBatch& old_rows);
  void MaybeCompact();
  void GatherLive(const Chunk& ch, RecordBatch* out) const;
  Chunk& TailChunk();

  std::string name_;
  SchemaPtr schema_;
  std::vector<int> key_columns_;
  std::vector<Chunk> chunks_;
  int64_t live_rows_ = 0;
  int64_t dead_rows_ = 0;
  // Primary-key index (keyed tables only).
  KeyEncoder keys_;
  HashTable index_;
  // Scratch (reused across calls).
  std::vector<const Column*> key_cols_;
  std::vector<uint64_t> hashes_;
  mutable RecordBatch scratch_;
  mutable std::vector<uint32_t> sel_;
};

}  // namespace weir
