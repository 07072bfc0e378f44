// HashJoinOperator: streaming equi-join (inner, left, right, full outer, left semi, left anti)
// over two changelog inputs, with retractions — the "regular join" of Flink / RisingWave.
//
// Contract.
// - Inputs: the join has two input ports, left_input() and right_input(), each an Operator the
//   upstream pushes into (Push / PushWatermark / Finish); the join itself is pushed into only
//   through them (HashJoinOperator::Push returns kInternal). Output: set_output() as for any
//   operator; output schema = the left columns, then the right columns (semi / anti joins: the
//   left columns only, with the left schema's nullability).
// - Ownership: the operator owns both ports, both sides' keyed state and its output batch. A
//   pushed batch is read during the call only (rows are copied into state). Not thread-safe:
//   one pipeline thread; must not be re-entered from downstream during a Push.
// - State layout (per side): a src/state HashTable from the encoded equi-key (KeyEncoder bytes)
//   to the head of a singly linked list of row records; records live in a RowArena owned by the
//   operator (chunked, chunks of 64 KiB doubling to 4 MiB, never moved, so record references
//   are stable). A record is [next ref][multiplicity][degree][length][row bytes], the row being
//   the KeyEncoder encoding of all the side's columns. Identical rows share a record (a
//   multiset with counts) when found among the first kDedupeScanMax records of the key's list;
//   otherwise a duplicate gets its own record (still a correct multiset). `degree` counts, with
//   multiplicity, the other side's rows that match this row (same key and residual TRUE); it
//   drives the outer-join NULL rows and semi / anti visibility (maintained on outer sides and on
//   the left side of semi / anti joins). Freed records go to per-size-class free lists and are
//   reused (fixed-width rows: exact reuse). Keys whose list empties are erased from the table.
// - Matching: keys match when every key column is equal under KeyEncoder equality; a row with
//   any NULL key matches nothing (SQL `=`), and on a side where such a row can never be output
//   (inner sides, the right side of semi / anti, the left side of semi) it is not kept in state
//   at all. Key column types must be identical on both sides (the planner casts).
//   The residual predicate is evaluated vectorized over the candidate pairs (left columns then
//   right columns — also for semi / anti, whose output lacks the right columns); a pair joins
//   when it is TRUE (NULL and FALSE reject).
// - Changelog semantics: an insert on one side emits `+` (row ⋈ match) per matching row of the
//   other side, times its multiplicity; a delete emits `-` likewise. Preserved (outer) sides:
//   a row with no match emits `+` (row, NULLs); when its first match arrives, `-` (row, NULLs)
//   precedes the `+` joined rows; when its last match goes away, `+` (row, NULLs) follows the
//   `-` joined rows. Applying the output in order to a multiset never drives a count below zero
//   and yields, after every input batch, exactly the join of the two input multisets. A delete
//   of a row not in state is ignored (counted in deletes_unmatched()). Output carries ops unless
//   the join is inner (or semi, below) and both inputs are declared append-only (then
//   append-only output). A delete arriving on an input declared append-only is
//   kInvalidArgument.
// - Semi / anti joins (kLeftSemi, kLeftAnti: EXISTS / NOT EXISTS after the planner's rewrite).
//   Output rows are left rows only; right rows are never output and right duplicates never
//   multiply the output. Semi: a left row is visible, with its multiplicity, while its degree
//   is > 0; anti: while its degree is 0. Every visibility change is emitted: `+` when a left row
//   arrives visible, `-` when a visible left row is deleted, and when a right insert / delete
//   moves a left row's degree 0 -> 1 or 1 -> 0, `+` or `-` (semi: + on 0 -> 1; anti: - on
//   0 -> 1) once per copy of that left row. Applying the output in order yields, after every
//   batch, the left multiset filtered by "has a match" (semi) or "has no match" (anti).
//   A left row with a NULL key matches nothing: never visible under semi, always visible under
//   anti (NOT EXISTS semantics). NOT IN differs — `x NOT IN (S)` is NULL, hence rejected, when
//   x is NULL and S is non-empty or when S holds a NULL and no match — and this operator does
//   not implement that: the planner may rewrite NOT IN to kLeftAnti only when the compared
//   columns are non-nullable on both sides, or must handle the NULL cases itself. (IN as a
//   WHERE conjunct is exactly kLeftSemi.) Output is append-only for a semi join whose inputs
//   are both declared append-only (a row, once visible, stays so); an anti join always carries
//   ops.
// - Watermarks: the output watermark is min(left, right) input watermark, forwarded when it
//   advances; a finished input counts as kFinalWatermark; an unfinished input marked
//   *_watermark_ignored (a table) does not count. Finish() propagates once both inputs have
//   finished (a lookup join: once its left input has).
// - State trimming (HashJoinOptions::Expiry): each kept record stores its expiry time; a
//   per-side min-heap of expiry times counts the records the other side's watermark has
//   passed, and once they are half of the side's records (or the other side finished) one sweep
//   over the side's table unlinks and frees them and erases emptied keys — amortized O(1) per
//   row, state at most twice the live rows. A row that arrives already expired is joined
//   but not kept. Output is unchanged by trimming as long as the other side's rows respect its
//   watermark; rows later than their watermark may miss matches already dropped.
// - Memory bound: state_bytes() = both hash tables + both arenas (capacity held). With
//   state_size_max_bytes > 0, a Push after which state_bytes() exceeds it returns
//   kResourceExhausted "join state exceeds state_size_max_bytes (N bytes)" (the query ends).
// - Hot path: per batch, keys are encoded and hashed column-wise, the other side is probed with
//   one prefetching batch lookup, the own side found-or-inserted with one batch call; output
//   rows are decoded column-wise into reused columns. No allocation per event in steady state
//   (vectors and buffers keep their high-water capacity; the arena reuses freed records).
// - Costs: insert O(1) + O(matches); delete O(rows under the key) (finds the row by a list
//   scan); a hot key with very many rows makes deletes slow (see README gaps).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/coding.h"
#include "exec/join/side_input.h"
#include "exec/operator.h"
#include "expr/evaluator.h"
#include "state/hash_table.h"
#include "state/key_encoder.h"

namespace weir {

/// kLeftSemi / kLeftAnti output left rows only (see the contract above).
enum class JoinType : uint8_t { kInner, kLeft, kRight, kFull, kLeftSemi, kLeftAnti };
std::string_view JoinTypeName(JoinType t);

struct HashJoinOptions {
  JoinType type = JoinType::kInner;
  SchemaPtr left_schema;
  SchemaPtr right_schema;
  /// Equi-key columns: left_keys[k] = right_keys[k]; same count (≥ 1), identical types.
  std::vector<int> left_keys;
  std::vector<int> right_keys;
  /// Optional residual predicate over the joined pair (left columns, then right — for semi /
  /// anti too); BOOLEAN.
  ExprPtr residual;
  /// Plan-time knowledge that an input never carries deletes (enables append-only output).
  bool left_append_only = false;
  bool right_append_only = false;
  /// 0 = unlimited.
  size_t state_size_max_bytes = 0;
  /// Lookup join (kInner or kLeft; `FOR SYSTEM_TIME AS OF PROCTIME()`): the right input is a
  /// table kept in state; a left row joins the right rows present when it is pushed and is
  /// not kept; right changes update the state and emit nothing (earlier output is never
  /// revised). Output is append-only when the left input is; the output watermark is the
  /// left input's; the join finishes when the left input does.
  bool lookup = false;
  /// State trimming (interval and window joins): a row kept on a side whose expiry has
  /// column >= 0 (a TIMESTAMP column of that side) is dropped once the other side's watermark
  /// is greater than row[column] + offset_us — the planner derives this from the join
  /// condition only where no later row of the other side can match. Only for sides declared
  /// append-only (a forgotten row is never retracted). A NULL in the column never expires.
  struct Expiry {
    int column = -1;
    int64_t offset_us = 0;
  };
  Expiry left_expiry;
  Expiry right_expiry;
  /// Inputs that never carry a watermark (a table): left out of min(left, right) until they
  /// finish, so a join of a stream with a table does not hold the output watermark back.
  bool left_watermark_ignored = false;
  bool right_watermark_ignored = false;
};

/// Chunked arena of join row records with size-class free lists. References are 64-bit
/// (chunk << 32 | offset) and stay valid until the record is freed. Not thread-safe.
class RowArena {
 public:
  static constexpr uint64_t kNil = ~uint64_t{0};
  // next u64, mult i64, degree i64, len u32, class u32, expiry i64
  static constexpr uint32_t kHeaderBytes = 40;
  static constexpr size_t kFirstChunkBytes = size_t{64} << 10;
  static constexpr size_t kChunkBytesMax = size_t{4} << 20;

  RowArena() = default;
  RowArena(const RowArena&) = delete;
  RowArena& operator=(const RowArena&) = delete;

  /// A record with room for `len` row bytes; header fields zero except len.
  uint64_t Allocate(uint32_t len);
  void Free(uint64_t ref);
  uint8_t* At(uint64_t ref) const {
    return chunks_[ref >> 32].data.get() + static_cast<uint32_t>(ref);
  }
  /// The row bytes of a record and their length.
  uint8_t* RowData(uint64_t ref) const { return At(ref) + kHeaderBytes; }
  uint32_t RowLength(uint64_t ref) const { return LoadU32(At(ref) + 24); }  // header: len u32 at byte 24
  size_t MemoryBytes() const { return chunk_bytes_; }
  size_t live_records() const { return live_records_; }

  /// Checkpoints: a "row_arena" section with every chunk as one raw span (the last one up to
  /// its used bytes), the allocation cursor, the live count and the free-list heads. Records
  /// link by references (next = ref + 1), never by address, so the bytes hold no pointers; an
  /// unchanged chunk produces identical bytes. Freed records and unused chunk tails are
  /// written as they are (stale or uninitialized bytes, never read back as data).
  void Snapshot(StateWriter* w) const;
  /// Replaces the contents (the arena must be empty). Validates chunk sizes, the cursor and
  /// every free list (each entry an in-bounds record of its class; no cycles). The caller
  /// validates the live records it reaches (ValidRecord). Errors: the reader's kDataError.
  Status Restore(StateReader* r);
  /// True when `ref` is a whole in-bounds record whose header's class matches its length.
  bool ValidRecord(uint64_t ref) const;

 private:
  struct Chunk {
    std::unique_ptr<uint8_t[]> data;
    size_t bytes = 0;
  };
  static uint32_t ClassOf(size_t record_bytes);
  static size_t ClassBytes(uint32_t cls);

  std::vector<Chunk> chunks_;
  size_t used_in_last_ = 0;
  size_t chunk_bytes_ = 0;
  size_t live_records_ = 0;
  std::vector<uint64_t> free_heads_;  // per class: ref + 1 of the first free record, 0 = none
};

class HashJoinOperator final : public Operator {
 public:
  /// Identical rows are merged into one record when found among this many list entries.
  static constexpr int kDedupeScanMax = 8;
  /// Candidate pairs evaluated per residual call, and output rows per emitted batch.
  static constexpr int64_t kPairsChunkRows = 4096;
  static constexpr int64_t kOutputBatchRows = 4096;

  /// Errors (kInvalidArgument): missing schemas, key count mismatch or zero, key index out of
  /// range, key types differing between sides, residual not BOOLEAN.
  static Result<std::unique_ptr<HashJoinOperator>> Make(HashJoinOptions options);
  ~HashJoinOperator() override;

  Operator* left_input() { return ports_[0].get(); }
  Operator* right_input() { return ports_[1].get(); }

  /// Not an entry point: push through left_input() / right_input(). Returns kInternal.
  Status Push(const RecordBatch& batch) override;
  Status Finish() override;
  std::string Describe() const override;

  const SchemaPtr& output_schema() const { return out_schema_; }
  bool output_append_only() const { return output_append_only_; }
  /// Bytes held by both sides' tables and arenas.
  size_t state_bytes() const;
  /// Live row records (left + right).
  size_t state_rows() const;
  int64_t deletes_unmatched() const { return deletes_unmatched_; }
  /// Rows dropped from state by watermark expiry (both sides).
  int64_t rows_expired() const { return rows_expired_; }

  /// Checkpoints (docs/operator-state.md): both sides' key tables and row arenas as raw dumps,
  /// expiry heaps and pending counts, the input ports' watermarks and finished flags, and the
  /// counters. Restore validates every key list (records in bounds, no cycles, live count).
  Status SnapshotState(StateWriter* w) const override;
  Status RestoreState(StateReader* r) override;

 private:
  friend class JoinSideInput<HashJoinOperator>;
  struct Side;
  struct Emit {
    const uint8_t* left;
    const uint8_t* right;
    uint32_t left_len;
    uint32_t right_len;
    Op op;
  };

  explicit HashJoinOperator(HashJoinOptions options);
  Status PushSide(int side, const RecordBatch& batch);
  Status SideWatermark();
  int64_t SideWatermarkOf(int s) const;
  /// Keeps row i of the pushed batch on side a (unless already expired).
  void KeepRow(int a, uint8_t* head, const uint8_t* row, uint32_t len, int64_t degree, int64_t i);
  /// Drops side s's rows that the other side's watermark has made unmatchable.
  void ExpireSide(int s);
  Status SideFinish(int side);
  Status ProcessChunk(int a, const RecordBatch& batch, int64_t i0, int64_t i1);
  Status ProcessLookupChunk(int a, const RecordBatch& batch, int64_t i0, int64_t i1);
  Status ProcessSemiAntiChunk(int a, const RecordBatch& batch, int64_t i0, int64_t i1);
  Status EvaluateResidual(int a, const RecordBatch& batch);
  void EmitRow(int a, Op op, const uint8_t* a_row, uint32_t a_len, const uint8_t* b_row,
               uint32_t b_len, int64_t times);
  Status FlushOutput();

  HashJoinOptions opt_;
  bool semi_anti_ = false;   // kLeftSemi or kLeftAnti: output = left rows only
  SchemaPtr pair_schema_;    // left columns then right (the residual's input)
  SchemaPtr out_schema_;     // pair_schema_, or the left columns for semi / anti
  bool output_append_only_ = false;
  std::unique_ptr<Operator> ports_[2];  // JoinSideInput instances
  std::unique_ptr<Side> sides_[2];
  std::unique_ptr<ExprEvaluator> residual_;
  bool finished_[2] = {false, false};
  int64_t deletes_unmatched_ = 0;
  int64_t rows_expired_ = 0;
  std::vector<int64_t> expiry_;           // per row of the pushed batch (sides with an expiry)

  // Per-batch scratch (capacity kept across batches).
  std::vector<uint64_t> hashes_;
  std::vector<uint8_t> key_null_;
  std::vector<uint8_t*> probe_payloads_;  // other side's table, per row (nullptr = no key)
  std::vector<uint8_t*> own_payloads_;    // own side's table, per row
  std::vector<int64_t> emptied_rows_;
  std::vector<uint32_t> pair_row_;        // candidate pairs: input row
  std::vector<uint64_t> pair_ref_;        // candidate pairs: other side's record
  std::vector<uint8_t> pair_pass_;        // residual result per pair
  std::vector<int64_t> row_pair_end_;     // per row of the chunk: end index into pairs
  std::vector<const uint8_t*> decode_ptrs_;
  std::vector<uint32_t> decode_lens_;
  RecordBatch candidates_;                // schema pair_schema_
  std::vector<Column*> decode_cols_;

  std::vector<Emit> emits_;
  std::vector<const uint8_t*> out_ptrs_;
  std::vector<uint32_t> out_lens_;
  RecordBatch out_;
};

}  // namespace weir
