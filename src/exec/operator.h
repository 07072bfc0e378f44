// Operator: a push-based, vectorized stage of a pipeline.
//
// Batches flow downstream through Push(); event-time progress through OnWatermark(); end of a
// bounded input through Finish(). Calls are per batch (a virtual call per batch, never per row).
// A pushed batch is valid only during the call: an operator that keeps data copies it.
// Operators reuse their output batch's columns, so the steady state allocates nothing; an
// operator must therefore not be re-entered while its own Push() is running.
// Not thread-safe: a pipeline runs on one thread.
#pragma once

#include <string>

#include "batch/record_batch.h"
#include "common/status.h"

namespace weir {

class Operator {
 public:
  virtual ~Operator() = default;

  virtual Status Push(const RecordBatch& batch) = 0;
  /// Event time (µs) below which no more input rows will arrive.
  virtual Status OnWatermark(int64_t watermark_us) {
    return output_ ? output_->OnWatermark(watermark_us) : Status::OK();
  }
  /// End of input: emit anything buffered, then propagate.
  virtual Status Finish() { return output_ ? output_->Finish() : Status::OK(); }
  /// One-line description for EXPLAIN.
  virtual std::string Describe() const = 0;

  void set_output(Operator* o) { output_ = o; }
  Operator* output() const { return output_; }

 protected:
  Operator* output_ = nullptr;
};

}  // namespace weir
