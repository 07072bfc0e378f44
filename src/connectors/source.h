// Source: where events enter Weir. A source produces RecordBatches of its schema's projected
// columns, a watermark hint, and statistics; the pipeline driver pulls from it.
//
// Lifecycle: created by the connector factory (connectors/registry.h) from CREATE SOURCE options
// and a projection, then polled by one thread until it reports kEnd (bounded sources) or the
// pipeline stops (unbounded ones). A Source is not thread-safe: one driver thread owns it.
//
// Hot path: Next() fills a caller-owned batch, reusing its columns (ReuseColumn), so a steady
// state read allocates nothing.
//
// Checkpoints: a replayable source saves its position between two Next() calls
// (SavePosition) and a fresh source built from the same options resumes there
// (RestorePosition, before its first Next()), returning exactly the rows the original would
// have returned next. Sources that cannot do this return NotSupported, and the driver must
// refuse to checkpoint a pipeline reading them.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "batch/record_batch.h"
#include "common/env.h"
#include "common/status.h"
#include "connectors/options.h"
#include "state/snapshot.h"

namespace weir {

struct SourceStats {
  int64_t rows_read = 0;       // rows emitted downstream
  int64_t rows_skipped = 0;    // malformed rows skipped (on_error = 'skip')
  int64_t rows_dead_letter = 0;  // malformed rows written to the dead-letter file
  int64_t bytes_read = 0;      // input bytes consumed
  int64_t bytes_total = -1;    // total input bytes when known (bounded file), else -1
};

enum class PollResult : uint8_t {
  kBatch,  // `out` holds >= 1 rows
  kIdle,   // nothing available now (unbounded source); poll again later
  kEnd,    // exhausted (bounded source); never returns data again
};

/// How the driver runs a source; passed to MakeSource (the counterpart of SinkContext).
struct SourceContext {
  /// Every file a source reads (its input, its dead-letter file) and every clock it reads
  /// (pacing) go through this Env: the database's (DatabaseOptions::env). Not owned; must
  /// outlive the source.
  Env* env = Env::Default();
};

/// What a source emits: all the columns of its declared schema, or a subset (projection
/// push-down). `columns[i]` is the schema index of output column i.
struct SourceProjection {
  std::vector<int> columns;
};

class Source {
 public:
  virtual ~Source() = default;

  /// Schema of the batches Next() produces (the projected columns, in projection order).
  virtual const SchemaPtr& output_schema() const = 0;

  /// Fills `out` with up to `rows_max` rows (>= 1 when returning kBatch). `out` is reused across
  /// calls; its previous contents are discarded. Errors: kDataError for malformed input under
  /// on_error = 'fail' (message "path:line: reason"), kIOError for I/O failure.
  virtual Result<PollResult> Next(RecordBatch* out, int64_t rows_max) = 0;

  /// True when the source ends by itself (file without follow, generator with an event count).
  virtual bool bounded() const = 0;

  virtual SourceStats stats() const = 0;

  /// Human-readable description for EXPLAIN, e.g. "file flights.csv (csv)".
  virtual std::string Describe() const = 0;

  /// Appends the position after the last row returned by Next() to `w`: everything needed so
  /// that a fresh source built from the same options, after RestorePosition, returns exactly
  /// the rows this one would return next (and continues its stats). Called between Next()
  /// calls, from the driver thread. Default: NotSupported("source X cannot be checkpointed").
  virtual Status SavePosition(StateWriter* w) const {
    (void)w;
    return NotSupported("source {} cannot be checkpointed", Describe());
  }
  /// Resumes at a position written by SavePosition of a source with the same options. Must be
  /// called before the first Next(). Errors: kDataError when the state is malformed or the
  /// input no longer matches it (e.g. the file is shorter than the saved offset).
  virtual Status RestorePosition(StateReader* r) {
    (void)r;
    return NotSupported("source {} cannot be checkpointed", Describe());
  }
};

}  // namespace weir
