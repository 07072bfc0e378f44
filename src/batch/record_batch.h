// Schema and RecordBatch: the unit of data that flows between operators.
//
// A RecordBatch is `num_rows` rows over a Schema, stored column by column (ColumnPtr, shared).
// Batches hold 1..kBatchRowsMax rows (sources aim for kBatchRowsDefault). A changelog batch also
// carries `ops`: one Op per row (insert or delete); an append-only batch has no ops (all
// inserts). Watermarks and barriers travel beside batches (see exec/operator.h), not inside.
//
// Ownership: the producer owns the batch; a consumer's Push() may read it only during the call
// and must copy (or take a ColumnPtr reference to) anything it keeps. Not thread-safe.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "batch/column.h"

namespace weir {

inline constexpr int64_t kBatchRowsDefault = 4096;
inline constexpr int64_t kBatchRowsMax = 65536;

struct Field {
  std::string name;
  DataType type;
  bool nullable = true;
};

class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<Field> fields) : fields_(std::move(fields)) {}
  const std::vector<Field>& fields() const { return fields_; }
  const Field& field(size_t i) const { return fields_[i]; }
  size_t num_fields() const { return fields_.size(); }
  /// Index of the field named `name` (case-insensitive), or -1.
  int FindField(std::string_view name) const;
  /// "name TYPE, name TYPE, ..."
  std::string ToString() const;

 private:
  std::vector<Field> fields_;
};
using SchemaPtr = std::shared_ptr<const Schema>;

/// Row operation of a changelog batch.
enum class Op : int8_t { kInsert = 1, kDelete = -1 };

class RecordBatch {
 public:
  RecordBatch() = default;
  explicit RecordBatch(SchemaPtr schema) : schema_(std::move(schema)) {}

  const SchemaPtr& schema() const { return schema_; }
  void set_schema(SchemaPtr s) { schema_ = std::move(s); }
  int64_t num_rows() const { return num_rows_; }
  void set_num_rows(int64_t n) { num_rows_ = n; }
  size_t num_columns() const { return columns_.size(); }

  const ColumnPtr& column(size_t i) const { return columns_[i]; }
  std::vector<ColumnPtr>& columns() { return columns_; }
  const std::vector<ColumnPtr>& columns() const { return columns_; }
  void SetColumn(size_t i, ColumnPtr c) { columns_[i] = std::move(c); }

  /// Per-row ops, or nullptr for an append-only (all-insert) batch.
  const Op* ops() const { return has_ops_ ? ops_.data() : nullptr; }
  bool has_ops() const { return has_ops_; }
  /// Makes the batch a changelog batch with room for num_rows() ops, returning them.
  Op* EnableOps() {
    has_ops_ = true;
    if (ops_.size() < static_cast<size_t>(num_rows_)) ops_.resize(static_cast<size_t>(num_rows_));
    return ops_.data();
  }
  void DisableOps() { has_ops_ = false; }
  /// Gives this batch (whose num_rows() is already set) the ops of `in`, row for row, or none.
  void CopyOpsFrom(const RecordBatch& in) {
    if (!in.has_ops()) {
      DisableOps();
      return;
    }
    Op* ops = EnableOps();
    std::copy(in.ops(), in.ops() + num_rows_, ops);
  }
  /// Gives this batch the ops of `in`'s rows sel[0..num_rows()), or none.
  void GatherOpsFrom(const RecordBatch& in, const uint32_t* sel) {
    if (!in.has_ops()) {
      DisableOps();
      return;
    }
    Op* ops = EnableOps();
    for (int64_t i = 0; i < num_rows_; ++i) ops[i] = in.ops()[sel[i]];
  }

  /// Debug rendering, one row a line, values separated by ", ".
  std::string ToString() const;

 private:
  SchemaPtr schema_;
  std::vector<ColumnPtr> columns_;
  int64_t num_rows_ = 0;
  bool has_ops_ = false;
  std::vector<Op> ops_;
};

/// Returns a column of `type` that `slot` can be refilled in place: reuses the existing column
/// when nobody else holds a reference to it (steady state: no allocation), otherwise creates a
/// new one. The column is reset to empty.
Column* ReuseColumn(ColumnPtr* slot, DataType type);

}  // namespace weir
