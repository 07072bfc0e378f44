#include "weir/database.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "connectors/registry.h"
#include "engine/pipeline.h"
#include "engine/table.h"
#include "exec/hash_aggregate.h"
#include "exec/join/hash_join.h"
#include "exec/terminal.h"
#include "exec/window.h"
#include "expr/evaluator.h"
#include "runtime/watermark.h"
#include "types/datetime.h"
#include "sql/binder.h"
#include "sql/dml.h"
#include "sql/statement.h"
#include "engine/checkpointer.h"
#include "engine/forked_snapshot.h"
#include "exec/state_backend.h"
#include "state/rocksdb_store.h"
#include "state/key_encoder.h"
#include "storage/wal.h"

namespace weir {

namespace {

std::string Lower(std::string_view s) {
  std::string r(s);
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

struct SourceEntry {
  std::string name;
  SchemaPtr schema;
  Options options;
  std::optional<WatermarkDef> watermark;
  ExprPtr watermark_expr;
  bool bounded = true;
  int64_t idle_timeout_ms = 0;
  std::string description;
  SourceRunStats stats;
  int64_t watermark_us = WatermarkTracker::kNone;
};

struct ViewEntry {
  std::string name;
  SchemaPtr schema;
  std::unique_ptr<ViewStore> store;
  bool append_only = true;
  int watermark_column = -1;
  std::vector<TimeBound> time_bounds;
  FanOutOperator subscribers;
  std::unique_ptr<Pipeline> pipeline;
  EmitMode emit = EmitMode::kOnUpdate;
  Options options;
  uint64_t seq = 0;
};

struct SinkEntry {
  std::string name;
  std::unique_ptr<Sink> sink;
  std::unique_ptr<Pipeline> pipeline;  // null for a late-data sink (CREATE SINK s WITH (...))
  Options options;                     // late-data sink: created when a view first binds it
  SchemaPtr schema;
  std::unique_ptr<Operator> late_input;
  std::string from;
  uint64_t seq = 0;
};

// One source reader feeding the scans of the pipelines that started in this run.
struct Runner {
  SourceEntry* source;
  std::unique_ptr<Source> reader;
  FanOutOperator fanout;
  std::vector<ScanInput*> scans;
  bool done = false;
  RecordBatch batch;
  // Event time: the watermark expression over the reader's columns, and its tracker.
  std::unique_ptr<ExprEvaluator> watermark_expr;
  std::unique_ptr<WatermarkTracker> tracker;
  int64_t watermark_us = WatermarkTracker::kNone;
  bool idle = false;  // the last poll found no data
};

// Watermark alignment: a source whose watermark is ahead of the slowest producing source's by
// more than this waits, so sources advance together in event time (a join of two sources then
// holds only the rows the watermarks have not yet passed, instead of all rows a fast source
// read ahead). Sources without a watermark, and idle ones, neither wait nor hold others back.
constexpr int64_t kWatermarkDriftMaxUs = 0;

// Largest valid value of a TIMESTAMP column, or kNone.
int64_t MaxTimestamp(const Column& c, int64_t n) {
  int64_t best = WatermarkTracker::kNone;
  if (c.is_constant()) return c.IsValid(0) ? c.Get<int64_t>(0) : best;
  const int64_t* v = c.data<int64_t>();
  if (!c.has_validity()) {
    for (int64_t i = 0; i < n; ++i) best = v[i] > best ? v[i] : best;
    return best;
  }
  for (int64_t i = 0; i < n; ++i)
    if (c.IsValid(i) && v[i] > best) best = v[i];
  return best;
}

// "500ms", "2s", "1 min", "1500" (milliseconds) → milliseconds (>= 1).
Result<int64_t> ParseDurationMs(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  size_t j = i;
  while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
  std::string unit = text.substr(j);
  unit.erase(0, unit.find_first_not_of(' '));
  while (!unit.empty() && unit.back() == ' ') unit.pop_back();
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (j == i || j - i > 12) return InvalidArgument("invalid duration '{}': expected e.g. '500ms', '2s', '1min'", text);
  const int64_t n = std::stoll(text.substr(i, j - i));
  int64_t scale;
  if (unit.empty() || unit == "ms" || unit == "millisecond" || unit == "milliseconds") scale = 1;
  else if (unit == "s" || unit == "second" || unit == "seconds") scale = 1000;
  else if (unit == "min" || unit == "minute" || unit == "minutes") scale = 60000;
  else return InvalidArgument("invalid duration '{}': unknown unit '{}' (ms, s, min)", text, unit);
  if (n * scale < 1) return InvalidArgument("invalid duration '{}': must be at least 1 ms", text);
  return n * scale;
}

StatementResult RowsResult(std::string statement, SchemaPtr schema,
                           const std::vector<std::vector<std::string>>& rows) {
  StatementResult r;
  r.statement = std::move(statement);
  r.rows = std::make_shared<TableStore>(schema);
  RecordBatch b(schema);
  for (const Field& f : schema->fields()) b.columns().push_back(std::make_shared<Column>(f.type));
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) b.columns()[c]->AppendString(row[c]);
  b.set_num_rows(static_cast<int64_t>(rows.size()));
  if (!rows.empty()) r.rows->Append(b);
  return r;
}

SchemaPtr VarcharSchema(std::initializer_list<const char*> names) {
  std::vector<Field> f;
  for (const char* n : names) f.push_back({n, DataType::Varchar(), true});
  return std::make_shared<Schema>(std::move(f));
}

}  // namespace

struct Database::Impl {
  // The RocksDB state root when there is no state directory: a temporary directory, removed
  // after everything else (members are destroyed in reverse order: pipelines first).
  struct TempStateRoot {
    std::string path;
    ~TempStateRoot() {
      if (!path.empty()) RemoveTree(path).IgnoreError();
    }
  } rocksdb_temp_root;
  bool rocksdb_used = false;  // some pipeline was built with the RocksDB backend
  uint64_t snapshot_queries = 0;

  DatabaseOptions options;
  Database* db;
  std::map<std::string, std::unique_ptr<SourceEntry>> sources;
  std::map<std::string, std::unique_ptr<ViewEntry>> views;
  std::map<std::string, std::unique_ptr<SinkEntry>> sinks;
  std::map<std::string, std::unique_ptr<Table>> tables;
  uint64_t next_seq = 1;
  std::function<void(const Progress&)> progress;

  // ---- checkpoints (options.state_dir) ----
  std::unique_ptr<Checkpointer> ckpt;
  uint64_t statements_done = 0;  // statements executed (counted across Execute calls)
  uint64_t statements_hash = 0;       // of the statements executed and the one executing
  uint64_t statements_hash_done = 0;  // of the statements executed
  uint64_t phase = 0;            // Run() calls that started pipelines
  // All file access and every clock of the engine (options.env, else Env::Default()).
  Env* env = Env::Default();

  // Milliseconds on the Env's monotonic clock: checkpoint cadence, idle timeouts, pauses.
  int64_t NowMs() const { return env->MonotonicMicros() / 1000; }

  // Table WAL (DIR/wal): the rows of every INSERT are logged (and fdatasynced) before the
  // statement returns, keyed by the statement's index; after a restart an INSERT the checkpoint
  // does not cover takes its rows from the log instead of re-reading its VALUES / SELECT (whose
  // inputs may have changed). UPDATE and DELETE are deterministic given the table, so they are
  // re-executed. Segments are removed once a durable checkpoint covers their statements.
  static constexpr uint8_t kWalInsertRows = 1;
  std::unique_ptr<WalWriter> wal;
  std::map<uint64_t, std::string> wal_inserts;        // statement index -> logged payload
  std::vector<std::pair<uint64_t, uint64_t>> wal_marks;  // (epoch, WAL LSN it covers), pending
  bool fork_failed_reported = false;  // a forked snapshot failed to start (warned once)

  Status OpenCheckpointer() {
    if (options.state_dir.empty() || ckpt) return Status::OK();
    auto c = Checkpointer::Open(env, options.state_dir, options.checkpoint_interval_ms);
    if (!c.ok()) return c.status().WithPrefix("state directory " + options.state_dir + ": ");
    ckpt = std::move(c).value();
    const std::string wal_dir = options.state_dir + "/wal";
    auto reader = WalReader::Open(env, wal_dir);
    if (!reader.ok()) return reader.status().WithPrefix("state directory " + options.state_dir + ": table log: ");
    const uint64_t covered = ckpt->restored() ? ckpt->restored_meta().statements : 0;
    WalRecord rec;
    while (true) {
      auto more = (*reader)->Next(&rec);
      if (!more.ok()) return more.status().WithPrefix("table log: ");
      if (!*more) break;
      if (rec.type != kWalInsertRows || rec.payload.size() < 8) return DataError("table log: record {} has an unknown form", rec.lsn);
      uint64_t index;
      std::memcpy(&index, rec.payload.data(), 8);
      if (index >= covered) wal_inserts[index] = std::string(rec.payload);
    }
    auto w = WalWriter::Open(env, wal_dir, (*reader)->report().last_lsn + 1);
    if (!w.ok()) return w.status().WithPrefix("table log: ");
    wal = std::move(w).value();
    return Status::OK();
  }

  // WAL payload of an INSERT: statement index, statement hash, rows (KeyEncoder encoding).
  std::string EncodeInsert(uint64_t index, const RecordBatch& rows) const {
    StateWriter w;
    w.U64(index);
    w.U64(statements_hash);
    w.U64(static_cast<uint64_t>(rows.num_rows()));
    std::vector<DataType> types;
    std::vector<const Column*> cols;
    for (size_t c = 0; c < rows.num_columns(); ++c) {
      types.push_back(rows.column(c)->type());
      cols.push_back(rows.column(c).get());
    }
    KeyEncoder enc(types);
    if (rows.num_rows() > 0) enc.Encode(cols, rows.num_rows());
    for (int64_t i = 0; i < rows.num_rows(); ++i) w.Bytes(enc.key(i), enc.key_len(i));
    return std::move(w.buffer());
  }
  Result<RecordBatch> DecodeInsert(const std::string& payload, const SchemaPtr& schema, uint64_t index) const {
    StateReader r(payload, fmt::format("table log, statement {}", index + 1));
    r.U64();
    if (r.U64() != statements_hash) r.Fail("the logged INSERT was not this statement (was the script changed?)");
    const uint64_t n = r.U64();
    if (r.ok() && n > r.remaining()) r.Fail("row count exceeds the record");
    std::vector<DataType> types;
    for (const Field& f : schema->fields()) types.push_back(f.type);
    KeyEncoder enc(types);
    std::vector<std::string_view> rows;
    for (uint64_t i = 0; i < n && r.ok(); ++i) rows.push_back(r.Bytes());
    WEIR_RETURN_IF_ERROR(r.status());
    RecordBatch out(schema);
    std::vector<Column*> outs;
    for (const Field& f : schema->fields()) {
      out.columns().push_back(std::make_shared<Column>(f.type));
      outs.push_back(out.columns().back().get());
    }
    std::vector<const uint8_t*> ptrs;
    std::vector<uint32_t> lens;
    for (auto v : rows) {
      ptrs.push_back(reinterpret_cast<const uint8_t*>(v.data()));
      lens.push_back(static_cast<uint32_t>(v.size()));
    }
    if (!rows.empty()) enc.DecodeBatch(ptrs.data(), lens.data(), static_cast<int64_t>(rows.size()), outs);
    out.set_num_rows(static_cast<int64_t>(rows.size()));
    return out;
  }
  // The rows an INSERT applies: from the log after a restart, else `make()`, logged and synced.
  Result<RecordBatch> LoggedInsertRows(const std::function<Result<RecordBatch>()>& make, const SchemaPtr& schema) {
    const uint64_t index = statements_done;
    if (wal) {
      if (auto it = wal_inserts.find(index); it != wal_inserts.end()) return DecodeInsert(it->second, schema, index);
    }
    WEIR_ASSIGN_OR_RETURN(RecordBatch rows, make());
    if (wal) {
      auto lsn = wal->Append(kWalInsertRows, EncodeInsert(index, rows));
      if (!lsn.ok()) return lsn.status().WithPrefix("table log: ");
      WEIR_RETURN_IF_ERROR(wal->Commit().WithPrefix("table log: "));
    }
    return rows;
  }
  // Restored blob `name`, as a reader; nullptr when there is none.
  std::unique_ptr<StateReader> RestoredBlob(const std::string& name) const {
    if (!ckpt || !ckpt->restored()) return nullptr;
    const std::string* b = ckpt->Restored(name);
    if (!b) return nullptr;
    return std::make_unique<StateReader>(*b, fmt::format("checkpoint {} in {}, {}", ckpt->restored_epoch(),
                                                         options.state_dir, name));
  }
  SourceContext SourceCtx() const {
    SourceContext c;
    c.env = env;
    return c;
  }
  SinkContext SinkCtx() const {
    SinkContext c;
    c.env = env;
    c.two_phase_commit = ckpt != nullptr;
    return c;
  }
  // A sink created after a restart resumes the restored checkpoint's pre-commit.
  Status RecoverSink(const std::string& name, Sink* sink) {
    auto r = RestoredBlob("sink/" + Lower(name));
    if (!r) return Status::OK();
    WEIR_RETURN_IF_ERROR(sink->Recover(ckpt->restored_epoch(), r.get()));
    return r->status();
  }

  // Statement context for error positions.
  const LineMap* lines = nullptr;

  std::string Pos(size_t offset) const { return lines->Position(offset); }
  Status At(size_t offset, const Status& s) const {
    if (s.ok()) return s;
    return Status(s.code(), fmt::format("{}: {}", Pos(offset), s.message()));
  }

  bool NameTaken(const std::string& name) const {
    return sources.count(name) || views.count(name) || sinks.count(name) || tables.count(name);
  }

  std::optional<RelationRef> Lookup(std::string_view name) const {
    std::string key = Lower(name);
    if (auto it = sources.find(key); it != sources.end()) {
      const SourceEntry& e = *it->second;
      int wm = e.watermark ? e.schema->FindField(e.watermark->column) : -1;
      return RelationRef{e.name, ObjectKind::kSource, e.schema, wm, e.watermark_expr, true};
    }
    if (auto it = views.find(key); it != views.end()) {
      const ViewEntry& v = *it->second;
      ExprPtr wm;
      if (v.watermark_column >= 0)
        wm = MakeColumnRef(v.watermark_column, v.schema->field(static_cast<size_t>(v.watermark_column)).type,
                           v.schema->field(static_cast<size_t>(v.watermark_column)).name);
      return RelationRef{v.name, ObjectKind::kMaterializedView, v.schema, v.watermark_column, wm, v.append_only,
                         v.time_bounds};
    }
    if (auto it = tables.find(key); it != tables.end())
      return RelationRef{it->second->name(), ObjectKind::kTable, it->second->schema(), -1, nullptr, false};
    return std::nullopt;
  }

  struct StreamingOptions {
    size_t state_size_max_bytes = 0;
    bool snapshot = false;
    bool emit_on_window_close = false;
    int64_t allowed_lateness_us = 0;
    std::string late_sink;
  };

  BindContext MakeBindContext(size_t offset, const PgParseTree* tree = nullptr) {
    BindContext ctx;
    ctx.lines = lines;
    ctx.base_offset = offset;
    ctx.lookup = [this](std::string_view n) { return Lookup(n); };
    if (tree) {
      ctx.asof_relations = tree->asof_relations();
      ctx.lookup_relations = tree->lookup_relations();
    }
    return ctx;
  }

  Result<PlanPtr> PlanQuery(const std::string& query, size_t offset, const StreamingOptions& so) {
    WEIR_ASSIGN_OR_RETURN(PgParseTree tree, PgParseTree::Parse(query, offset, *lines));
    WEIR_ASSIGN_OR_RETURN(PlanPtr plan, BindQuery(tree.statement(), MakeBindContext(offset, &tree)));
    return FinishPlan(std::move(plan), offset, so);
  }

  // Streaming configuration and optimization of a bound plan.
  Result<PlanPtr> FinishPlan(PlanPtr plan, size_t offset, const StreamingOptions& so) {
    Status configured = ConfigureStreaming(plan, so.snapshot, so.emit_on_window_close, so.allowed_lateness_us,
                                           so.late_sink);
    if (!configured.ok()) return At(offset, configured);
    if (so.state_size_max_bytes > 0) {
      std::function<void(LogicalPlan*)> set = [&](LogicalPlan* n) {
        n->state_size_max_bytes = so.state_size_max_bytes;
        for (auto& in : n->inputs) set(in.get());
      };
      set(plan.get());
    }
    auto optimized = OptimizePlan(plan);
    if (!optimized.ok()) return At(offset, optimized.status());
    return optimized;
  }

  // ---- statements ----------------------------------------------------------------------------
  Status CreateSource(const Statement& st) {
    std::string key = Lower(st.name);
    if (NameTaken(key)) {
      if (st.if_not_exists) return Status::OK();
      return At(st.name_offset, AlreadyExists("relation \"{}\" already exists", st.name));
    }
    auto e = std::make_unique<SourceEntry>();
    e->name = st.name;
    e->options = st.options;
    std::vector<Field> fields;
    for (const auto& c : st.columns) fields.push_back({c.name, c.type, !c.not_null});
    auto schema = ResolveSourceSchema(e->options, std::make_shared<Schema>(std::move(fields)));
    if (!schema.ok()) return At(st.begin, schema.status().WithPrefix("source " + st.name + ": "));
    e->schema = *schema;
    if (st.watermark) {
      const WatermarkDef& wm = *st.watermark;
      int col = e->schema->FindField(wm.column);
      if (col < 0) return At(wm.column_offset, BindError("watermark column \"{}\" does not exist", wm.column));
      if (e->schema->field(static_cast<size_t>(col)).type.id != TypeId::kTimestamp)
        return At(wm.column_offset, BindError("watermark column \"{}\" must be TIMESTAMP, not {}", wm.column,
                                              e->schema->field(static_cast<size_t>(col)).type.ToString()));
      WEIR_ASSIGN_OR_RETURN(e->watermark_expr, BindStandaloneExpr(wm.expr, wm.expr_offset, *e->schema, *lines));
      if (e->watermark_expr->type.id != TypeId::kTimestamp)
        return At(wm.expr_offset, BindError("watermark expression must be TIMESTAMP, not {}",
                                            e->watermark_expr->type.ToString()));
      e->watermark = wm;
    }
    if (e->options.Has("idle_timeout")) {
      Interval iv;
      std::string text = e->options.GetString("idle_timeout");
      if (!ParseInterval(text, "", &iv) || iv.months != 0 || iv.NominalMicros() <= 0)
        return At(st.begin, InvalidArgument("option 'idle_timeout' must be a positive interval such as '5 seconds', got '{}'", text));
      e->idle_timeout_ms = iv.NominalMicros() / 1000;
    }
    // Validate the options now (opens the file, checks the generator settings).
    std::vector<int> all;
    for (size_t i = 0; i < e->schema->num_fields(); ++i) all.push_back(static_cast<int>(i));
    auto probe = MakeSource(e->options, e->schema, all, SourceCtx());
    if (!probe.ok()) return At(st.begin, probe.status().WithPrefix("source " + st.name + ": "));
    e->bounded = (*probe)->bounded();
    e->description = (*probe)->Describe();
    e->stats.name = e->name;
    sources[key] = std::move(e);
    return Status::OK();
  }

  Status CheckNoDuplicateColumns(const Schema& s, size_t offset) {
    for (size_t i = 0; i < s.num_fields(); ++i)
      for (size_t j = i + 1; j < s.num_fields(); ++j)
        if (Lower(s.field(i).name) == Lower(s.field(j).name))
          return At(offset, BindError("column \"{}\" specified more than once; give it an alias",
                                      s.field(i).name));
    return Status::OK();
  }

  Status CreateView(const Statement& st, bool explain_only, std::string* explain) {
    std::string key = Lower(st.name);
    if (!explain_only && NameTaken(key)) {
      if (st.if_not_exists) return Status::OK();
      return At(st.name_offset, AlreadyExists("relation \"{}\" already exists", st.name));
    }
    StreamingOptions so;
    so.emit_on_window_close = st.emit == EmitMode::kOnWindowClose;
    for (const auto& [k, v] : st.options.entries()) {
      if (k == "allowed_lateness") {
        Interval iv;
        if (!ParseInterval(v, "", &iv) || iv.months != 0 || iv.NominalMicros() < 0)
          return At(st.begin, InvalidArgument("option 'allowed_lateness' must be an interval such as '1 minute', got '{}'", v));
        so.allowed_lateness_us = iv.NominalMicros();
      } else if (k == "state_size_max_bytes") {
        char* end = nullptr;
        long long bytes = std::strtoll(v.c_str(), &end, 10);
        if (v.empty() || !end || *end != '\0' || bytes < 0)
          return At(st.begin, InvalidArgument("option 'state_size_max_bytes' must be a non-negative integer, got '{}'", v));
        so.state_size_max_bytes = static_cast<size_t>(bytes);
      } else if (k == "late_data") {
        auto it = sinks.find(Lower(v));
        if (it == sinks.end() || it->second->pipeline)
          return At(st.begin, InvalidArgument("late_data = '{}' must name a sink created with CREATE SINK {} WITH (...) (no FROM or AS)", v, v));
        so.late_sink = it->second->name;
      } else {
        return At(st.begin, InvalidArgument("unknown materialized view option '{}' (known: allowed_lateness, late_data, state_size_max_bytes)", k));
      }
    }
    WEIR_ASSIGN_OR_RETURN(PlanPtr plan, PlanQuery(st.query, st.query_offset, so));
    if (plan->HasSnapshotOnlyNodes())
      return At(st.query_offset, NotSupported("ORDER BY / LIMIT are not supported in a materialized view"));
    WEIR_RETURN_IF_ERROR(CheckNoDuplicateColumns(*plan->schema, st.query_offset));
    auto e = std::make_unique<ViewEntry>();
    e->name = st.name;
    e->schema = plan->schema;
    e->append_only = plan->append_only;
    e->watermark_column = plan->watermark_column;
    e->time_bounds = plan->time_bounds;
    if (e->append_only) e->store = std::make_unique<AppendOnlyViewStore>(plan->schema);
    else e->store = std::make_unique<ChangelogViewStore>(plan->schema);
    e->emit = st.emit;
    e->seq = next_seq++;
    auto terminal = std::make_unique<MaterializeOperator>(st.name, e->store.get(), &e->subscribers);
    auto state = StateOptionsFor(key);
    if (!state.ok()) return At(st.begin, state.status());
    auto built = BuildPipeline(plan, std::move(terminal), LateSinks(), *state);
    if (!built.ok()) return At(st.query_offset, built.status());
    e->pipeline = std::move(built).value();
    if (explain_only) {
      *explain = e->pipeline->Explain(ScanDetailFn());
      return Status::OK();
    }
    views[key] = std::move(e);
    return Status::OK();
  }

  Status CreateSink(const Statement& st, bool explain_only, std::string* explain) {
    std::string key = Lower(st.name);
    if (!explain_only && NameTaken(key)) {
      if (st.if_not_exists) return Status::OK();
      return At(st.name_offset, AlreadyExists("relation \"{}\" already exists", st.name));
    }
    PlanPtr plan;
    std::string from;
    if (st.from_name.empty() && st.query.empty()) {
      // A late-data sink: its schema is fixed when a view's late_data first refers to it.
      if (explain_only) return At(st.begin, NotSupported("nothing to explain for a sink without a query"));
      auto e = std::make_unique<SinkEntry>();
      e->name = st.name;
      e->from = "late data";
      e->options = st.options;
      e->seq = next_seq++;
      if (!e->options.Has("connector"))
        return At(st.begin, InvalidArgument("sink {}: missing required option 'connector'", st.name));
      sinks[key] = std::move(e);
      return Status::OK();
    } else if (!st.from_name.empty()) {
      auto rel = Lookup(st.from_name);
      if (!rel) return At(st.from_offset, BindError("relation \"{}\" does not exist", st.from_name));
      plan = MakeScan(rel->name, rel->kind, rel->schema);
      plan->relation_append_only = rel->append_only;
      plan->relation_watermark_column = rel->watermark_column;
      plan->relation_time_bounds = rel->time_bounds;
      plan->relation_watermark_expr = rel->watermark_expr;
      ComputeStreamProperties(plan.get());
      from = rel->name;
    } else {
      StreamingOptions so;
      so.emit_on_window_close = st.emit == EmitMode::kOnWindowClose;
      WEIR_ASSIGN_OR_RETURN(plan, PlanQuery(st.query, st.query_offset, so));
      if (plan->HasSnapshotOnlyNodes())
        return At(st.query_offset, NotSupported("ORDER BY / LIMIT are not supported in a sink query"));
      from = "query";
    }
    auto e = std::make_unique<SinkEntry>();
    e->name = st.name;
    e->from = from;
    e->seq = next_seq++;
    if (explain_only) {
      auto terminal = std::make_unique<CollectOperator>(plan->schema);
      WEIR_ASSIGN_OR_RETURN(e->pipeline, BuildPipeline(plan, std::move(terminal)));
      *explain = "Sink " + st.name + " (" + st.options.GetString("connector") + ")\n";
      std::string inner = e->pipeline->Explain(ScanDetailFn());
      // Drop the Collect line, indent the rest.
      inner = inner.substr(inner.find('\n') + 1);
      *explain += inner;
      return Status::OK();
    }
    auto sink = MakeSink(st.options, plan->schema, !plan->append_only, SinkCtx());
    if (!sink.ok()) return At(st.begin, sink.status().WithPrefix("sink " + st.name + ": "));
    e->sink = std::move(sink).value();
    if (Status s = RecoverSink(st.name, e->sink.get()); !s.ok()) return At(st.begin, s.WithPrefix("sink " + st.name + ": "));
    auto terminal = std::make_unique<SinkOperator>(st.name, e->sink.get());
    auto state = StateOptionsFor(key);
    if (!state.ok()) return At(st.begin, state.status());
    WEIR_ASSIGN_OR_RETURN(e->pipeline, BuildPipeline(plan, std::move(terminal), LateSinks(), *state));
    sinks[key] = std::move(e);
    return Status::OK();
  }

  // ---- tables --------------------------------------------------------------------------------
  Status CreateTable(const Statement& st) {
    std::string key = Lower(st.name);
    if (NameTaken(key)) {
      if (st.if_not_exists) return Status::OK();
      return At(st.name_offset, AlreadyExists("relation \"{}\" already exists", st.name));
    }
    std::vector<Field> fields;
    for (const auto& c : st.columns) fields.push_back({c.name, c.type, !c.not_null});
    std::vector<int> key_columns;
    for (const std::string& k : st.primary_key) {
      int col = -1;
      for (size_t i = 0; i < fields.size(); ++i)
        if (Lower(fields[i].name) == Lower(k)) col = static_cast<int>(i);
      if (col < 0)
        return At(st.primary_key_offset, BindError("column \"{}\" named in key does not exist", k));
      if (std::find(key_columns.begin(), key_columns.end(), col) != key_columns.end())
        return At(st.primary_key_offset, BindError("column \"{}\" appears twice in primary key constraint", k));
      if (fields[static_cast<size_t>(col)].type.id == TypeId::kInterval)
        return At(st.primary_key_offset, NotSupported("a primary key column cannot be of type INTERVAL"));
      fields[static_cast<size_t>(col)].nullable = false;  // PK columns are NOT NULL
      key_columns.push_back(col);
    }
    tables[key] = std::make_unique<Table>(st.name, std::make_shared<Schema>(std::move(fields)), std::move(key_columns));
    if (auto r = RestoredBlob("table/" + key)) {
      WEIR_RETURN_IF_ERROR(tables[key]->RestoreState(r.get()));
      WEIR_RETURN_IF_ERROR(r->status());
    }
    return Status::OK();
  }

  // INSERT / UPDATE / DELETE. Returns the statement tag and the number of rows affected.
  Result<StatementResult> ExecuteDml(const Statement& st) {
    WEIR_ASSIGN_OR_RETURN(PgParseTree tree, PgParseTree::Parse(st.query, st.query_offset, *lines));
    BindContext ctx = MakeBindContext(st.query_offset, &tree);
    StatementResult r;
    int64_t affected = 0;
    auto applied = [&](Result<int64_t> n, const std::string& table) -> Status {
      if (!n.ok()) {
        // Constraint and evaluation errors: position of the statement, and which table.
        const Status& s = n.status();
        if (s.code() == StatusCode::kDataError) return At(st.begin, s);
        return At(st.begin, s.WithPrefix(fmt::format("while applying changes of table {}: ", table)));
      }
      affected = *n;
      return Status::OK();
    };
    switch (st.kind) {
      case StatementKind::kInsert: {
        r.statement = "INSERT";
        WEIR_ASSIGN_OR_RETURN(BoundInsert ins, BindInsert(tree.statement(), ctx));
        Table& t = *tables[Lower(ins.table)];
        auto make = [&]() -> Result<RecordBatch> {
          if (ins.values) return *ins.values;
          // INSERT ... SELECT: bring views up to date (as before a SELECT), read the snapshot,
          // then insert it as one atomic batch.
          StreamingOptions so;
          so.snapshot = true;
          WEIR_ASSIGN_OR_RETURN(PlanPtr plan, FinishPlan(ins.query, st.query_offset, so));
          WEIR_ASSIGN_OR_RETURN(auto rows, RunSnapshot(plan, st.query_offset));
          RecordBatch all(t.schema());
          for (const Field& f : t.schema()->fields()) all.columns().push_back(std::make_shared<Column>(f.type));
          for (const auto& chunk : rows->chunks())
            for (size_t c = 0; c < all.num_columns(); ++c)
              all.columns()[c]->AppendRange(*chunk->column(c), 0, chunk->num_rows());
          all.set_num_rows(rows->num_rows());
          return all;
        };
        // Pipelines run first (as before a SELECT) — also when the rows come from the log, so a
        // restart goes through the same run phases.
        if (!ins.values) WEIR_RETURN_IF_ERROR(Run());
        WEIR_ASSIGN_OR_RETURN(RecordBatch rows, LoggedInsertRows(make, t.schema()));
        WEIR_RETURN_IF_ERROR(applied(t.Insert(rows, ins.on_conflict_do_nothing, options.batch_rows), t.name()));
        break;
      }
      case StatementKind::kUpdate: {
        r.statement = "UPDATE";
        WEIR_ASSIGN_OR_RETURN(BoundUpdate up, BindUpdate(tree.statement(), ctx));
        Table& t = *tables[Lower(up.table)];
        WEIR_RETURN_IF_ERROR(applied(t.Update(up, options.batch_rows), t.name()));
        break;
      }
      default: {
        r.statement = "DELETE";
        WEIR_ASSIGN_OR_RETURN(BoundDelete del, BindDelete(tree.statement(), ctx));
        Table& t = *tables[Lower(del.table)];
        WEIR_RETURN_IF_ERROR(applied(t.Delete(del, options.batch_rows), t.name()));
        break;
      }
    }
    r.rows_affected = affected;
    return r;
  }

  // Binds late-data sinks on first use: creates the connector for rows of `schema`.
  LateSinkResolver LateSinks() {
    return [this](const std::string& name, SchemaPtr schema) -> Result<Operator*> {
      SinkEntry& e = *sinks[Lower(name)];
      if (!e.sink) {
        auto sink = MakeSink(e.options, schema, false, SinkCtx());
        if (!sink.ok()) return sink.status().WithPrefix("sink " + e.name + ": ");
        e.sink = std::move(sink).value();
        WEIR_RETURN_IF_ERROR(RecoverSink(e.name, e.sink.get()).WithPrefix("sink " + e.name + ": "));
        e.schema = schema;
        e.late_input = std::make_unique<SinkOperator>(e.name, e.sink.get());
      } else if (e.schema->ToString() != schema->ToString()) {
        return InvalidArgument("late-data sink {} already receives rows ({}); this view's late rows are ({})", e.name,
                               e.schema->ToString(), schema->ToString());
      }
      return e.late_input.get();
    };
  }

  std::function<std::string(const LogicalPlan&)> ScanDetailFn() const {
    return [this](const LogicalPlan& scan) -> std::string {
      if (scan.relation_kind == ObjectKind::kSource) {
        auto it = sources.find(Lower(scan.relation));
        if (it != sources.end()) return " (" + it->second->description + ")";
      }
      return "";
    };
  }

  bool DependsOn(const Pipeline& p, const std::string& name) const { return p.ReadsRelation(name); }

  Status Drop(const Statement& st) {
    std::string key = Lower(st.name);
    auto dependents = [&](const std::string& n) -> std::string {
      for (const auto& [k, v] : views)
        if (DependsOn(*v->pipeline, n)) return "materialized view " + v->name;
      for (const auto& [k, v] : sinks)
        if (v->pipeline && DependsOn(*v->pipeline, n)) return "sink " + v->name;
      return "";
    };
    auto missing = [&]() -> Status {
      if (st.if_exists) return Status::OK();
      return At(st.name_offset, NotFound("{} \"{}\" does not exist", ObjectKindName(st.object_kind), st.name));
    };
    switch (st.object_kind) {
      case ObjectKind::kSource: {
        if (!sources.count(key)) return missing();
        if (auto d = dependents(key); !d.empty())
          return At(st.name_offset, InvalidArgument("cannot drop source {}: {} depends on it", st.name, d));
        sources.erase(key);
        return Status::OK();
      }
      case ObjectKind::kMaterializedView: {
        auto it = views.find(key);
        if (it == views.end()) return missing();
        if (auto d = dependents(key); !d.empty())
          return At(st.name_offset, InvalidArgument("cannot drop materialized view {}: {} depends on it", st.name, d));
        Unsubscribe(*it->second->pipeline);
        views.erase(it);
        return Status::OK();
      }
      case ObjectKind::kSink: {
        auto it = sinks.find(key);
        if (it == sinks.end()) return missing();
        if (!it->second->pipeline) {
          for (const auto& [k, v] : views)
            for (WindowOperator* w : v->pipeline->windows)
              if (it->second->late_input && w->Describe().find("late_data=" + it->second->late_input->Describe()) != std::string::npos)
                return At(st.name_offset, InvalidArgument("cannot drop sink {}: materialized view {} sends late data to it", st.name, v->name));
        }
        if (it->second->pipeline) Unsubscribe(*it->second->pipeline);
        Status s = it->second->sink ? it->second->sink->Close() : Status::OK();
        sinks.erase(it);
        return At(st.name_offset, s);
      }
      case ObjectKind::kTable: {
        if (!tables.count(key)) return missing();
        if (auto d = dependents(key); !d.empty())
          return At(st.name_offset, InvalidArgument("cannot drop table {}: {} depends on it", st.name, d));
        tables.erase(key);
        return Status::OK();
      }
    }
    return Status::OK();
  }

  void Unsubscribe(Pipeline& p) {
    for (ScanInput& s : p.scans) {
      if (s.kind == ObjectKind::kTable) {
        auto it = tables.find(Lower(s.relation));
        if (it != tables.end()) it->second->subscribers().RemoveOutput(s.attached());
        continue;
      }
      if (s.kind != ObjectKind::kMaterializedView) continue;
      auto it = views.find(Lower(s.relation));
      if (it != views.end()) it->second->subscribers.RemoveOutput(s.attached());
    }
  }

  StatementResult Show(ObjectKind kind) {
    std::vector<std::vector<std::string>> rows;
    switch (kind) {
      case ObjectKind::kSource:
        for (const auto& [k, v] : sources) rows.push_back({v->name, v->description});
        return RowsResult("SHOW", VarcharSchema({"name", "connector"}), rows);
      case ObjectKind::kMaterializedView:
        for (const auto& [k, v] : views) {
          std::string from;
          for (const ScanInput& s : v->pipeline->scans) from += (from.empty() ? "" : ", ") + s.relation;
          rows.push_back({v->name, from});
        }
        return RowsResult("SHOW", VarcharSchema({"name", "from"}), rows);
      case ObjectKind::kSink:
        for (const auto& [k, v] : sinks)
          rows.push_back({v->name, v->from, v->sink ? v->sink->Describe() : v->options.GetString("connector")});
        return RowsResult("SHOW", VarcharSchema({"name", "from", "connector"}), rows);
      case ObjectKind::kTable:
        for (const auto& [k, v] : tables) rows.push_back({v->name(), std::to_string(v->storage().num_rows())});
        return RowsResult("SHOW", VarcharSchema({"name", "rows"}), rows);
    }
    return {};
  }

  Result<StatementResult> Describe(const Statement& st) {
    auto rel = Lookup(st.name);
    if (!rel) return At(st.name_offset, NotFound("relation \"{}\" does not exist", st.name));
    std::vector<std::vector<std::string>> rows;
    for (const Field& f : rel->schema->fields()) rows.push_back({f.name, f.type.ToString(), f.nullable ? "YES" : "NO"});
    if (rel->kind == ObjectKind::kSource) {
      const SourceEntry& s = *sources[Lower(st.name)];
      if (s.watermark) rows.push_back({"WATERMARK", "FOR " + s.watermark->column + " AS " + s.watermark->expr, ""});
    }
    if (rel->kind == ObjectKind::kTable) {
      const Table& t = *tables[Lower(st.name)];
      std::string key;
      for (int c : t.key_columns()) key += (key.empty() ? "" : ", ") + t.schema()->field(static_cast<size_t>(c)).name;
      if (!key.empty()) rows.push_back({"PRIMARY KEY", "(" + key + ")", ""});
    }
    return RowsResult("DESCRIBE", VarcharSchema({"column", "type", "nullable"}), rows);
  }

  Status Set(const Statement& st) {
    std::string name = Lower(st.name);
    if (name == "batch_rows" || name == "batch_size") {
      int64_t v = std::atoll(st.value.c_str());
      if (v < 1 || v > kBatchRowsMax)
        return At(st.begin, InvalidArgument("batch_rows must be in 1..{}, got '{}'", kBatchRowsMax, st.value));
      options.batch_rows = v;
      return Status::OK();
    }
    if (name == "checkpoint_interval" || name == "checkpoint_interval_ms") {
      auto ms = ParseDurationMs(st.value);
      if (!ms.ok()) return At(st.begin, ms.status());
      options.checkpoint_interval_ms = *ms;
      if (ckpt) ckpt->set_interval_ms(*ms);
      return Status::OK();
    }
    if (name == "checkpoint_snapshot") {
      const std::string v = Lower(st.value);
      if (v == "fork") options.checkpoint_snapshot = CheckpointSnapshot::kFork;
      else if (v == "inline") options.checkpoint_snapshot = CheckpointSnapshot::kInline;
      else return At(st.begin, InvalidArgument("checkpoint_snapshot must be 'fork' or 'inline', got '{}'", st.value));
      return Status::OK();
    }
    if (name == "state_backend") {
      auto b = ParseStateBackend(st.value);
      if (!b.ok()) return At(st.begin, b.status());
      options.state_backend = std::string(StateBackendName(*b));
      return Status::OK();
    }
    if (name == "state_cache_size" || name == "state_cache_size_bytes") {
      auto bytes = ParseByteSize(st.value);
      if (!bytes.ok()) return At(st.begin, bytes.status());
      options.state_cache_size_bytes = *bytes;
      return Status::OK();
    }
    return At(st.name_offset, InvalidArgument("unrecognized configuration parameter \"{}\"", st.name));
  }

  // ---- snapshot queries ---------------------------------------------------------------------
  Result<std::shared_ptr<TableStore>> RunSnapshot(PlanPtr plan, size_t offset) {
    auto terminal = std::make_unique<CollectOperator>(plan->schema, !plan->append_only);
    CollectOperator* collect = terminal.get();
    // A snapshot query's state is dropped with its pipeline (never checkpointed).
    WEIR_ASSIGN_OR_RETURN(StateBackendOptions state, StateOptionsFor(fmt::format("query-{}", ++snapshot_queries)));
    WEIR_ASSIGN_OR_RETURN(auto p, BuildPipeline(plan, std::move(terminal), {}, state));
    // Each scan is read to its end in turn (every input is bounded), then ends with the final
    // watermark and Finish().
    for (ScanInput& scan : p->scans) {
      if (scan.kind == ObjectKind::kTable) {
        const Table& t = *tables[Lower(scan.relation)];
        std::vector<int> all;
        for (size_t i = 0; i < t.schema()->num_fields(); ++i) all.push_back(static_cast<int>(i));
        Operator* in = scan.Attach(all);
        WEIR_RETURN_IF_ERROR(t.Backfill(in));
        WEIR_RETURN_IF_ERROR(in->PushWatermark(Operator::kFinalWatermark));
        WEIR_RETURN_IF_ERROR(in->Finish());
        continue;
      }
      if (scan.kind == ObjectKind::kMaterializedView) {
        ViewEntry& v = *views[Lower(scan.relation)];
        std::vector<int> all;
        for (size_t i = 0; i < v.schema->num_fields(); ++i) all.push_back(static_cast<int>(i));
        Operator* in = scan.Attach(all);
        auto snapshot = v.store->Snapshot();
        for (const auto& chunk : snapshot->chunks()) WEIR_RETURN_IF_ERROR(in->Push(*chunk));
        WEIR_RETURN_IF_ERROR(in->PushWatermark(Operator::kFinalWatermark));
        WEIR_RETURN_IF_ERROR(in->Finish());
        continue;
      }
      SourceEntry& s = *sources[Lower(scan.relation)];
      if (!s.bounded)
        return At(offset, NotSupported("SELECT from unbounded source \"{}\" would never finish; "
                                       "create a materialized view or a sink instead", s.name));
      WEIR_ASSIGN_OR_RETURN(auto reader, MakeSource(s.options, s.schema, scan.projection, SourceCtx()));
      RecordBatch batch;
      while (true) {
        if (db->cancelled()) return Cancelled("query cancelled");
        WEIR_ASSIGN_OR_RETURN(PollResult r, reader->Next(&batch, options.batch_rows));
        if (r == PollResult::kEnd) break;
        if (r == PollResult::kBatch) WEIR_RETURN_IF_ERROR(scan.entry->Push(batch));
      }
      WEIR_RETURN_IF_ERROR(scan.entry->PushWatermark(Operator::kFinalWatermark));
      WEIR_RETURN_IF_ERROR(scan.entry->Finish());
    }
    return collect->store();
  }

  // ---- the driver ---------------------------------------------------------------------------
  Status FlushSinks() {
    for (auto& [k, s] : sinks)
      if (s->sink) WEIR_RETURN_IF_ERROR(s->sink->Flush());
    return Status::OK();
  }

  static Status AdvanceWatermark(Runner* r, int64_t wm) {
    if (wm == WatermarkTracker::kNone || wm <= r->watermark_us) return Status::OK();
    r->watermark_us = wm;
    return r->fanout.PushWatermark(wm);
  }

  // ---- state backends -----------------------------------------------------------------------
  // The state backend of the pipeline of view / sink `key` (exec/state_backend.h).
  Result<StateBackendOptions> StateOptionsFor(const std::string& key) {
    StateBackendOptions so;
    WEIR_ASSIGN_OR_RETURN(so.backend, ParseStateBackend(options.state_backend));
    if (so.backend == StateBackend::kMemory) return so;
    so.cache_bytes = static_cast<size_t>(options.state_cache_size_bytes);
    so.name = key;
    if (!options.state_dir.empty()) {
      so.root = options.state_dir + "/rocksdb";
    } else {
      if (rocksdb_temp_root.path.empty()) {
        const char* tmp = std::getenv("TMPDIR");
        std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/weir-rocksdb.XXXXXX";
        if (::mkdtemp(tmpl.data()) == nullptr)
          return IOError("cannot create a temporary directory {}: {}", tmpl, std::strerror(errno));
        rocksdb_temp_root.path = tmpl;
      }
      so.root = rocksdb_temp_root.path;
    }
    rocksdb_used = true;
    return so;
  }
  std::string RocksdbRoot() const { return options.state_dir + "/rocksdb"; }
  // Removes the RocksDB checkpoint directories (root/ckpt-<epoch>) that no kept checkpoint
  // refers to: epochs up to the newest durable one that the store no longer keeps. Newer
  // directories belong to a checkpoint in flight.
  Status RemoveStaleRocksdbCheckpoints(uint64_t durable_epoch) {
    const std::string root = RocksdbRoot();
    if (!env->FileExists(root)) return Status::OK();
    WEIR_ASSIGN_OR_RETURN(std::vector<std::string> children, env->GetChildren(root));
    const std::vector<uint64_t> kept = ckpt->kept_epochs();
    for (const std::string& c : children) {
      if (c.rfind("ckpt-", 0) != 0) continue;
      char* end = nullptr;
      const uint64_t e = std::strtoull(c.c_str() + 5, &end, 10);
      if (end == c.c_str() + 5 || *end != '\0' || e > durable_epoch) continue;
      if (std::find(kept.begin(), kept.end(), e) != kept.end()) continue;
      WEIR_RETURN_IF_ERROR(RemoveTree(root + "/" + c));
    }
    return Status::OK();
  }

  // ---- checkpoints ----------------------------------------------------------------------------
  std::string PipelineName(const Pipeline* p) const {
    for (const auto& [k, v] : views)
      if (v->pipeline.get() == p) return k;
    for (const auto& [k, v] : sinks)
      if (v->pipeline.get() == p) return k;
    return "?";
  }
  std::string SourceBlobName(const std::string& source_key) const {
    return fmt::format("source/{}/{}", phase, source_key);
  }
  // A pipeline's checkpoint: which scans had ended, then its operators (Pipeline::SnapshotState).
  static Status SnapshotPipeline(const Pipeline& p, StateWriter* w) {
    w->Begin("scans");
    w->U64(p.scans.size());
    for (const ScanInput& s : p.scans) w->Bool(s.finished);
    w->End();
    return p.SnapshotState(w);
  }
  static Status RestorePipeline(Pipeline* p, StateReader* r) {
    r->Begin("scans");
    const uint64_t n = r->U64();
    if (r->ok() && n != p->scans.size()) r->Fail(fmt::format("the pipeline has {} inputs, the checkpoint {}", p->scans.size(), n));
    for (uint64_t i = 0; i < n && r->ok(); ++i) p->scans[i].finished = r->Bool();
    r->End();
    WEIR_RETURN_IF_ERROR(r->status());
    WEIR_RETURN_IF_ERROR(p->RestoreState(r));
    return r->status();
  }

  // Takes a checkpoint between batches: pipelines, this run's source positions, tables, and the
  // sinks' pre-commits, handed to the store's writer thread. `done`: the run phase has ended.
  Status TakeCheckpoint(std::map<std::string, std::unique_ptr<Runner>>& runners, bool done) {
    // While a restart is still re-executing statements the restored checkpoint covers, the
    // state is behind it: nothing new to save.
    if (ckpt->restored() && statements_done < ckpt->restored_meta().statements) return Status::OK();
    const int64_t t0_us = env->MonotonicMicros();
    const uint64_t epoch = ckpt->next_epoch();
    // Phase 1: operators with external state (RocksDB) make it durable; snapshots are then
    // pure in-memory serializations.
    CheckpointContext cctx;
    if (rocksdb_used) {
      cctx.relative_dir = fmt::format("ckpt-{}", epoch);
      cctx.dir = RocksdbRoot() + "/" + cctx.relative_dir;
    }
    // The bulk of a checkpoint: one blob per started pipeline and per table.
    struct Part {
      std::string name;
      const Pipeline* pipeline;  // or
      const Table* table;
    };
    std::vector<Part> parts;
    auto add_pipeline = [&](const std::string& key, const Pipeline* p) {
      if (p && p->started) parts.push_back({"pipeline/" + key, p, nullptr});
    };
    for (const auto& [k, v] : views) add_pipeline(k, v->pipeline.get());
    for (const auto& [k, v] : sinks) add_pipeline(k, v->pipeline.get());
    for (const auto& [k, t] : tables) parts.push_back({"table/" + k, nullptr, t.get()});
    for (const Part& part : parts) {
      if (!part.pipeline) continue;
      for (const auto& op : part.pipeline->ops)
        WEIR_RETURN_IF_ERROR(op->PrepareCheckpoint(epoch, cctx).WithPrefix("checkpoint: "));
    }
    auto snapshot = [](const Part& part, StateWriter* w) -> Status {
      if (part.pipeline) return SnapshotPipeline(*part.pipeline, w);
      part.table->SnapshotState(w);
      return Status::OK();
    };
    std::vector<std::pair<std::string, std::string>> blobs;
    std::unique_ptr<ForkedSnapshot> forked;
    // Copy-on-write: a child forked now serializes them while this thread goes on — unless the
    // run phase has ended (nothing goes on: the fork and the pipe would only cost).
    if (options.checkpoint_snapshot == CheckpointSnapshot::kFork && !done && !parts.empty()) {
      std::map<std::string, std::string> buffers;
      for (const Part& part : parts) buffers[part.name] = ckpt->TakeBuffer(part.name);
      auto produce = [&](const ForkedSnapshot::Emit& emit) -> Status {
        for (const Part& part : parts) {
          // By reference: the frozen image's large spans go to the pipe without a copy.
          StateWriter w{StateWriter::ByReference{}};
          WEIR_RETURN_IF_ERROR(snapshot(part, &w));
          WEIR_RETURN_IF_ERROR(emit(part.name, w));
        }
        return Status::OK();
      };
      auto started = ForkedSnapshot::Start(produce, std::move(buffers));
      if (started.ok()) {
        forked = std::move(started).value();
      } else if (!fork_failed_reported) {
        // fork() can fail for lack of memory or process slots: snapshot in this thread instead.
        fork_failed_reported = true;
        std::fprintf(stderr, "weir: warning: %s; checkpoints snapshot in-process\n",
                     started.status().ToString().c_str());
      }
    }
    if (!forked) {
      for (const Part& part : parts) {
        StateWriter w(ckpt->TakeBuffer(part.name));
        WEIR_RETURN_IF_ERROR(snapshot(part, &w));
        blobs.emplace_back(part.name, std::move(w.buffer()));
      }
    }
    for (const auto& [k, r] : runners) {
      StateWriter w;
      w.Begin("source");
      w.Bool(r->done);
      w.I64(r->watermark_us);
      if (!r->done) {
        Status s = r->reader->SavePosition(&w);
        if (!s.ok()) return s.WithPrefix("checkpoint: ");
      }
      w.End();
      blobs.emplace_back(SourceBlobName(k), std::move(w.buffer()));
    }
    for (const auto& [k, s] : sinks) {
      if (!s->sink) continue;
      StateWriter w;
      WEIR_RETURN_IF_ERROR(s->sink->PreCommit(epoch, &w).WithPrefix("sink " + s->name + ": "));
      blobs.emplace_back("sink/" + k, std::move(w.buffer()));
    }
    CheckpointMeta meta;
    meta.statements = statements_done;
    meta.statements_hash = statements_hash_done;
    meta.phase = phase;
    meta.phase_done = done;
    const int64_t pause_us = env->MonotonicMicros() - t0_us;
    WEIR_ASSIGN_OR_RETURN(uint64_t written, ckpt->Write(std::move(blobs), meta, NowMs(), pause_us, std::move(forked)));
    WEIR_CHECK(written == epoch);
    if (wal) wal_marks.push_back({epoch, wal->committed_lsn()});
    return Status::OK();
  }

  // Publishes the sinks' output of every checkpoint that became durable (all of them: `wait`).
  Status CommitDurable(bool wait) {
    auto durable = wait ? ckpt->WaitDurable() : ckpt->PollDurable();
    if (!durable.ok()) return durable.status().WithPrefix("checkpoint: ");
    if (durable->empty()) return Status::OK();
    const uint64_t epoch = durable->back();
    for (auto& [k, s] : sinks) {
      if (!s->sink) continue;
      WEIR_RETURN_IF_ERROR(s->sink->Commit(epoch).WithPrefix("sink " + s->name + ": "));
    }
    // The log up to what a durable checkpoint covers is no longer needed.
    uint64_t covered_lsn = 0;
    while (!wal_marks.empty() && wal_marks.front().first <= epoch) {
      covered_lsn = wal_marks.front().second;
      wal_marks.erase(wal_marks.begin());
    }
    if (wal && covered_lsn > 0) WEIR_RETURN_IF_ERROR(wal->RemoveSegmentsBefore(covered_lsn + 1).WithPrefix("table log: "));
    if (rocksdb_used) WEIR_RETURN_IF_ERROR(RemoveStaleRocksdbCheckpoints(epoch).WithPrefix("checkpoint: rocksdb: "));
    return Status::OK();
  }

  Status Run() {
    // Pipelines not yet started, in creation order.
    std::vector<std::pair<uint64_t, Pipeline*>> pending;
    for (auto& [k, v] : views)
      if (!v->pipeline->started) pending.push_back({v->seq, v->pipeline.get()});
    for (auto& [k, v] : sinks)
      if (v->pipeline && !v->pipeline->started) pending.push_back({v->seq, v->pipeline.get()});
    std::sort(pending.begin(), pending.end());
    WEIR_RETURN_IF_ERROR(OpenCheckpointer());
    if (pending.empty()) {
      // Table changes may have reached views and sinks: make them durable and published.
      if (ckpt) {
        std::map<std::string, std::unique_ptr<Runner>> none;
        const bool done = !(ckpt->restored() && ckpt->restored_meta().phase > phase);
        WEIR_RETURN_IF_ERROR(TakeCheckpoint(none, done));
        WEIR_RETURN_IF_ERROR(CommitDurable(true));
      }
      return FlushSinks();
    }

    // After a restart this run phase either finished before the checkpoint (its pipelines are
    // restored and nothing is read), was in progress (restored, sources resume at their saved
    // positions), or had not begun.
    ++phase;
    bool restore = false, complete = false;
    if (ckpt && ckpt->restored()) {
      const CheckpointMeta& m = ckpt->restored_meta();
      if (phase < m.phase || (phase == m.phase && m.phase_done)) restore = complete = true;
      else if (phase == m.phase) restore = true;
    }
    if (restore) {
      for (auto& [seq, p] : pending) {
        const std::string name = PipelineName(p);
        auto r = RestoredBlob("pipeline/" + name);
        if (!r) return DataError("checkpoint {} in {} has no state for {} (was the script changed?)",
                                 ckpt->restored_epoch(), options.state_dir, name);
        WEIR_RETURN_IF_ERROR(RestorePipeline(p, r.get()).WithPrefix(name + ": "));
      }
    }

    std::map<std::string, std::unique_ptr<Runner>> runners;
    std::vector<std::pair<ScanInput*, ViewEntry*>> backfills;
    std::vector<std::pair<ScanInput*, Table*>> table_backfills;
    for (auto& [seq, p] : pending) {
      p->started = true;
      for (ScanInput& scan : p->scans) {
        if (scan.kind == ObjectKind::kTable) {
          // A table is always current: the new scan gets its contents now, then its changes.
          Table& t = *tables[Lower(scan.relation)];
          std::vector<int> all;
          for (size_t i = 0; i < t.schema()->num_fields(); ++i) all.push_back(static_cast<int>(i));
          t.subscribers().AddOutput(scan.Attach(all));
          table_backfills.push_back({&scan, &t});
          continue;
        }
        if (scan.kind == ObjectKind::kMaterializedView) {
          ViewEntry& up = *views[Lower(scan.relation)];
          std::vector<int> all;
          for (size_t i = 0; i < up.schema->num_fields(); ++i) all.push_back(static_cast<int>(i));
          Operator* in = scan.Attach(all);
          if (up.pipeline->started && up.pipeline.get() != p) backfills.push_back({&scan, &up});
          up.subscribers.AddOutput(in);
          continue;
        }
        auto& r = runners[Lower(scan.relation)];
        if (!r) {
          r = std::make_unique<Runner>();
          r->source = sources[Lower(scan.relation)].get();
        }
        r->scans.push_back(&scan);
      }
    }
    // Restored pipelines hold what backfills would replay.
    if (restore) {
      table_backfills.clear();
      backfills.clear();
    }
    for (auto& [scan, t] : table_backfills) {
      Status s = t->Backfill(scan->attached());
      if (!s.ok()) return s.WithPrefix(fmt::format("while processing rows of table {}: ", t->name()));
    }
    // Views filled in an earlier run: replay their contents into new subscribers.
    for (auto& [scan, up] : backfills) {
      Operator* in = scan->attached();
      auto snapshot = up->store->Snapshot();
      for (const auto& chunk : snapshot->chunks()) WEIR_RETURN_IF_ERROR(in->Push(*chunk));
      if (up->pipeline->finished()) {
        WEIR_RETURN_IF_ERROR(in->PushWatermark(Operator::kFinalWatermark));
        WEIR_RETURN_IF_ERROR(in->Finish());
        scan->finished = true;
      }
    }
    for (auto& [name, r] : runners) {
      std::vector<int> cols;
      for (ScanInput* sc : r->scans) cols.insert(cols.end(), sc->projection.begin(), sc->projection.end());
      // The watermark expression reads its columns too.
      const SourceEntry& src = *r->source;
      std::vector<bool> wm_cols(src.schema->num_fields(), false);
      if (src.watermark_expr) CollectColumns(*src.watermark_expr, &wm_cols);
      for (size_t c = 0; c < wm_cols.size(); ++c)
        if (wm_cols[c]) cols.push_back(static_cast<int>(c));
      std::sort(cols.begin(), cols.end());
      cols.erase(std::unique(cols.begin(), cols.end()), cols.end());
      auto reader = MakeSource(r->source->options, r->source->schema, cols, SourceCtx());
      if (!reader.ok()) return reader.status().WithPrefix("source " + r->source->name + ": ");
      r->reader = std::move(reader).value();
      r->tracker = std::make_unique<WatermarkTracker>(1, src.idle_timeout_ms);
      if (src.watermark_expr) {
        std::vector<int> mapping(src.schema->num_fields(), -1);
        for (size_t i = 0; i < cols.size(); ++i) mapping[static_cast<size_t>(cols[i])] = static_cast<int>(i);
        r->watermark_expr = std::make_unique<ExprEvaluator>(RemapColumns(src.watermark_expr, mapping));
      }
      for (ScanInput* sc : r->scans) r->fanout.AddOutput(sc->Attach(cols));
      if (complete) {
        // The phase had ended: every source was exhausted (a later checkpoint, taken by a run
        // with nothing to read, need not hold their positions).
        r->done = true;
        r->watermark_us = Operator::kFinalWatermark;
        r->tracker->Finish(0);
      } else if (restore) {
        const std::string blob = SourceBlobName(name);
        auto rd = RestoredBlob(blob);
        if (!rd) return DataError("checkpoint {} in {} has no position for source {} (was the script changed?)",
                                  ckpt->restored_epoch(), options.state_dir, r->source->name);
        rd->Begin("source");
        r->done = rd->Bool();
        const int64_t wm = rd->I64();
        if (!r->done) WEIR_RETURN_IF_ERROR(r->reader->RestorePosition(rd.get()).WithPrefix("source " + r->source->name + ": "));
        rd->End();
        WEIR_RETURN_IF_ERROR(rd->status());
        r->watermark_us = wm;
        if (wm != WatermarkTracker::kNone) r->tracker->Observe(0, wm, NowMs());
        if (r->done) r->tracker->Finish(0);
      }
    }

    const int64_t t0_us = env->MonotonicMicros();
    int64_t last_progress_us = t0_us;
    size_t active = 0;
    for (auto& [name, r] : runners) active += r->done ? 0 : 1;
    if (complete) active = 0;
    if (ckpt) ckpt->ResetClock(NowMs());
    Status status;
    while (active > 0 && status.ok()) {
      if (db->cancelled()) break;
      if (ckpt) {
        // Between batches: every operator has processed everything delivered so far.
        if (ckpt->Due(NowMs())) status = TakeCheckpoint(runners, false);
        if (status.ok()) status = CommitDurable(false);
        if (!status.ok()) break;
      }
      bool any_data = false;
      int64_t slowest = INT64_MAX;
      for (auto& [name, r] : runners) {
        if (!r->done && r->watermark_expr && !r->idle) slowest = std::min(slowest, r->watermark_us);
      }
      for (auto& [name, r] : runners) {
        if (r->done) continue;
        if (r->watermark_expr && !r->idle && slowest != WatermarkTracker::kNone &&
            r->watermark_us > slowest && r->watermark_us - slowest > kWatermarkDriftMaxUs) {
          continue;  // ahead in event time: let the others catch up
        }
        auto polled = r->reader->Next(&r->batch, options.batch_rows);
        if (!polled.ok()) {
          status = polled.status();
          break;
        }
        r->idle = *polled == PollResult::kIdle;
        if (*polled == PollResult::kBatch) {
          any_data = true;
          status = r->fanout.Push(r->batch);
          if (!status.ok()) {
            // Name where it happened: operator errors (overflow, state limits) know no query.
            status = status.WithPrefix(fmt::format("while processing rows of source {}: ", r->source->name));
            break;
          }
          if (r->watermark_expr) {
            auto wm = r->watermark_expr->Evaluate(r->batch);
            if (!wm.ok()) {
              status = wm.status().WithPrefix("watermark of source " + r->source->name + ": ");
              break;
            }
            const int64_t now = NowMs();
            r->tracker->Observe(0, MaxTimestamp(***wm, r->batch.num_rows()), now);
            status = AdvanceWatermark(r.get(), r->tracker->Current(now));
            if (!status.ok()) break;
          }
        } else if (*polled == PollResult::kEnd) {
          r->done = true;
          --active;
          // A bounded source ends with the final watermark: every window fires.
          r->tracker->Finish(0);
          status = AdvanceWatermark(r.get(), Operator::kFinalWatermark);
          if (!status.ok()) break;
          status = r->fanout.Finish();
          for (ScanInput* sc : r->scans) sc->finished = true;
          if (!status.ok()) break;
        }
      }
      if (!any_data && active > 0 && status.ok()) {
        // Idle splits stop holding the watermark back after idle_timeout.
        const int64_t now = NowMs();
        for (auto& [name, r] : runners) {
          if (r->done || !r->watermark_expr) continue;
          status = AdvanceWatermark(r.get(), r->tracker->Current(now));
          if (!status.ok()) break;
        }
        env->SleepForMicros(2000);
      }
      if (progress) {
        const int64_t now_us = env->MonotonicMicros();
        if (now_us - last_progress_us > 200'000) {
          last_progress_us = now_us;
          Progress pr;
          for (auto& [name, r] : runners) {
            SourceStats s = r->reader->stats();
            pr.rows += s.rows_read;
            pr.bytes += s.bytes_read;
            if (s.bytes_total >= 0) pr.bytes_total = (pr.bytes_total < 0 ? 0 : pr.bytes_total) + s.bytes_total;
          }
          pr.elapsed_seconds = static_cast<double>(now_us - t0_us) / 1e6;
          progress(pr);
        }
      }
    }
    // With a state directory, the end of a run is a checkpoint (committed before returning, so
    // the sinks' output is published); a cancelled run checkpoints without flushing the
    // pipelines, so a restart continues exactly where it stopped.
    if (ckpt && status.ok() && !complete) {
      status = TakeCheckpoint(runners, !db->cancelled());
      if (status.ok()) status = CommitDurable(true);
    }
    // Stopped by Cancel(): flush what the pipelines hold so sinks end cleanly.
    if (!ckpt && status.ok() && db->cancelled()) {
      for (auto& [name, r] : runners)
        if (!r->done) status = r->fanout.Finish();
    }
    for (auto& [name, r] : runners) {
      if (!r->reader) continue;
      SourceStats s = r->reader->stats();
      r->source->stats.rows_read += s.rows_read;
      r->source->stats.rows_skipped += s.rows_skipped;
      r->source->stats.rows_dead_letter += s.rows_dead_letter;
      r->source->stats.bytes_read += s.bytes_read;
      r->source->watermark_us = std::max(r->source->watermark_us, r->watermark_us);
      // Detach: the readers of this run are gone; pipelines keep their operators.
      r->reader.reset();
    }
    // A scan of a view has ended when the view's own inputs have (views in creation order).
    std::vector<std::pair<uint64_t, Pipeline*>> all;
    for (auto& [k, v] : views) all.push_back({v->seq, v->pipeline.get()});
    for (auto& [k, v] : sinks)
      if (v->pipeline) all.push_back({v->seq, v->pipeline.get()});
    std::sort(all.begin(), all.end());
    for (auto& [seq, p] : all) {
      if (!p->started) continue;
      for (ScanInput& scan : p->scans) {
        if (scan.kind != ObjectKind::kMaterializedView || scan.finished) continue;
        auto it = views.find(Lower(scan.relation));
        if (it != views.end() && it->second->pipeline->finished()) scan.finished = true;
      }
    }
    for (auto& [k, s] : sinks) {
      if (!s->sink) continue;
      Status f = s->sink->Flush();
      if (status.ok()) status = f;
    }
    return status;
  }
};

Database::Database(DatabaseOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  if (impl_->options.env != nullptr) impl_->env = impl_->options.env;
  impl_->db = this;
}

Database::~Database() {
  for (auto& [k, s] : impl_->sinks)
    if (s->sink) s->sink->Close().IgnoreError();
}

void Database::set_progress_callback(std::function<void(const Progress&)> cb) {
  impl_->progress = std::move(cb);
}

Status Database::Run() { return impl_->Run(); }

Status Database::Execute(std::string_view script, const ResultCallback& on_result) {
  LineMap lines(script);
  impl_->lines = &lines;
  struct Reset {
    Impl* impl;
    ~Reset() { impl->lines = nullptr; }
  } reset{impl_.get()};
  WEIR_ASSIGN_OR_RETURN(std::vector<Statement> statements, ParseScript(script, lines));
  WEIR_RETURN_IF_ERROR(impl_->OpenCheckpointer());
  for (const Statement& st : statements) {
    if (cancelled()) return Cancelled("cancelled");
    // After a restart: the statements the restored checkpoint covers must be the same ones
    // (same text, same order); their data changes are in the checkpoint and are not repeated.
    const uint64_t index = impl_->statements_done;
    impl_->statements_hash = HashStatement(impl_->statements_hash, script.substr(st.begin, st.end - st.begin));
    bool covered = false;
    if (impl_->ckpt && impl_->ckpt->restored()) {
      const CheckpointMeta& m = impl_->ckpt->restored_meta();
      covered = index < m.statements;
      if (index + 1 == m.statements && impl_->statements_hash != m.statements_hash)
        return impl_->At(st.begin, InvalidArgument("the state in {} was written by a different script (the statements up to "
                                                   "here differ); use another --state-dir or the original script",
                                                   impl_->options.state_dir));
    }
    struct Count {
      Impl* impl;
      ~Count() {
        ++impl->statements_done;
        impl->statements_hash_done = impl->statements_hash;
      }
    } count{impl_.get()};
    if (covered && (st.kind == StatementKind::kInsert || st.kind == StatementKind::kUpdate ||
                    st.kind == StatementKind::kDelete)) {
      continue;  // already applied: the restored tables and views contain its changes
    }
    switch (st.kind) {
      case StatementKind::kCreateSource:
        WEIR_RETURN_IF_ERROR(impl_->CreateSource(st));
        break;
      case StatementKind::kCreateMaterializedView:
        WEIR_RETURN_IF_ERROR(impl_->CreateView(st, false, nullptr));
        break;
      case StatementKind::kCreateSink:
        WEIR_RETURN_IF_ERROR(impl_->CreateSink(st, false, nullptr));
        break;
      case StatementKind::kDrop:
        WEIR_RETURN_IF_ERROR(impl_->Drop(st));
        break;
      case StatementKind::kSet:
        WEIR_RETURN_IF_ERROR(impl_->Set(st));
        break;
      case StatementKind::kCreateTable:
        WEIR_RETURN_IF_ERROR(impl_->CreateTable(st));
        break;
      case StatementKind::kInsert:
      case StatementKind::kUpdate:
      case StatementKind::kDelete: {
        WEIR_ASSIGN_OR_RETURN(StatementResult r, impl_->ExecuteDml(st));
        WEIR_RETURN_IF_ERROR(on_result(r));
        break;
      }
      case StatementKind::kShow:
        WEIR_RETURN_IF_ERROR(on_result(impl_->Show(st.object_kind)));
        break;
      case StatementKind::kDescribe: {
        WEIR_ASSIGN_OR_RETURN(StatementResult r, impl_->Describe(st));
        WEIR_RETURN_IF_ERROR(on_result(r));
        break;
      }
      case StatementKind::kExplain: {
        const Statement& inner = *st.inner;
        std::string text;
        if (inner.kind == StatementKind::kQuery) {
          Impl::StreamingOptions so;
          so.snapshot = true;
          WEIR_ASSIGN_OR_RETURN(PlanPtr plan, impl_->PlanQuery(inner.query, inner.query_offset, so));
          auto terminal = std::make_unique<CollectOperator>(plan->schema);
          WEIR_ASSIGN_OR_RETURN(auto p, BuildPipeline(plan, std::move(terminal)));
          text = p->Explain(impl_->ScanDetailFn());
          text = text.substr(text.find('\n') + 1);  // drop the Collect line
          // Re-indent: the first remaining line is the root.
          std::string out;
          size_t pos = 0;
          while (pos < text.size()) {
            size_t nl = text.find('\n', pos);
            std::string line = text.substr(pos, nl - pos);
            out += (line.size() >= 2 ? line.substr(2) : line) + "\n";
            pos = nl + 1;
          }
          text = out;
        } else if (inner.kind == StatementKind::kCreateMaterializedView) {
          WEIR_RETURN_IF_ERROR(impl_->CreateView(inner, true, &text));
        } else {
          WEIR_RETURN_IF_ERROR(impl_->CreateSink(inner, true, &text));
        }
        std::vector<std::vector<std::string>> rows;
        size_t pos = 0;
        while (pos < text.size()) {
          size_t nl = text.find('\n', pos);
          if (nl == std::string::npos) nl = text.size();
          rows.push_back({text.substr(pos, nl - pos)});
          pos = nl + 1;
        }
        WEIR_RETURN_IF_ERROR(on_result(RowsResult("EXPLAIN", VarcharSchema({"plan"}), rows)));
        break;
      }
      case StatementKind::kQuery: {
        WEIR_RETURN_IF_ERROR(impl_->Run());
        Impl::StreamingOptions so;
        so.snapshot = true;
        WEIR_ASSIGN_OR_RETURN(PlanPtr plan, impl_->PlanQuery(st.query, st.query_offset, so));
        WEIR_ASSIGN_OR_RETURN(auto rows, impl_->RunSnapshot(plan, st.query_offset));
        StatementResult r;
        r.statement = "SELECT";
        r.rows = rows;
        WEIR_RETURN_IF_ERROR(on_result(r));
        break;
      }
    }
  }
  return Status::OK();
}

RunStats Database::stats() const {
  RunStats out;
  if (impl_->ckpt) {
    const CheckpointerStats& c = impl_->ckpt->stats();
    out.checkpoints.checkpoints = c.checkpoints;
    out.checkpoints.durable = c.durable;
    out.checkpoints.last_pause_us = c.last_pause_us;
    out.checkpoints.max_pause_us = c.max_pause_us;
    out.checkpoints.total_pause_us = c.total_pause_us;
    out.checkpoints.max_snapshot_us = c.max_snapshot_us;
    out.checkpoints.running_checkpoints = c.running_checkpoints;
    out.checkpoints.end_of_run_us = c.end_of_run_us;
    out.checkpoints.total_snapshot_us = c.total_snapshot_us;
    out.checkpoints.last_state_bytes = c.last_state_bytes;
    out.checkpoints.last_written_bytes = c.last_written_bytes;
    out.checkpoints.restored_epoch = impl_->ckpt->restored_epoch();
    out.checkpoints.enabled = true;
  }
  for (const auto& [k, s] : impl_->sources) {
    SourceRunStats st = s->stats;
    st.watermark_us = s->watermark_us;
    out.sources.push_back(st);
  }
  for (const auto& [k, s] : impl_->sinks) {
    SinkStats st = s->sink ? s->sink->stats() : SinkStats{};
    out.sinks.push_back({s->name, st.rows_written, st.bytes_written});
  }
  for (const auto& [k, v] : impl_->views) {
    ViewRunStats vs;
    vs.name = v->name;
    vs.rows = v->store->num_rows();
    vs.memory_bytes = static_cast<int64_t>(v->store->MemoryBytes());
    for (HashAggregateOperator* a : v->pipeline->aggregates) {
      vs.state_bytes += static_cast<int64_t>(a->state_bytes());
      vs.state_groups += a->groups();
      vs.rows_late_dropped += a->rows_late();
    }
    for (WindowOperator* w : v->pipeline->windows) vs.rows_late_dropped += w->rows_late();
    for (HashJoinOperator* j : v->pipeline->joins) {
      vs.state_bytes += static_cast<int64_t>(j->state_bytes());
      vs.join_rows += static_cast<int64_t>(j->state_rows());
      vs.join_rows_expired += j->rows_expired();
    }
    for (const auto& op : v->pipeline->ops) vs.watermarks.push_back({op->Describe(), op->watermark_us()});
    out.views.push_back(std::move(vs));
  }
  return out;
}

}  // namespace weir
