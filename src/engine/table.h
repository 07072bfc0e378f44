// Table: a CREATE TABLE relation in the catalog — its rows (state/table_storage.h) and the
// pipelines that read it as a changelog source.
//
// Change propagation. A table has no reader thread and no change log that lingers: each
// INSERT / UPDATE / DELETE first changes the storage (atomically: constraint errors leave the
// table unchanged), then pushes exactly the changed rows to the scans of every started
// pipeline reading the table (`subscribers`), in batches of at most `batch_rows` rows:
// inserts as `+` rows, deletes as `-` rows, an update of a row as `-` old immediately followed
// by `+` new. So when the statement returns, every view over the table is caught up; the
// driver has nothing left to drain. A pipeline that starts later first receives the current
// contents (Backfill), then the changes. A table never finishes and has no watermark: it
// sends neither Finish() nor watermarks into pipelines (joins ignore its side when combining
// watermarks; see HashJoinOptions).
//
// Errors from a downstream operator while changes are pushed (an overflowing sum in a view,
// say) are returned to the statement; the table keeps the change (as a source keeps the rows
// it has read).
// Ownership: owned by the catalog (Database::Impl); subscribers are raw pointers to scan entry
// operators owned by their pipelines, removed when a pipeline is dropped.
// Thread-safety: none; the database's statement thread only.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "exec/terminal.h"
#include "sql/dml.h"
#include "state/table_storage.h"

namespace weir {

class Table {
 public:
  /// `schema`: columns (PK columns non-nullable); `key_columns`: primary key (empty: multiset).
  Table(std::string name, SchemaPtr schema, std::vector<int> key_columns);

  const std::string& name() const { return name_; }
  const SchemaPtr& schema() const { return storage_.schema(); }
  const std::vector<int>& key_columns() const { return storage_.key_columns(); }
  const TableStorage& storage() const { return storage_; }
  FanOutOperator& subscribers() { return subscribers_; }

  /// Inserts `rows` (table layout, any count); returns the rows inserted. With
  /// `skip_conflicts` rows whose key is taken are skipped (ON CONFLICT DO NOTHING).
  /// Errors (kDataError, nothing applied): NOT NULL or primary-key violations.
  Result<int64_t> Insert(const RecordBatch& rows, bool skip_conflicts, int64_t batch_rows);
  /// UPDATE: returns the rows updated. Errors: evaluation errors (nothing applied), constraint
  /// violations (nothing applied).
  Result<int64_t> Update(const BoundUpdate& u, int64_t batch_rows);
  /// DELETE: returns the rows deleted. Errors: evaluation errors of WHERE (nothing applied).
  Result<int64_t> Delete(const BoundDelete& d, int64_t batch_rows);

  /// Pushes the current contents into `in` (a new subscriber), as inserts.
  Status Backfill(Operator* in) const;

  /// Checkpoints: the table's rows and key index (TableStorage::SnapshotState). Restore
  /// replaces them without pushing anything to subscribers: the pipelines reading the table
  /// restore their own state from the same checkpoint. Errors: kDataError (table then empty).
  void SnapshotState(StateWriter* w) const { storage_.SnapshotState(w); }
  Status RestoreState(StateReader* r) { return storage_.RestoreState(r); }

 private:
  /// Finds the live rows matching `where` (null: all): ids and their rows gathered into
  /// old_rows_; with `sets`, also computes the new rows into new_rows_.
  Status Select(const ExprPtr& where, const std::vector<std::pair<int, ExprPtr>>* sets, std::vector<int64_t>* ids);
  /// Pushes rows [0, n) of `old_rows` as deletes and/or of `new_rows` as inserts (an update
  /// when both: interleaved - old, + new).
  Status Emit(const RecordBatch* old_rows, const RecordBatch* new_rows, int64_t batch_rows);

  std::string name_;
  TableStorage storage_;
  FanOutOperator subscribers_;
  RecordBatch old_rows_;
  RecordBatch new_rows_;
  RecordBatch out_;
};

}  // namespace weir
