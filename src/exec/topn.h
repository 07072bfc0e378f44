// TopNOperator: streaming Top-N per partition — ROW_NUMBER() OVER (PARTITION BY p ORDER BY o)
// filtered by `row_number <= N` — and deduplication (N = 1, keep the first row per key).
//
// Contract.
// - Output: a changelog (every output batch has ops()) over the input columns, plus a trailing
//   non-null BIGINT `row_number` (1..N) when with_row_number. Its accumulated contents always
//   equal, per partition, the first N rows of the partition's current rows in `order`; ties
//   (equal order keys) are broken by arrival, earlier first. After each input batch the operator
//   emits, for every partition whose top N the batch changed, the multiset difference between
//   the top N before and after the batch (`-` rows first, then `+` rows, per partition): a row
//   that enters and leaves within one batch emits nothing, and a row whose row_number changes
//   emits `-` old number, `+` new number. Nothing is buffered across batches, so watermarks and
//   Finish() are forwarded unchanged.
// - Retractions (input_append_only = false): a `-` input row removes the most recently arrived
//   present instance of a byte-identical row (SQL equality: NULLs equal, DOUBLE -0.0 = +0.0,
//   NaN = NaN); a `-` with no matching row is ignored and counted (retractions_ignored()).
//   Re-inserting a retracted row gives it a new arrival number (it moves behind its ties).
//   With input_append_only = true a `-` input row is an error (InvalidArgument).
// - Ordering: NULLs first or last per key as requested, independently of DESC; DOUBLE NaN sorts
//   after every number and -0.0 equals +0.0; VARCHAR by bytes (as SortOperator's CompareValues);
//   INTERVAL by its nominal length in µs.
// - State layout. Partitions: a src/state HashTable from the KeyEncoder-encoded partition
//   columns to a fixed-size payload that holds the partition's row references (no per-partition
//   heap object). Rows: records in a chunked arena owned by the operator (RecordArena below:
//   size classes of 8 bytes, per-class free lists, records never move). A record is
//   [links][key_len u32][row_len u32][sort key][row]: the sort key is normalized
//   (memcomparable: per order column a NULL-flag byte and the value in order-preserving
//   big-endian form, bytes inverted for DESC; VARCHAR zero-escaped and terminated) followed by
//   the row's 8-byte big-endian arrival number — so one memcmp orders rows, ties included,
//   with no type switch per comparison — and the row is the KeyEncoder encoding of all input
//   columns (decoded column-wise on output).
//   * Append-only input (input_append_only = true): only the top N rows of a partition are
//     kept; a row that falls out can never come back and is freed at once. N = 1 (dedup): the
//     payload is just the record ref (u64), one record per partition, whose header holds the
//     batch number that created it (the partition's snapshot mark).
//     N > 1: [count][snapshot batch][capacity u32][-][block ref u64], the block an arena array
//     of `capacity` (≤ N, doubling) record refs sorted by key; a row that cannot beat the
//     N-th costs one memcmp, one that enters a binary search and a move of ≤ N refs.
//   * Retracting input: every present row is kept (a deleted top row is refilled from the
//     rest). Payload [count][snapshot batch][root ref u64][N-th row ref u64]; the rows form a
//     treap (Seidel & Aragon, "Randomized search trees", Algorithmica 1996) linked through the
//     records' [left u64][right u64] header, priorities a hash of the arrival number: O(log k)
//     expected insert, erase and find for a partition of k rows, with no allocation beyond
//     the record. The N-th row is tracked so that a change below the top N is recognised
//     without touching the top.
//   A partition emptied by retractions is erased from the table.
// - Bound: append-only input keeps ≤ N rows per partition; retracting input keeps every present
//   row. Partitions are never evicted in append-only mode (no TTL yet). state_bytes() is what
//   the state holds: the hash table's slots and key arena plus the record arena's chunks
//   (about key + row + 8 bytes per row, rounded up to 8, plus 4 for dedup's mark or 16 for the
//   treap links; freed records wait on free lists for reuse, the arena never shrinks).
// - Cost per batch: keys encoded and hashed column-wise; per row an O(log k) state operation for
//   rows that can enter the top N (an append-only row that does not beat the N-th row costs one
//   memcmp); a retraction scans the rows with an equal order key. The first change to a
//   partition's top N in a batch copies its top N (keys and rows) into a reused scratch buffer, and emission walks the old and new top N: O(N) per
//   affected partition per batch, fine for small N (the Top-N use case), costly for N in the
//   thousands.
// - Ownership / thread-safety: the operator owns all state; the input batch is read only during
//   Push(); output columns are reused (ReuseColumn), so a consumer must not keep them. Not
//   thread-safe: one pipeline thread. No re-entry while Push() runs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "exec/operator.h"
#include "state/hash_table.h"
#include "state/key_encoder.h"

namespace weir {

struct TopNOptions {
  SchemaPtr input_schema;
  /// Input columns whose values form the partition key; empty = one global partition.
  std::vector<int> partition_columns;
  struct OrderKey {
    int column;
    bool descending;
    bool nulls_first;
  };
  /// At least one key; ties broken by arrival (earlier first).
  std::vector<OrderKey> order;
  /// N >= 1.
  int64_t limit = 1;
  /// Append a BIGINT `row_number` column (1..N) to the output.
  bool with_row_number = false;
  /// Input batches never carry deletes; state is then bounded to N rows per partition.
  bool input_append_only = true;
};

/// Chunked arena of variable-size records with per-size-class free lists (the pattern of the
/// join's RowArena, without its join header). A reference is (chunk << 32 | offset), never 0,
/// and stays valid until the record is freed; chunks (64 KiB doubling to 4 MiB, or one
/// record's size) are never moved or returned. Free() must be given the size the record was
/// allocated with. Not thread-safe.
class RecordArena {
 public:
  static constexpr size_t kFirstChunkBytes = size_t{64} << 10;
  static constexpr size_t kChunkBytesMax = size_t{4} << 20;
  static constexpr uint32_t kRecordBytesMax = 0x7fffffff;

  RecordArena() = default;
  RecordArena(const RecordArena&) = delete;
  RecordArena& operator=(const RecordArena&) = delete;

  /// A record of `bytes` (≥ 1, ≤ kRecordBytesMax) bytes, 8-aligned, contents unspecified.
  uint64_t Allocate(uint32_t bytes);
  void Free(uint64_t ref, uint32_t bytes);
  uint8_t* At(uint64_t ref) const {
    return chunks_[ref >> 32].get() + static_cast<uint32_t>(ref);
  }
  /// Bytes of all chunks.
  size_t MemoryBytes() const { return chunk_bytes_; }

  /// Checkpoints: a "record_arena" section with each chunk as one raw span (the last up to its
  /// cursor), the cursor and the free-list heads. Records refer to each other by reference,
  /// never by address; freed records and unused tails are written as they are.
  void Snapshot(StateWriter* w) const;
  /// Replaces the contents of an empty arena; validates chunk sizes, the cursor and the free
  /// lists (in bounds, acyclic). Errors: the reader's kDataError.
  Status Restore(StateReader* r);
  /// True when [ref, ref + bytes) lies inside handed-out chunk space (ref != 0).
  bool ValidRef(uint64_t ref, uint64_t bytes) const;

 private:
  static uint32_t ClassOf(uint32_t bytes);
  static size_t ClassBytes(uint32_t cls);

  std::vector<std::unique_ptr<uint8_t[]>> chunks_;
  std::vector<size_t> chunk_sizes_;  // bytes of each chunk
  size_t last_chunk_bytes_ = 0;
  size_t used_in_last_ = 0;
  size_t chunk_bytes_ = 0;
  std::vector<uint64_t> free_heads_;  // per class: first free record (its first 8 bytes link on)
};

class TopNOperator final : public Operator {
 public:
  /// Validates the options (columns in range, order non-empty, limit >= 1): InvalidArgument.
  static Result<std::unique_ptr<TopNOperator>> Make(TopNOptions options);
  ~TopNOperator() override;

  Status Push(const RecordBatch& batch) override;
  std::string Describe() const override;

  /// Input columns, then `row_number BIGINT NOT NULL` if requested.
  const SchemaPtr& output_schema() const { return out_schema_; }
  /// Bytes held by the state (see the contract).
  size_t state_bytes() const;
  /// Rows kept in state over all partitions.
  int64_t rows() const { return rows_; }
  int64_t partitions() const { return static_cast<int64_t>(table_.size()); }
  /// `-` input rows that matched no present row.
  int64_t retractions_ignored() const { return retractions_ignored_; }

  /// Checkpoints (docs/operator-state.md): the partition table (raw HashTable dump; payloads
  /// hold arena references only) and the record arena (raw chunks), plus the arrival counter,
  /// the batch number the snapshot marks compare with, and the counters. Restore validates
  /// every partition's records (blocks, treaps: in bounds, acyclic, counts).
  Status SnapshotState(StateWriter* w) const override;
  Status RestoreState(StateReader* r) override;

 private:
  struct Touched {
    uint8_t* payload;     // the partition's payload (valid until the batch's erases)
    uint32_t snap_begin;  // [snap_begin, snap_end) in snap_
    uint32_t snap_end;
  };
  struct SnapRow {
    uint32_t key_offset, key_len;  // in snap_bytes_
    uint32_t row_offset, row_len;
  };
  struct Ref {  // a row of an old (snapshot) or new top N
    const uint8_t* key;
    uint32_t key_len;
    const uint8_t* row;
    uint32_t row_len;
  };
  struct OutRow {
    const uint8_t* row;
    uint32_t len;
    Op op;
    int64_t row_number;
  };

  explicit TopNOperator(TopNOptions options) : opt_(std::move(options)) {}
  void EncodeSortKeys(const RecordBatch& batch, int64_t n);

  // records
  Ref Rec(uint64_t ref) const;
  std::string_view KeyOf(uint64_t ref) const;
  uint64_t NewRecord(std::string_view key, std::string_view row);
  void FreeRecord(uint64_t ref);

  // treap (retracting mode); 0 = empty tree
  uint64_t& Left(uint64_t ref) const;
  uint64_t& Right(uint64_t ref) const;
  uint64_t Priority(uint64_t ref) const;
  uint64_t TreapInsert(uint64_t t, uint64_t r, std::string_view key);
  uint64_t TreapErase(uint64_t t, std::string_view key);
  uint64_t TreapMerge(uint64_t a, uint64_t b);
  uint64_t TreapPredecessor(uint64_t t, std::string_view key) const;
  uint64_t TreapSuccessor(uint64_t t, std::string_view key) const;
  /// In-order walk from the first row whose key is ≥ `from`; f(ref) returns false to stop.
  template <typename F>
  void TreapWalk(uint64_t root, std::string_view from, F&& f);

  /// Appends the partition's first min(count, N) rows, in order, to `out`.
  void CollectTop(const uint8_t* payload, std::vector<Ref>* out);
  void Snapshot(uint8_t* payload);
  void InsertAppendOnly(uint8_t* payload, std::string_view key, std::string_view row);
  void InsertRetracting(uint8_t* payload, std::string_view key, std::string_view row);
  void Retract(uint8_t* payload, std::string_view key, std::string_view row);
  void Diff(const Touched& t);
  Status Emit();

  TopNOptions opt_;
  SchemaPtr out_schema_;
  std::string description_;
  bool dedup_ = false;          // append-only input and N = 1
  uint32_t header_bytes_ = 0;  // record bytes before the lengths: treap links, dedup's mark

  // state
  HashTable table_{8, 0};
  RecordArena arena_;
  std::unique_ptr<KeyEncoder> part_keys_;
  std::unique_ptr<KeyEncoder> row_keys_;
  ColumnPtr constant_key_;  // partition key column when there are no partition columns
  uint64_t seq_ = 0;        // arrival number of the next input row
  uint32_t batch_no_ = 0;   // ≥ 1 while a batch runs; payloads' snapshot marks compare to it
  int64_t rows_ = 0;
  int64_t retractions_ignored_ = 0;

  // per-batch scratch (capacity reused)
  std::vector<const Column*> col_ptrs_;
  std::vector<const Column*> varchar_cols_;
  std::vector<uint64_t> hashes_;
  std::vector<uint8_t*> payloads_;
  std::vector<uint8_t> sort_bytes_;
  std::vector<uint32_t> sort_begin_, sort_len_;
  std::vector<Touched> touched_;
  std::vector<int64_t> emptied_;  // retracting: rows whose partition may have emptied
  std::vector<SnapRow> snap_;
  std::vector<uint8_t> snap_bytes_;
  std::vector<OutRow> out_rows_, pending_inserts_;
  std::vector<Ref> olds_, news_, leaves_, enters_, top_;
  std::vector<uint8_t> cancelled_;
  std::vector<uint64_t> walk_stack_;

  // output
  RecordBatch out_;
  std::vector<Column*> out_cols_;
  std::vector<Column*> dec_cols_;  // the input-column part of out_cols_
  std::vector<const uint8_t*> dec_ptrs_;
  std::vector<uint32_t> dec_lens_;
};

}  // namespace weir
