// AsofJoinOperator: `l ASOF [LEFT] JOIN r ON l.k = r.k AND l.t >= r.t` — each left row joined
// with the right row of the same key whose time is the latest at or before its own (`>`: strictly
// before), as in DuckDB's and kdb+'s ASOF joins; ASOF LEFT JOIN pads a left row without such a
// row with NULLs, the inner form drops it.
//
// Contract.
// - Inputs: two ports (left_input(), right_input()), both append-only (a delete is
//   kInvalidArgument). Output: left columns then right columns, append-only; each left row
//   yields at most one output row.
// - Event time: a left row at t is answered once no right row at or before t can still arrive:
//   when the right watermark W_R satisfies W_R + right_time_offset_us > t (`>=`; `>`: ≥ t) — the
//   right time column's bound, see TimeBound — or the right input has finished. Without a bound
//   on the right time column (right_time_bounded = false) the right input is taken as it is
//   when the left row arrives (processing time). Pending left rows are kept in arrival order and
//   emitted in arrival order once ready; NULL key or time on the left: no match.
// - State: per key (src/state HashTable → series index), the right rows sorted by time (rows
//   encoded by KeyEncoder in a RowArena). A series drops its rows older than the latest one at or
//   before the earliest time a pending or future left row can have (min(pending left times,
//   W_L + left_time_offset_us) when left_time_bounded), so a key keeps O(rows since then) + 1.
//   Equal right times: the row that arrived last wins.
// - Watermarks: output watermark = min(left, right, earliest pending left time); Finish() once
//   both inputs have finished (pending rows are emitted first).
// - Not thread-safe; one pipeline thread. Hot path: keys encoded and hashed column-wise; a right
//   row costs a hash lookup and an append (binary insertion when out of order); a left row a
//   binary search. Series vectors and pending buffers keep their capacity (no allocation per
//   event in steady state, except a new key's series).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "exec/join/hash_join.h"
#include "exec/join/side_input.h"
#include "exec/operator.h"
#include "state/hash_table.h"
#include "state/key_encoder.h"

namespace weir {

struct AsofJoinOptions {
  bool left_outer = false;  // ASOF LEFT JOIN
  SchemaPtr left_schema;
  SchemaPtr right_schema;
  /// Equality keys (may be empty: one series), identical types on both sides.
  std::vector<int> left_keys;
  std::vector<int> right_keys;
  /// The ordered columns: TIMESTAMP, BIGINT or INT, the same type on both sides.
  int left_time = -1;
  int right_time = -1;
  bool strict = false;  // l.t > r.t instead of >=
  bool right_time_bounded = false;
  int64_t right_time_offset_us = 0;
  bool left_time_bounded = false;
  int64_t left_time_offset_us = 0;
};

class AsofJoinOperator final : public Operator {
 public:
  static constexpr int64_t kOutputBatchRows = 4096;

  /// Errors (kInvalidArgument): missing schemas, key count / type mismatch, time columns out of
  /// range or of different or unsupported types.
  static Result<std::unique_ptr<AsofJoinOperator>> Make(AsofJoinOptions options);
  ~AsofJoinOperator() override;

  Operator* left_input() { return ports_[0].get(); }
  Operator* right_input() { return ports_[1].get(); }
  Status Push(const RecordBatch& batch) override;  // kInternal: push into the ports
  Status Finish() override;
  std::string Describe() const override;

  const SchemaPtr& output_schema() const { return out_schema_; }
  size_t state_bytes() const;
  int64_t pending_rows() const { return static_cast<int64_t>(pending_.size()); }
  int64_t right_rows() const { return static_cast<int64_t>(arena_.live_records()); }

  /// Checkpoints (docs/operator-state.md): the series index (raw HashTable dump), the right
  /// rows' arena (raw chunks), each series' times and record refs, the pending left rows and
  /// their bytes, the ports' watermarks and finished flags.
  Status SnapshotState(StateWriter* w) const override;
  Status RestoreState(StateReader* r) override;

 private:
  friend class JoinSideInput<AsofJoinOperator>;
  struct Series {
    std::vector<int64_t> times;  // sorted ascending, from `head`
    std::vector<uint64_t> refs;  // RowArena records, parallel to times
    size_t head = 0;
  };
  struct Pending {
    int64_t t;
    uint64_t hash;
    uint32_t key_off, key_len, row_off, row_len;
    bool no_match;  // NULL key or time
  };

  explicit AsofJoinOperator(AsofJoinOptions o);
  Status PushSide(int side, const RecordBatch& batch);
  Status SideWatermark();
  Status SideFinish(int side);
  /// Emits the pending left rows that are ready (all when `all`), in arrival order.
  Status EmitReady(bool all);
  void Trim(Series* s, int64_t before);
  int64_t LeftTimeFloor() const;  // earliest time a future left row can have
  Status Flush();

  AsofJoinOptions opt_;
  SchemaPtr out_schema_;
  std::unique_ptr<Operator> ports_[2];
  bool finished_[2] = {false, false};
  bool output_finished_ = false;

  KeyEncoder left_key_enc_, right_key_enc_;
  KeyEncoder left_row_enc_, right_row_enc_;
  HashTable series_index_;  // key -> u64 series index + 1
  std::vector<Series> series_;
  RowArena arena_;
  std::vector<uint8_t> right_null_row_;

  std::vector<Pending> pending_;
  std::vector<uint8_t> pending_bytes_;
  std::vector<Pending> still_pending_;
  std::vector<uint8_t> still_pending_bytes_;

  // Scratch.
  std::vector<uint64_t> hashes_;
  std::vector<const Column*> key_cols_, row_cols_;
  std::vector<int64_t> times_;
  std::vector<uint8_t> time_null_;

  // Output: pairs of encoded rows, decoded column-wise.
  std::vector<const uint8_t*> out_left_, out_right_;
  std::vector<uint32_t> out_left_len_, out_right_len_;
  std::vector<Column*> decode_cols_;
  RecordBatch out_;
};

}  // namespace weir
