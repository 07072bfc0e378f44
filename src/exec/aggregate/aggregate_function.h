// Aggregate functions (COUNT, SUM, AVG, MIN, MAX) as vectorized accumulators over fixed-size
// state slots that the aggregation operator keeps in its keyed state (src/state/HashTable
// payloads).
//
// An AggregateFunction is a stateless descriptor chosen once at plan time for one call site
// (`sum(price)`), specialised for the argument type; the per-group state lives in caller-owned
// memory of `state_bytes()` bytes (8-byte aligned), at `offset` inside each group's payload.
//
//   Update(states, offset, arg, signs, mask, n): for each row i in [0, n) with mask[i] != 0
//   (mask == nullptr: all rows), apply the row's value arg[i] to the state at
//   states[i] + offset, as an insertion (signs == nullptr or signs[i] == Op::kInsert) or a
//   retraction (Op::kDelete). NULL arguments are ignored (COUNT(*) has arg == nullptr and counts
//   rows). Several rows may point at the same state (same group).
//
// Semantics (PostgreSQL / DuckDB where they agree):
//   count(*) / count(x) -> BIGINT; sum(INT|BIGINT) -> BIGINT, overflow is kDataError
//   ("BIGINT out of range in sum()"), never wraparound; sum(DECIMAL(p,s)) -> DECIMAL(18,s)
//   exact, overflow is an error; sum(DOUBLE) -> DOUBLE; avg(INT|BIGINT|DOUBLE) -> DOUBLE
//   (exact integer sum / count); avg(DECIMAL(p,s)) -> DECIMAL(18, max(s, 6)) rounded half away
//   from zero; min/max over every comparable type (BOOLEAN, numbers, VARCHAR bytewise,
//   TIMESTAMP, INTERVAL). An aggregate over no (non-NULL) rows is NULL except count -> 0.
//
// Retractions: count/sum/avg subtract. min/max need the values they may fall back to: when
// `retractable` is requested they keep a per-group ordered multiset (value -> count) out of line,
// which Destroy() frees; the append-only form keeps just the current extreme inline.
// VARCHAR min/max keep their string out of line too (Destroy() frees it).
// DISTINCT is implemented by the operator (it passes only first occurrences / last removals).
//
// Errors (details and the state layouts: README.md beside this file): an append-only sum fails
// Update at the first row that takes its running sum out of range; a retractable sum (128 bits
// inside) fails only if a group it touched is out of range once the whole batch is applied.
// min/max created append-only return kInternal when given a retraction; retractable ones return
// kDataError when asked to retract a value their group does not hold. After an error the states
// the call touched are unspecified but still safe to Destroy(). Merge() leaves `src` unchanged
// (it still needs Destroy()).
//
// Thread-safety: descriptors are immutable and shareable; states belong to one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "batch/record_batch.h"
#include "common/status.h"
#include "state/snapshot.h"

namespace weir {

class AggregateFunction {
 public:
  virtual ~AggregateFunction() = default;

  /// Bytes of state per group (multiple of 8).
  virtual uint32_t state_bytes() const = 0;
  /// Result type.
  virtual DataType result_type() const = 0;
  /// Initializes a fresh state (empty group).
  virtual void Init(uint8_t* state) const = 0;
  /// Applies rows; see the header comment. Errors: kDataError on overflow.
  virtual Status Update(uint8_t* const* states, uint32_t offset, const Column* arg, const Op* signs,
                        const uint8_t* mask, int64_t n) const = 0;
  /// Folds state `src` into `dst` (merging session windows). Errors: overflow.
  virtual Status Merge(uint8_t* dst, const uint8_t* src) const = 0;
  /// Appends the state's current result to `out` (a column of result_type()).
  virtual void Finalize(const uint8_t* state, Column* out) const = 0;
  /// Frees out-of-line memory of a state (no-op for most functions). The state must be
  /// Init()ed again before reuse.
  virtual void Destroy(uint8_t* state) const {}
  /// Checkpoints. Most states are plain bytes without pointers and are saved by the operator
  /// as part of its raw payload dump; these hooks exist for states with out-of-line memory
  /// (VARCHAR min/max, retractable min/max multisets): has_out_of_line_state() is then true,
  /// ScrubState zeroes the pointer-holding bytes of a *copy* of a state (what goes into the raw
  /// dump, so it holds no addresses), SaveState writes the state's out-of-line contents, and
  /// LoadState rebuilds them into a state whose raw bytes were restored from a scrubbed copy.
  /// LoadState reads through `r` (sticky errors: the caller checks r->status()); on error the
  /// state stays safe to Destroy().
  virtual bool has_out_of_line_state() const { return false; }
  virtual void ScrubState(uint8_t* state) const {}
  virtual void SaveState(const uint8_t* state, StateWriter* w) const {}
  virtual void LoadState(uint8_t* state, StateReader* r) const {}
  /// Number of rows counted in the state (insertions minus retractions), for knowing when a
  /// group became empty. Only count(*) needs to answer exactly; others may return -1.
  virtual int64_t RowCount(const uint8_t* state) const { return -1; }
  /// SQL name for EXPLAIN.
  virtual std::string_view name() const = 0;
};

/// Creates the aggregate `name` ("count", "count_star", "sum", "avg", "min", "max") for an
/// argument of type `arg` (ignored for count_star). `retractable`: inputs may carry
/// retractions. Errors (kBindError): unknown aggregate, unsupported argument type
/// ("function sum(VARCHAR) does not exist").
Result<std::unique_ptr<AggregateFunction>> MakeAggregateFunction(std::string_view name, DataType arg,
                                                                 bool retractable);

/// Result type of `name(arg)` without building it (binder).
Result<DataType> AggregateResultType(std::string_view name, DataType arg);

}  // namespace weir
