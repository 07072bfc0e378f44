// weir: the command-line front end.
//
//   weir run FILE.sql [--format table|csv|json] [--stats-json PATH] [--batch-rows N]
//
// Executes the statements of FILE.sql in order (see DESIGN.md, "`weir run` contract"), prints
// SELECT/SHOW/DESCRIBE/EXPLAIN results, and exits non-zero with `error: ...` on failure.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <sys/resource.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/result_printer.h"
#include "exec/state_backend.h"
#include "types/datetime.h"
#include "weir/database.h"

namespace {

weir::Database* g_db = nullptr;

void OnSignal(int) {
  if (g_db) g_db->Cancel();
}

std::string JsonEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += c;
    }
  }
  return out;
}

std::string WatermarkJson(int64_t us) {
  if (us == INT64_MIN) return "null";
  if (us == INT64_MAX) return "\"final\"";
  char buf[weir::kTimestampTextMax];
  return "\"" + std::string(buf, weir::FormatTimestamp(us, buf)) + "\"";
}

bool WriteStatsJson(const std::string& path, const weir::RunStats& stats, double wall_seconds) {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  std::string j = "{\n  \"sources\": {";
  for (size_t i = 0; i < stats.sources.size(); ++i) {
    const auto& s = stats.sources[i];
    j += fmt::format("{}\n    \"{}\": {{\"events_read\": {}, \"rows_skipped\": {}, \"rows_dead_letter\": {}, \"bytes_read\": {}, \"watermark\": {}}}",
                     i ? "," : "", JsonEscape(s.name), s.rows_read, s.rows_skipped, s.rows_dead_letter, s.bytes_read,
                     WatermarkJson(s.watermark_us));
  }
  j += "\n  },\n  \"sinks\": {";
  for (size_t i = 0; i < stats.sinks.size(); ++i) {
    const auto& s = stats.sinks[i];
    j += fmt::format("{}\n    \"{}\": {{\"rows_written\": {}, \"bytes_written\": {}}}", i ? "," : "",
                     JsonEscape(s.name), s.rows_written, s.bytes_written);
  }
  j += "\n  },\n  \"materialized_views\": {";
  for (size_t i = 0; i < stats.views.size(); ++i) {
    const auto& v = stats.views[i];
    std::string wms;
    for (size_t k = 0; k < v.watermarks.size(); ++k)
      wms += fmt::format("{}\n        {{\"operator\": \"{}\", \"watermark\": {}}}", k ? "," : "",
                         JsonEscape(v.watermarks[k].op), WatermarkJson(v.watermarks[k].watermark_us));
    j += fmt::format("{}\n    \"{}\": {{\"rows\": {}, \"memory_bytes\": {}, \"state_bytes\": {}, \"state_groups\": {}, "
                     "\"join_rows\": {}, \"join_rows_expired\": {}, \"rows_late_dropped\": {}, \"operators\": [{}\n      ]}}",
                     i ? "," : "", JsonEscape(v.name), v.rows, v.memory_bytes, v.state_bytes, v.state_groups,
                     v.join_rows, v.join_rows_expired, v.rows_late_dropped, wms);
  }
  if (stats.checkpoints.enabled) {
    const auto& c = stats.checkpoints;
    j += fmt::format("\n  }},\n  \"checkpoints\": {{\"taken\": {}, \"durable\": {}, \"running\": {}, "
                     "\"end_of_run_us\": {}, \"last_pause_us\": {}, "
                     "\"max_pause_us\": {}, \"total_pause_us\": {}, \"max_snapshot_us\": {}, "
                     "\"total_snapshot_us\": {}, \"last_state_bytes\": {}, "
                     "\"last_written_bytes\": {}, \"restored_epoch\": {}",
                     c.checkpoints, c.durable, c.running_checkpoints, c.end_of_run_us, c.last_pause_us, c.max_pause_us, c.total_pause_us, c.max_snapshot_us,
                     c.total_snapshot_us, c.last_state_bytes,
                     c.last_written_bytes, c.restored_epoch);
  }
  j += fmt::format("\n  }},\n  \"wall_seconds\": {:.6f},\n  \"cpu_seconds\": {:.6f},\n  \"peak_rss_bytes\": {}\n}}\n",
                   wall_seconds, cpu, static_cast<int64_t>(ru.ru_maxrss) * 1024);
  std::ofstream f(path);
  f << j;
  return static_cast<bool>(f);
}

std::string HumanBytes(double b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) {
    b /= 1000;
    ++u;
  }
  return fmt::format("{:.1f} {}", b, units[u]);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Weir: an embedded streaming SQL database"};
  app.require_subcommand(1);
  std::string file, format, stats_path;
  int64_t batch_rows = weir::kBatchRowsDefault;
  auto* run = app.add_subcommand("run", "Run the statements of a .sql file");
  run->add_option("file", file, "SQL script")->required();
  run->add_option("--format", format, "Result format: table, csv or json (default: table on a terminal, csv otherwise)")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  run->add_option("--stats-json", stats_path, "Write run statistics as JSON to this path");
  run->add_option("--batch-rows", batch_rows, "Rows per batch read from sources")->check(CLI::Range(int64_t{1}, weir::kBatchRowsMax));
  std::string state_dir;
  int64_t checkpoint_interval_ms = 1000;
  run->add_option("--state-dir", state_dir,
                  "Keep durable state here: checkpoints while running; run again with the same file and "
                  "directory to continue from the last checkpoint (exactly-once file sinks)");
  run->add_option("--checkpoint-interval-ms", checkpoint_interval_ms, "Checkpoint cadence with --state-dir (default 1000)")
      ->check(CLI::Range(int64_t{1}, int64_t{86'400'000}));
  std::string checkpoint_snapshot = "inline";
  run->add_option("--checkpoint-snapshot", checkpoint_snapshot,
                  "How checkpoints copy state: inline (default: the pipeline pauses while it is copied) or fork "
                  "(a child process serializes a copy-on-write image: a pause of fork() only, more CPU)")
      ->check(CLI::IsMember({"fork", "inline"}));
  std::string state_backend = "memory", state_cache_size;
  run->add_option("--state-backend", state_backend,
                  "Where unwindowed GROUP BY keeps its groups: memory (default) or rocksdb (larger than memory; "
                  "files in <state-dir>/rocksdb or a temporary directory)")
      ->check(CLI::IsMember({"memory", "rocksdb"}));
  run->add_option("--state-cache-size", state_cache_size,
                  "With --state-backend rocksdb: memory for cached groups per aggregation, e.g. 64MB (default)");
  CLI11_PARSE(app, argc, argv);

  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "error: cannot open %s\n", file.c_str());
    return 1;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string script = ss.str();

  const bool stdout_tty = isatty(STDOUT_FILENO);
  const bool stderr_tty = isatty(STDERR_FILENO);
  if (format.empty()) format = stdout_tty ? "table" : "csv";

  weir::DatabaseOptions options;
  options.batch_rows = batch_rows;
  options.state_dir = state_dir;
  options.checkpoint_interval_ms = checkpoint_interval_ms;
  options.checkpoint_snapshot =
      checkpoint_snapshot == "inline" ? weir::CheckpointSnapshot::kInline : weir::CheckpointSnapshot::kFork;
  options.state_backend = state_backend;
  if (!state_cache_size.empty()) {
    auto bytes = weir::ParseByteSize(state_cache_size);
    if (!bytes.ok()) {
      std::fprintf(stderr, "error: --state-cache-size: %s\n", bytes.status().message().c_str());
      return 1;
    }
    options.state_cache_size_bytes = *bytes;
  }
  options.script_name = file;
  weir::Database db(options);
  g_db = &db;
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);

  bool progress_shown = false;
  if (stderr_tty) {
    db.set_progress_callback([&](const weir::Progress& p) {
      double rate = p.elapsed_seconds > 0 ? static_cast<double>(p.rows) / p.elapsed_seconds : 0;
      std::string eta;
      if (p.bytes_total > 0 && p.bytes > 0) {
        double left = p.elapsed_seconds * static_cast<double>(p.bytes_total - p.bytes) / static_cast<double>(p.bytes);
        eta = fmt::format("  {:.0f}% ETA {:.0f}s", 100.0 * static_cast<double>(p.bytes) / static_cast<double>(p.bytes_total), left);
      }
      std::fprintf(stderr, "\r\033[K%lld rows  %s  %.0f rows/s%s", static_cast<long long>(p.rows),
                   HumanBytes(static_cast<double>(p.bytes)).c_str(), rate, eta.c_str());
      std::fflush(stderr);
      progress_shown = true;
    });
  }
  auto clear_progress = [&] {
    if (progress_shown) {
      std::fprintf(stderr, "\r\033[K");
      progress_shown = false;
    }
  };

  const auto t0 = std::chrono::steady_clock::now();
  weir::ResultPrinter printer(format, stdout);
  weir::Status st = db.Execute(script, [&](const weir::StatementResult& r) {
    clear_progress();
    return printer.Print(r);
  });
  if (st.ok()) st = db.Run();
  clear_progress();
  std::fflush(stdout);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!stats_path.empty() && !WriteStatsJson(stats_path, db.stats(), wall)) {
    std::fprintf(stderr, "error: cannot write %s\n", stats_path.c_str());
    return 1;
  }
  g_db = nullptr;
  if (!st.ok()) {
    if (st.code() == weir::StatusCode::kCancelled) return 130;
    std::fprintf(stderr, "error: %s\n", st.message().c_str());
    return 1;
  }
  return 0;
}
