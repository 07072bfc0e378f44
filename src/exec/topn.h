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
//   columns to a partition index (payload: u32 index + 1). Each partition owns an ordered
//   std::map from a normalized sort key (memcomparable: per order column a NULL-flag byte and
//   the value in order-preserving big-endian form, bytes inverted for DESC; VARCHAR
//   zero-escaped and terminated) followed by the row's 8-byte big-endian arrival number — so
//   one memcmp orders rows, ties included, with no type switch per comparison — to the full row
//   encoded by a KeyEncoder over all input columns (decoded column-wise on output).
//   std::map rather than a sorted vector because the retracting mode keeps whole partitions
//   (O(log n) insert/erase, stable iterators for the N-th-row boundary kept per partition);
//   for append-only input it holds at most N rows. Nodes are recycled through a bounded pool
//   (extract/insert of node handles), so an append-only partition that is full — and a
//   retracting one under balanced `-`/`+` traffic — inserts without allocating as long as the
//   reused strings' capacity suffices (rows longer than the SSO limit, 15 bytes, live on the
//   heap; a node's capacity only grows).
// - Bound: append-only input keeps ≤ N rows per partition (a row that falls out can never come
//   back); retracting input keeps every present row. Partitions are never evicted in
//   append-only mode (no TTL yet); in retracting mode a partition emptied by retractions is
//   freed. state_bytes() estimates the total (hash table, partitions, map nodes, heap strings).
// - Cost per batch: keys encoded and hashed column-wise; per row an O(log k) map operation for
//   rows that can enter the top N (an append-only row that does not beat the N-th row costs one
//   memcmp). The first change to a partition's top N in a batch copies its top N (keys and
//   rows) into a reused scratch buffer, and emission walks the old and new top N: O(N) per
//   affected partition per batch, fine for small N (the Top-N use case), costly for N in the
//   thousands.
// - Ownership / thread-safety: the operator owns all state; the input batch is read only during
//   Push(); output columns are reused (ReuseColumn), so a consumer must not keep them. Not
//   thread-safe: one pipeline thread. No re-entry while Push() runs.
#pragma once

#include <cstdint>
#include <map>
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

class TopNOperator final : public Operator {
 public:
  /// Validates the options (columns in range, order non-empty, limit >= 1): InvalidArgument.
  static Result<std::unique_ptr<TopNOperator>> Make(TopNOptions options);
  ~TopNOperator() override;

  Status Push(const RecordBatch& batch) override;
  std::string Describe() const override;

  /// Input columns, then `row_number BIGINT NOT NULL` if requested.
  const SchemaPtr& output_schema() const { return out_schema_; }
  /// Estimated bytes of state (see the contract).
  size_t state_bytes() const;
  /// Rows kept in state over all partitions.
  int64_t rows() const { return rows_; }
  int64_t partitions() const { return static_cast<int64_t>(table_.size()); }
  /// `-` input rows that matched no present row.
  int64_t retractions_ignored() const { return retractions_ignored_; }

 private:
  using RowMap = std::map<std::string, std::string, std::less<>>;
  struct Partition {
    RowMap rows;
    RowMap::iterator last_top;  // retracting mode: the N-th row, or rows.end() if fewer
    uint64_t snapshot_batch = 0;  // batch number whose snapshot holds this partition's old top N
    uint64_t hash = 0;
    std::string key;  // encoded partition key (for Erase)
    bool live = false;
  };
  struct Touched {
    uint32_t partition;
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
  uint32_t NewPartition(const uint8_t* key, uint32_t len, uint64_t hash);
  void Snapshot(uint32_t pid);
  void InsertRow(uint32_t pid, std::string_view key, std::string_view row);
  void RetractRow(uint32_t pid, std::string_view key, std::string_view row);
  RowMap::iterator Emplace(Partition& p, std::string_view key, std::string_view row);
  void Recycle(Partition& p, RowMap::iterator it);
  void Diff(const Touched& t);
  Status Emit();

  TopNOptions opt_;
  SchemaPtr out_schema_;
  std::string description_;

  // state
  HashTable table_{8, 0};
  std::vector<std::unique_ptr<Partition>> partitions_;
  std::vector<uint32_t> free_partitions_;
  std::vector<RowMap::node_type> node_pool_;
  std::unique_ptr<KeyEncoder> part_keys_;
  std::unique_ptr<KeyEncoder> row_keys_;
  ColumnPtr constant_key_;  // partition key column when there are no partition columns
  uint64_t seq_ = 0;        // arrival number of the next input row
  uint64_t batch_no_ = 0;
  int64_t rows_ = 0;
  size_t heap_string_bytes_ = 0;  // heap capacity of map keys/rows (beyond SSO)
  int64_t retractions_ignored_ = 0;

  // per-batch scratch (capacity reused)
  std::vector<const Column*> col_ptrs_;
  std::vector<const Column*> varchar_cols_;
  std::vector<uint64_t> hashes_;
  std::vector<uint8_t*> payloads_;
  std::vector<uint32_t> row_pid_;
  std::vector<uint8_t> sort_bytes_;
  std::vector<uint32_t> sort_begin_, sort_len_;
  std::vector<Touched> touched_;
  std::vector<uint32_t> created_;
  std::vector<SnapRow> snap_;
  std::vector<uint8_t> snap_bytes_;
  std::vector<OutRow> out_rows_, pending_inserts_;
  std::vector<Ref> olds_, news_, leaves_, enters_;
  std::vector<uint8_t> cancelled_;

  // output
  RecordBatch out_;
  std::vector<Column*> out_cols_;
  std::vector<Column*> dec_cols_;  // the input-column part of out_cols_
  std::vector<const uint8_t*> dec_ptrs_;
  std::vector<uint32_t> dec_lens_;
};

}  // namespace weir
