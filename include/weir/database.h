// Weir's embedded API: a Database runs streaming SQL inside the calling process.
//
//   weir::Database db;
//   auto st = db.Execute(sql_text, [](const weir::StatementResult& r) {
//     /* r.rows holds a SELECT/SHOW/DESCRIBE/EXPLAIN result */ return weir::Status::OK(); });
//   st = db.Run();  // drive pipelines until bounded sources are exhausted
//
// Thread-safety: a Database is used by one thread at a time, except Cancel(), which any thread
// (or a signal handler) may call to stop a running Run()/Execute() at the next batch boundary.
// Durability: state is in memory only (checkpoints and WAL are a later milestone).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "batch/record_batch.h"
#include "common/status.h"
#include "exec/table_store.h"

namespace weir {

class Env;  // common/env.h

/// How a checkpoint copies operator state (docs/checkpoint-format.md, "Snapshots").
enum class CheckpointSnapshot {
  /// A child process forked at the barrier serializes the state from its copy-on-write image;
  /// the pipeline pauses only for fork() (page tables: ~2 MB per GiB resident). Memory grows by
  /// the pages the pipeline writes meanwhile. Falls back to kInline if fork() fails.
  kFork,
  /// The pipeline thread serializes the state (pause grows with the state's size).
  kInline,
};

struct DatabaseOptions {
  /// Target rows per batch read from sources (1 .. kBatchRowsMax).
  int64_t batch_rows = kBatchRowsDefault;
  /// Name used for the script in messages (e.g. the .sql path); errors still use line:column.
  std::string script_name;
  /// Durable state (checkpoints: docs/checkpoint-format.md). Empty: everything in memory, as
  /// before. Set: the database checkpoints every `checkpoint_interval_ms` while running and at
  /// the end of each run; started again with the same script and directory it resumes from the
  /// last checkpoint (sources rewind, file sinks publish each row exactly once).
  std::string state_dir;
  int64_t checkpoint_interval_ms = 1000;
  /// Also `SET checkpoint_snapshot = 'fork' | 'inline'`.
  /// Inline by default: on the 2-core VM measured (README, "Checkpoints") forked snapshots cut the
  /// pause 25–40× but cost more throughput (each page the pipeline writes after the fork is a
  /// copy-on-write fault, ~8 µs there); choose kFork when the pause matters more.
  CheckpointSnapshot checkpoint_snapshot = CheckpointSnapshot::kInline;
  /// Every file the database reads or writes (sources, sinks, dead-letter files, checkpoints,
  /// table log) and every clock it reads (checkpoint cadence, idle timeouts, source pacing)
  /// go through this Env (common/env.h). Not owned; must outlive the Database. nullptr:
  /// Env::Default() (POSIX). Tests pass a FaultInjectionEnv (crashes, read errors, a manual
  /// clock).
  Env* env = nullptr;
  /// Where unwindowed GROUP BY keeps its groups: "memory" (default) or "rocksdb" — a RocksDB
  /// store per aggregation with an in-memory cache of `state_cache_size_bytes`, for state
  /// larger than memory. Its files live in <state_dir>/rocksdb (checkpoints by hard links), or
  /// in a temporary directory removed at close when there is no state_dir. Takes effect for
  /// views and sinks created afterwards (also `SET state_backend = 'rocksdb'`).
  std::string state_backend = "memory";
  /// RocksDB backend: bytes of groups each aggregation caches in memory (`SET state_cache_size`).
  int64_t state_cache_size_bytes = int64_t{64} << 20;
};

/// What one statement produced.
struct StatementResult {
  std::string statement;             // "SELECT", "SHOW", "DESCRIBE", "EXPLAIN", "INSERT", "UPDATE", "DELETE"
  std::shared_ptr<TableStore> rows;  // result rows for row-returning statements, else null
  int64_t rows_affected = -1;        // INSERT / UPDATE / DELETE: rows changed, else -1
};

struct SourceRunStats {
  std::string name;
  int64_t rows_read = 0;
  int64_t rows_skipped = 0;
  int64_t rows_dead_letter = 0;
  int64_t bytes_read = 0;
  int64_t watermark_us = INT64_MIN;  // last watermark (INT64_MIN: none, INT64_MAX: final)
};

struct SinkRunStats {
  std::string name;
  int64_t rows_written = 0;
  int64_t bytes_written = 0;
};

struct ViewRunStats {
  std::string name;
  int64_t rows = 0;             // rows in the view now
  int64_t memory_bytes = 0;     // bytes held by the view's contents
  int64_t state_bytes = 0;      // bytes held by the view's operator state (aggregations)
  int64_t state_groups = 0;     // open groups in that state
  int64_t join_rows = 0;        // rows kept in the view's join state (both sides)
  int64_t join_rows_expired = 0;  // rows dropped from join state by watermark expiry
  int64_t rows_late_dropped = 0;  // input rows behind the watermark, dropped or sent to late_data
  struct OperatorWatermark {
    std::string op;
    int64_t watermark_us;
  };
  std::vector<OperatorWatermark> watermarks;  // each operator's last watermark, leaf first
};

struct CheckpointRunStats {
  int64_t checkpoints = 0;       // taken (handed to the writer)
  int64_t durable = 0;           // published
  // Pauses count checkpoints taken while pipelines run; the checkpoint at the end of a run
  // phase stalls nothing and is reported as end_of_run_us.
  int64_t running_checkpoints = 0;
  int64_t last_pause_us = 0;     // pipeline stalled for the last one (snapshot + hand-off)
  int64_t max_pause_us = 0;
  int64_t total_pause_us = 0;
  int64_t max_snapshot_us = 0;     // of the pauses: producing the state (fork or copy), without
  int64_t total_snapshot_us = 0;   // waiting for the previous checkpoint's write to finish
  int64_t end_of_run_us = 0;       // end-of-phase checkpoints: snapshot + waiting for the write before
  int64_t last_state_bytes = 0;  // state size of the last checkpoint
  int64_t last_written_bytes = 0;  // bytes written for it (incremental)
  uint64_t restored_epoch = 0;   // the checkpoint this database resumed from (0: none)
  bool enabled = false;          // a state directory is set
};

struct RunStats {
  std::vector<SourceRunStats> sources;
  std::vector<SinkRunStats> sinks;
  std::vector<ViewRunStats> views;
  CheckpointRunStats checkpoints;
};

/// Progress of bounded sources during Run(), reported about every 200 ms.
struct Progress {
  int64_t rows = 0;
  int64_t bytes = 0;
  int64_t bytes_total = -1;  // -1 when unknown
  double elapsed_seconds = 0;
};

class Database {
 public:
  explicit Database(DatabaseOptions options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  using ResultCallback = std::function<Status(const StatementResult&)>;

  /// Parses and executes every statement of `script` in order, calling `on_result` for each
  /// statement that returns rows, and for INSERT / UPDATE / DELETE (rows == null,
  /// rows_affected = the count). Before a SELECT (and an INSERT ... SELECT) it runs the
  /// pipelines (Run()) so the SELECT sees everything bounded sources produce; table changes
  /// reach the views over the table before the DML statement returns. A DML statement is
  /// atomic with respect to the table (a constraint error changes nothing). Stops at the first
  /// error, which carries `line:column` for SQL problems and `file:line` for bad data.
  Status Execute(std::string_view script, const ResultCallback& on_result);

  /// Runs every pipeline created so far until all bounded sources are exhausted (sinks flushed,
  /// views complete), or, with unbounded sources, until Cancel().
  Status Run();

  /// Requests Run() to stop at the next batch boundary. Async-signal-safe.
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  /// Called periodically during Run() while bounded file sources are read.
  void set_progress_callback(std::function<void(const Progress&)> cb);

  RunStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace weir
