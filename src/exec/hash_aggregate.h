// HashAggregateOperator: streaming GROUP BY, optionally per event-time window.
//
// Input columns: the group keys first (group_count of them), then each aggregate's argument
// and FILTER column (see LogicalPlan::aggregates). Output: the group keys, then one column per
// aggregate.
//
// State: groups live in src/state HashTables keyed by the encoded non-window group keys; a
// windowed aggregation keeps one table per window (ordered by window start), so closing a
// window frees its state at once and its table is recycled for a later window. Each group's
// payload is [row count i64][flags u64][aggregate states...]. COUNT/SUM/AVG(DISTINCT x) keep
// per-window tables of (group key, x) -> multiplicity and pass only first occurrences (and last
// removals) to the aggregate.
//
// Emission (LogicalPlan::emit):
//   kOnUpdate       after each input batch, every group the batch touched emits `-` its previous
//                   row (if it had one) and `+` its new row; a group emptied by retractions
//                   emits only `-` and is removed. Windows are freed (silently) once the
//                   watermark passes window_end + allowed lateness.
//   kOnWindowClose  append-only: when the watermark passes window_end + allowed lateness, the
//                   window emits one row per group and is freed.
//   kOnFinish       snapshot queries: every group once, at Finish().
// Rows for windows that already closed (HOP rows partly late) are dropped and counted.
//
// SESSION windows: per group key a short list of sessions [start, end) kept sorted (end = last
// event + gap). A row at ts joins every session its interval [ts, ts + gap) overlaps, merging
// them (AggregateFunction::Merge); otherwise it opens a new session. Sessions are processed a
// row at a time (the per-row path); their states live out of line in the group's list. Under
// EMIT ON UPDATE a changed session retracts its previous row and emits its new one at the end
// of the batch, a session merged away is retracted; under EMIT ON WINDOW CLOSE a session is
// emitted once the watermark passes its end + allowed lateness.
//
// RocksDB backend (StateBackendOptions, `SET state_backend = 'rocksdb'`): an UNWINDOWED
// aggregation keeps its groups in a RocksStore (key: the encoded group key; value: the payload
// bytes [row count][flags][states], followed for out-of-line states — VARCHAR min/max,
// retractable min/max — by their SaveState bytes). The in-memory group table becomes a
// write-back cache of at most cache_bytes: per batch, the keys new to the cache are looked up
// in one MultiGet (a stored payload is loaded, else the states are initialized); touched groups
// are marked dirty; before the table would grow past the budget every dirty group is written
// back in one WriteBatch (in key order) and the cache is emptied. Floor: the cache always holds
// one batch's groups (a batch's payload pointers must be valid together), e.g. ~1.4 MB for
// 4096 rows of eight aggregates, whatever the budget. Groups emptied by retractions are deleted
// from RocksDB in the batch's WriteBatch. Final emission (EMIT ON FINISH / a snapshot query)
// writes the cache back and scans RocksDB in key order. COUNT/SUM/AVG(DISTINCT) are refused
// with that backend (their DISTINCT tables are in memory); windowed and SESSION aggregations
// keep the in-memory table (watermarks bound their state).
// Checkpoints: PrepareCheckpoint writes the cache back and creates a RocksDB checkpoint
// (hard links) in ctx.dir/<name>; SnapshotState records only its relative path and counters;
// RestoreState opens a working copy of it.
//
// Hot path: per batch, keys are encoded and hashed column-wise, every table the batch touches is
// reserved first so all payload pointers stay valid together, then each aggregate updates
// column-wise. No allocation per row once tables have grown. Single-threaded.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "exec/aggregate/aggregate_function.h"
#include "exec/operator.h"
#include "exec/state_backend.h"
#include "sql/logical_plan.h"
#include "state/hash_table.h"
#include "state/key_encoder.h"
#include "state/rocksdb_store.h"

namespace weir {

class HashAggregateOperator final : public Operator {
 public:
  /// `node` is the kAggregate plan node; `retractable_input`: input batches may carry deletes;
  /// `state`: the state backend (the RocksDB backend applies to unwindowed aggregations only;
  /// see above). Errors: kNotSupported for DISTINCT aggregates with the RocksDB backend.
  static Result<std::unique_ptr<HashAggregateOperator>> Make(const LogicalPlan& node,
                                                             bool retractable_input,
                                                             const StateBackendOptions& state = {});
  ~HashAggregateOperator() override;

  Status Push(const RecordBatch& batch) override;
  Status OnWatermark(int64_t watermark_us) override;
  Status Finish() override;
  std::string Describe() const override;
  /// Checkpoints (docs/operator-state.md): per open window its bounds, its group table and
  /// DISTINCT tables as raw HashTable dumps (accumulator states inline in the payloads), then
  /// the out-of-line parts in slot order: VARCHAR / retractable min/max states and, for
  /// SESSION windows, each group's session list (bounds, emitted flag, state bytes). Plus the
  /// late-row counter. Restore expects a fresh operator of the same plan.
  /// RocksDB backend: a "hash_aggregate_rocksdb" section instead — the late-row counter, the
  /// payload and fixed key sizes, and the path of the RocksDB checkpoint PrepareCheckpoint made
  /// (relative to StateBackendOptions::root; empty when there was no state yet). Fails with
  /// kInternal if groups changed since the last PrepareCheckpoint.
  Status SnapshotState(StateWriter* w) const override;
  Status RestoreState(StateReader* r) override;
  /// RocksDB backend: writes the cache back and checkpoints the store into ctx.dir/<name>.
  Status PrepareCheckpoint(uint64_t epoch, const CheckpointContext& ctx) override;

  /// Bytes held by group and distinct tables (the RocksDB backend: its cache).
  size_t state_bytes() const;
  /// Groups held (the RocksDB backend: cached groups + RocksDB's estimate of stored ones, which
  /// counts a group in both places twice).
  int64_t groups() const;
  bool rocksdb_backend() const { return rocks_; }
  /// RocksDB backend: the stable name of this operator's state (a file name; BuildPipeline
  /// sets it before any input).
  void set_state_name(std::string name) { state_.name = std::move(name); }
  /// RocksDB backend: times the cache was written back and emptied because it was full.
  int64_t cache_evictions() const { return evictions_; }
  /// (row, window) pairs dropped because their window had closed.
  int64_t rows_late() const { return rows_late_; }

 private:
  struct AggSlot {
    std::unique_ptr<AggregateFunction> fn;
    int arg = -1;
    int filter = -1;
    bool distinct = false;
    int distinct_index = -1;
    uint32_t offset = 0;
    std::unique_ptr<Column> scratch;  // sessions: one-row argument
  };
  struct Window {
    int64_t start = 0;
    int64_t end = 0;
    std::unique_ptr<HashTable> groups;
    std::vector<std::unique_ptr<HashTable>> distinct;
    int64_t pending = 0;  // rows of the current batch (for Reserve)
  };
  struct Touched {
    int64_t row;  // a row of the current batch with this group's key
    Window* window;
  };

  struct Session {
    int64_t start = 0;
    int64_t end = 0;
    bool dirty = false;    // changed in the current batch
    bool emitted = false;  // has a visible row downstream
    std::unique_ptr<uint8_t[]> state;
  };
  using SessionList = std::vector<Session>;

  HashAggregateOperator() = default;
  bool sessions() const { return windowed_ && spec_.kind == WindowKind::kSession; }
  Status PushSessions(const RecordBatch& batch);
  Status CloseSessions(int64_t watermark_us, bool all);
  Status AppendSessionRow(const uint8_t* key, uint32_t key_len, const Session& s, Op op);
  void DestroySession(Session& s);
  Window* GetWindow(int64_t start);
  Status CloseWindow(std::map<int64_t, std::unique_ptr<Window>>::iterator it, bool emit);
  Status AppendRow(const Window* w, const uint8_t* key, uint32_t key_len, const uint8_t* payload, Op op);
  Status DistinctMask(const AggSlot& a, const RecordBatch& batch, int64_t n, const Op* ops);
  Status FlushOutput();
  void DestroyStates(uint8_t* payload);
  /// Checkpoint helpers for one state area (a group payload or a session's state).
  void ScrubStates(uint8_t* state) const;
  void SaveStates(const uint8_t* state, StateWriter* w) const;
  void LoadStates(uint8_t* state, StateReader* r) const;
  bool out_of_line_ = false;  // some aggregate keeps out-of-line state
  // RocksDB backend.
  Status EnsureStore();
  std::string WorkDir() const;
  /// Keys new to the cache in this batch: load stored payloads (one MultiGet), else Init.
  Status LoadGroups(int64_t n);
  /// Writes every dirty cached group back (one WriteBatch); `clear`: then empties the cache.
  Status WriteBack(Window* w, bool clear);
  /// Emits every stored group with rows (final emission), then empties the store.
  Status EmitStored(const Window* w);
  /// A stored value into `payload` (payload_bytes_, zeroed states); kDataError if malformed.
  Status LoadPayload(std::string_view value, uint8_t* payload) const;
  int64_t WindowEnd(int64_t start) const { return start + spec_.size_us; }

  // configuration
  int group_count_ = 0;
  std::vector<int> key_cols_;       // input columns hashed into the key
  std::vector<int> key_outputs_;    // output column of each key column
  bool windowed_ = false;
  WindowSpec spec_;
  int ws_key_ = -1, we_key_ = -1;   // group-key indices of window_start / window_end
  AggregateEmit emit_ = AggregateEmit::kOnUpdate;
  int64_t lateness_us_ = 0;
  bool retractable_ = false;
  std::vector<AggSlot> aggs_;
  uint32_t payload_bytes_ = 16;
  uint32_t fixed_key_bytes_ = 0;
  SchemaPtr out_schema_;
  std::string description_;

  // state
  using WindowMap = std::map<int64_t, std::unique_ptr<Window>>;
  WindowMap windows_;
  // Closed windows, kept with their map node and tables for reuse: opening a window in steady
  // state allocates nothing.
  std::vector<WindowMap::node_type> pool_;
  std::unique_ptr<KeyEncoder> keys_;
  std::vector<std::unique_ptr<KeyEncoder>> distinct_keys_;
  ColumnPtr constant_key_;  // key column when there are no (non-window) group keys

  // per-batch scratch
  std::vector<const Column*> key_ptrs_;
  std::vector<uint64_t> hashes_, distinct_hashes_;
  std::vector<uint8_t*> payloads_;
  std::vector<Window*> row_window_;
  std::vector<uint8_t> mask_, dmask_, inserted_;
  std::vector<const Column*> distinct_cols_;
  std::vector<Touched> touched_;
  Window* cache_[64] = {};

  // output
  RecordBatch out_;
  std::vector<Column*> out_cols_;
  std::vector<Column*> key_out_cols_;
  std::vector<Op> out_ops_;
  int64_t out_rows_ = 0;

  int64_t rows_late_ = 0;
  // RocksDB backend state.
  bool rocks_ = false;
  StateBackendOptions state_;
  std::unique_ptr<RocksStore> store_;
  std::string ckpt_relative_;      // last checkpoint (PrepareCheckpoint), relative to state_.root
  bool changed_since_prepare_ = false;
  int64_t evictions_ = 0;
  std::vector<std::string_view> miss_keys_;  // per-batch scratch
  std::vector<int64_t> miss_rows_;
  std::string value_scratch_;
  std::string load_what_;  // StateReader context for stored groups
  struct DirtyGroup {
    std::string_view key;
    uint8_t* payload;
  };
  std::vector<DirtyGroup> dirty_;  // WriteBack scratch
  std::vector<uint64_t> payload_scratch_;  // one 8-aligned payload
  int64_t min_session_end_ = INT64_MAX;
  std::vector<uint8_t> row_state_;  // per-row scratch state (sessions)
};

}  // namespace weir
