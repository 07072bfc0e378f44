// Operator: a push-based, vectorized stage of a pipeline.
//
// Batches flow downstream through Push(); event-time progress through OnWatermark(); end of a
// bounded input through Finish(). Calls are per batch (a virtual call per batch, never per row).
// A pushed batch is valid only during the call: an operator that keeps data copies it.
// Operators reuse their output batch's columns, so the steady state allocates nothing; an
// operator must therefore not be re-entered while its own Push() is running.
// Not thread-safe: a pipeline runs on one thread.
#pragma once

#include <cstdint>
#include <string>

#include "batch/record_batch.h"
#include "common/status.h"
#include "exec/state_backend.h"
#include "state/snapshot.h"

namespace weir {

class Operator {
 public:
  virtual ~Operator() = default;

  virtual Status Push(const RecordBatch& batch) = 0;

  /// Delivers a watermark: event time (µs) below which no more input rows are expected.
  /// Watermarks only advance; a smaller or equal value is ignored. Records it (for stats),
  /// then calls OnWatermark().
  Status PushWatermark(int64_t watermark_us) {
    if (watermark_us <= watermark_us_) return Status::OK();
    watermark_us_ = watermark_us;
    return OnWatermark(watermark_us);
  }
  /// The last watermark this operator received (kNoWatermark before the first).
  int64_t watermark_us() const { return watermark_us_; }
  static constexpr int64_t kNoWatermark = INT64_MIN;
  /// Watermark of an exhausted bounded input: fires every window.
  static constexpr int64_t kFinalWatermark = INT64_MAX;
  /// Reacts to a new watermark (fire windows, free state); the default forwards it.
  virtual Status OnWatermark(int64_t watermark_us) {
    return output_ ? output_->PushWatermark(watermark_us) : Status::OK();
  }
  /// End of input: emit anything buffered, then propagate.
  virtual Status Finish() { return output_ ? output_->Finish() : Status::OK(); }
  /// One-line description for EXPLAIN.
  virtual std::string Describe() const = 0;

  /// Checkpoints. SnapshotState writes everything the operator needs to continue exactly where
  /// it is (its keyed state, buffered rows, counters that affect output); RestoreState reads it
  /// into a freshly built operator of the same plan, before any input. Called on the pipeline
  /// thread between batches — every input delivered so far has been processed, which is what an
  /// aligned barrier guarantees (docs/checkpoint-format.md). The base class's last watermark is
  /// saved by the caller (watermark_us() / RestoreWatermark()). Stateless operators keep the
  /// defaults (nothing written). Errors: a reader error (corrupt or mismatched state) as
  /// kDataError.
  virtual Status SnapshotState(StateWriter* w) const {
    (void)w;
    return Status::OK();
  }
  virtual Status RestoreState(StateReader* r) {
    (void)r;
    return Status::OK();
  }
  /// Checkpoint phase 1, called by the engine for every operator of every pipeline before any
  /// SnapshotState of checkpoint `epoch` (same thread, between batches). Operators whose state
  /// lives outside their memory (the RocksDB backend) make it durable here — write back their
  /// cache and create their external checkpoint under ctx.dir — so that SnapshotState stays a
  /// pure in-memory serialization (it may run in a forked child: no I/O, no RocksDB calls) that
  /// records only where that checkpoint is. The engine publishes the epoch's manifest only
  /// after this returns OK. Errors: an I/O error fails the checkpoint (fatal for the run).
  /// Default: nothing to do.
  virtual Status PrepareCheckpoint(uint64_t epoch, const CheckpointContext& ctx) {
    (void)epoch;
    (void)ctx;
    return Status::OK();
  }
  /// Sets the last watermark without calling OnWatermark (restoring a checkpoint).
  void RestoreWatermark(int64_t watermark_us) { watermark_us_ = watermark_us; }

  void set_output(Operator* o) { output_ = o; }
  Operator* output() const { return output_; }

 protected:
  Operator* output_ = nullptr;

 private:
  int64_t watermark_us_ = kNoWatermark;
};

}  // namespace weir
