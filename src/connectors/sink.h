// Sink: where results leave Weir (file, stdout, ...).
//
// Lifecycle: created from CREATE SINK options by the connector registry, written by one driver
// thread, then Close()d. Write() receives batches in order; a changelog sink receives batches
// with ops() set. Durability: Flush() hands buffered bytes to the OS (no fsync).
//
// Exactly-once (checkpoints, docs/exactly-once-sinks.md): a sink created with
// SinkContext::two_phase_commit takes part in the driver's checkpoints through
//   PreCommit(e, w)  at checkpoint e, after every row up to it was written: make the rows
//                    durable in a staging area and write what Commit/Recover need into w;
//   Commit(e)        once checkpoint e is durable: publish what PreCommit(e) (and earlier
//                    pre-commits) staged; idempotent;
//   Recover(e, r)    after a restart, before any Write, with the state PreCommit(e) wrote:
//                    publish what it staged if not yet published, discard everything after.
// Sinks without durability (stdout, blackhole) keep the defaults: no-ops returning OK, so a
// checkpointed pipeline writing to them is at-least-once (rows after the checkpoint are
// written again on replay) — or "not applicable" for blackhole.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "batch/record_batch.h"
#include "common/status.h"
#include "common/env.h"
#include "connectors/options.h"
#include "state/snapshot.h"

namespace weir {

/// How the driver runs a sink; passed to MakeSink.
struct SinkContext {
  /// All durable file access of the sink goes through this Env (tests inject crashes).
  Env* env = Env::Default();
  /// Exactly-once mode: the sink publishes rows only at Commit (file sinks: staging files,
  /// published by append/rename). False: rows go straight to the destination, as without
  /// checkpoints; PreCommit/Commit/Recover are then errors for the file sinks.
  bool two_phase_commit = false;
};

struct SinkStats {
  int64_t rows_written = 0;
  int64_t bytes_written = 0;
};

class Sink {
 public:
  virtual ~Sink() = default;
  virtual Status Write(const RecordBatch& batch) = 0;
  virtual Status Flush() = 0;
  /// Flushes and releases the destination. Idempotent.
  virtual Status Close() = 0;
  virtual SinkStats stats() const = 0;
  virtual std::string Describe() const = 0;

  /// Makes everything written so far durable in a staging area and appends to `w` what
  /// Commit/Recover need. Called at checkpoint `epoch` (increasing), after the pipeline
  /// delivered all rows up to it. Default: OK, nothing saved (at-least-once sinks).
  virtual Status PreCommit(uint64_t epoch, StateWriter* w) {
    (void)epoch;
    (void)w;
    return Status::OK();
  }
  /// Checkpoint `epoch` is durable: publishes what PreCommit(epoch) and earlier pre-commits
  /// staged (not rows written after PreCommit(epoch)). Idempotent; OK for an epoch already
  /// published. Default: OK.
  virtual Status Commit(uint64_t epoch) {
    (void)epoch;
    return Status::OK();
  }
  /// After a restart, with the state PreCommit(epoch) wrote into the restored checkpoint:
  /// publishes what it staged if not yet published and discards anything written after it.
  /// Called once, before any Write. Default: OK.
  virtual Status Recover(uint64_t epoch, StateReader* r) {
    (void)epoch;
    (void)r;
    return Status::OK();
  }
};

}  // namespace weir
