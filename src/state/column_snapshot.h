// Checkpoint helpers for columnar data: a Column and a RecordBatch written with
// StateWriter as raw spans of their Arrow buffers (values, VARCHAR offsets + chars, validity),
// never value by value, and read back with every length checked against the bytes present.
//
// Format (inside the caller's section):
//   column   u8 type id, u8 flags (1 = validity, 2 = constant), u64 length,
//            fixed width: raw values (physical rows × byte width);
//            VARCHAR: raw offsets ((rows + 1) × 4, starting at 0, non-decreasing) and chars;
//            then the validity bitmap (ceil(rows / 8) bytes) when flagged.
//            A constant column stores its one physical row; `length` is its logical length.
//   batch    u64 rows, u8 has ops, [raw ops], u64 columns, each a column of `rows` rows.
// Errors: kDataError from the reader (truncation, a type other than the expected one,
// offsets out of order or beyond the chars). Thread-safety: none; the objects belong to the
// caller's thread.
#pragma once

#include "batch/record_batch.h"
#include "state/snapshot.h"

namespace weir {

void SnapshotColumn(const Column& c, StateWriter* w);
/// Replaces `c`'s contents (its type is the expected type) with a snapshotted column.
Status RestoreColumn(StateReader* r, Column* c);

/// Rows, ops and columns of `b` (the schema is the caller's).
void SnapshotBatch(const RecordBatch& b, StateWriter* w);
/// Fills `b` (whose schema gives the expected columns) with fresh columns.
Status RestoreBatch(StateReader* r, RecordBatch* b);

}  // namespace weir
