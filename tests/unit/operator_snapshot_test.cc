// Operator state snapshots (SnapshotState / RestoreState, Pipeline::SnapshotState /
// RestoreState): "checkpoint, crash and recover at a batch boundary" must not change the answer.
//
// Each SQL test builds a pipeline from SQL over in-memory sources (a tiny catalog: two event
// streams with watermarks and one changelog table), drives a randomized input stream through it
// once without interruption, then again cut at several batch boundaries: the first pipeline is
// snapshotted at the cut, a fresh pipeline from the same SQL restores the bytes and takes the
// rest. The restored pipeline's output — rows with their changelog ops, watermarks, finish —
// must equal the uninterrupted run's output after the cut, and re-snapshotting the restored
// pipeline must reproduce the snapshot bytes exactly. Seeded by WEIR_TEST_SEED (test_util.h).
// Corrupt and truncated snapshots must fail with kDataError (never crash; run under ASan).
#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/pipeline.h"
#include "engine/table.h"
#include "exec/join/hash_join.h"
#include "exec/view_store.h"
#include "sql/binder.h"
#include "sql/lexer.h"
#include "sql/logical_plan.h"
#include "sql/pg_parse.h"
#include "state/hash_table.h"
#include "state/table_storage.h"
#include "test_util.h"

namespace weir {
namespace {

using weir_test::TestSeed;

// ---- a recording terminal -------------------------------------------------------------------

class Recorder final : public Operator {
 public:
  explicit Recorder(std::vector<std::string>* log) : log_(log) {}
  Status Push(const RecordBatch& b) override {
    const Op* ops = b.ops();
    for (int64_t i = 0; i < b.num_rows(); ++i) {
      std::string row = ops ? (ops[i] == Op::kDelete ? "- " : "+ ") : "  ";
      for (size_t c = 0; c < b.num_columns(); ++c) row += (c ? ", " : "") + b.column(c)->ValueToString(i);
      log_->push_back(std::move(row));
    }
    return Status::OK();
  }
  Status OnWatermark(int64_t wm) override {
    log_->push_back("wm " + std::to_string(wm));
    return Status::OK();
  }
  Status Finish() override {
    log_->push_back("finish");
    return Status::OK();
  }
  std::string Describe() const override { return "Recorder"; }

 private:
  std::vector<std::string>* log_;
};

// ---- a tiny catalog and a driver ---------------------------------------------------------------

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kBoundUs = 2 * kSecond;  // watermark = max ts - 2 s

struct Relation {
  std::string name;
  SchemaPtr schema;
  ObjectKind kind = ObjectKind::kSource;
  int ts_column = -1;  // watermark column (sources)
};

std::vector<Relation> Catalog() {
  std::vector<Relation> rels;
  rels.push_back({"ev",
                  std::make_shared<Schema>(std::vector<Field>{{"k", DataType::Int64(), true},
                                                              {"s", DataType::Varchar(), true},
                                                              {"v", DataType::Int64(), true},
                                                              {"d", DataType::Double(), true},
                                                              {"ts", DataType::Timestamp(), false}}),
                  ObjectKind::kSource, 4});
  rels.push_back({"ev2",
                  std::make_shared<Schema>(std::vector<Field>{{"k", DataType::Int64(), true},
                                                              {"w", DataType::Varchar(), true},
                                                              {"ts", DataType::Timestamp(), false}}),
                  ObjectKind::kSource, 2});
  rels.push_back({"tab",
                  std::make_shared<Schema>(std::vector<Field>{{"k", DataType::Int64(), false},
                                                              {"name", DataType::Varchar(), true}}),
                  ObjectKind::kTable, -1});
  return rels;
}

struct Event {
  size_t relation;
  std::shared_ptr<RecordBatch> batch;
  int64_t watermark_us;  // after the batch (kNoWatermark: none)
};

struct QueryOptions {
  bool emit_on_window_close = false;
  int64_t allowed_lateness_us = 0;
};

Result<std::unique_ptr<Pipeline>> Build(const std::string& sql, const QueryOptions& qo,
                                        std::vector<std::string>* log) {
  static const std::vector<Relation> rels = Catalog();
  LineMap lines(sql);
  WEIR_ASSIGN_OR_RETURN(PgParseTree tree, PgParseTree::Parse(sql, 0, lines));
  BindContext ctx;
  ctx.lines = &lines;
  ctx.asof_relations = tree.asof_relations();
  ctx.lookup_relations = tree.lookup_relations();
  ctx.lookup = [&](std::string_view name) -> std::optional<RelationRef> {
    for (const Relation& r : rels) {
      if (r.name != name) continue;
      RelationRef ref{r.name, r.kind, r.schema, r.ts_column, nullptr, r.kind != ObjectKind::kTable, {}};
      if (r.ts_column >= 0) {
        const std::string expr = r.schema->field(static_cast<size_t>(r.ts_column)).name + " - INTERVAL '2' SECOND";
        LineMap el(expr);
        auto wm = BindStandaloneExpr(expr, 0, *r.schema, el);
        if (!wm.ok()) return std::nullopt;
        ref.watermark_expr = *wm;
      }
      return ref;
    }
    return std::nullopt;
  };
  WEIR_ASSIGN_OR_RETURN(PlanPtr plan, BindQuery(tree.statement(), ctx));
  WEIR_RETURN_IF_ERROR(ConfigureStreaming(plan, false, qo.emit_on_window_close, qo.allowed_lateness_us, ""));
  WEIR_ASSIGN_OR_RETURN(plan, OptimizePlan(plan));
  return BuildPipeline(plan, std::make_unique<Recorder>(log));
}

/// Feeds events [begin, end) into `p` (and, with `finish`, the end of every stream).
class Driver {
 public:
  explicit Driver(Pipeline* p) : p_(p) {
    const std::vector<Relation> rels = Catalog();
    entries_.resize(rels.size());
    for (ScanInput& s : p->scans) {
      for (size_t r = 0; r < rels.size(); ++r) {
        if (rels[r].name != s.relation) continue;
        std::vector<int> all(rels[r].schema->num_fields());
        for (size_t c = 0; c < all.size(); ++c) all[c] = static_cast<int>(c);
        entries_[r].push_back(s.Attach(all));
      }
    }
  }
  Status Run(const std::vector<Event>& events, size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const Event& e = events[i];
      for (Operator* op : entries_[e.relation]) {
        WEIR_RETURN_IF_ERROR(op->Push(*e.batch));
        if (e.watermark_us != Operator::kNoWatermark) WEIR_RETURN_IF_ERROR(op->PushWatermark(e.watermark_us));
      }
    }
    return Status::OK();
  }
  Status Finish() {
    const std::vector<Relation> rels = Catalog();
    for (size_t r = 0; r < rels.size(); ++r) {
      if (rels[r].kind == ObjectKind::kTable) continue;  // a table never finishes
      for (Operator* op : entries_[r]) {
        WEIR_RETURN_IF_ERROR(op->PushWatermark(Operator::kFinalWatermark));
        WEIR_RETURN_IF_ERROR(op->Finish());
      }
    }
    return Status::OK();
  }

 private:
  Pipeline* p_;
  std::vector<std::vector<Operator*>> entries_;
};

// ---- randomized input ------------------------------------------------------------------------

std::string RandomString(std::mt19937_64& rng) {
  static const char* kWords[] = {"a", "bb", "short", "exactly-16-bytes", "a string longer than sixteen bytes",
                                 "another fairly long string value for the key arena", "zz", ""};
  return kWords[rng() % 8];
}

/// `batches` batches over ev, ev2 and tab, batch sizes up to `rows_max`; event times advance
/// with jitter (some rows late), a few NULLs, the table gets inserts and deletes.
std::vector<Event> RandomEvents(uint64_t seed, int batches, int rows_max) {
  std::mt19937_64 rng(seed);
  const std::vector<Relation> rels = Catalog();
  std::vector<Event> events;
  int64_t clock = 1'700'000'000LL * kSecond;
  int64_t max_ts[2] = {INT64_MIN, INT64_MIN};
  std::vector<std::pair<int64_t, std::string>> table_rows;  // present rows of tab
  int64_t next_tab_key = 0;
  for (int b = 0; b < batches; ++b) {
    Event e;
    const uint64_t pick = rng() % 10;
    e.relation = pick < 5 ? 0 : pick < 8 ? 1 : 2;
    const Schema& schema = *rels[e.relation].schema;
    e.batch = std::make_shared<RecordBatch>(rels[e.relation].schema);
    for (const Field& f : schema.fields()) e.batch->columns().push_back(std::make_shared<Column>(f.type));
    const int n = 1 + static_cast<int>(rng() % static_cast<uint64_t>(rows_max));
    auto& c = e.batch->columns();
    if (e.relation == 2) {
      Op* ops = nullptr;
      std::vector<Op> opv;
      for (int i = 0; i < n; ++i) {
        const bool del = !table_rows.empty() && rng() % 3 == 0;
        if (del) {
          const size_t at = rng() % table_rows.size();
          c[0]->Append<int64_t>(table_rows[at].first);
          c[1]->AppendString(table_rows[at].second);
          table_rows.erase(table_rows.begin() + static_cast<std::ptrdiff_t>(at));
          opv.push_back(Op::kDelete);
        } else {
          const int64_t k = next_tab_key++ % 24;
          bool taken = false;
          for (const auto& r : table_rows) taken |= r.first == k;
          if (taken) continue;
          std::string name = RandomString(rng);
          c[0]->Append<int64_t>(k);
          c[1]->AppendString(name);
          table_rows.push_back({k, name});
          opv.push_back(Op::kInsert);
        }
      }
      e.batch->set_num_rows(static_cast<int64_t>(opv.size()));
      if (opv.empty()) continue;
      ops = e.batch->EnableOps();
      std::copy(opv.begin(), opv.end(), ops);
      e.watermark_us = Operator::kNoWatermark;
      events.push_back(std::move(e));
      continue;
    }
    const int src = static_cast<int>(e.relation);
    for (int i = 0; i < n; ++i) {
      clock += static_cast<int64_t>(rng() % 700'000);
      const int64_t jitter = rng() % 8 == 0 ? -static_cast<int64_t>(rng() % (6 * kSecond)) : 0;
      const int64_t ts = clock + jitter;
      max_ts[src] = std::max(max_ts[src], ts);
      if (rng() % 17 == 0) c[0]->AppendNull(); else c[0]->Append<int64_t>(static_cast<int64_t>(rng() % 12));
      if (e.relation == 0) {
        if (rng() % 13 == 0) c[1]->AppendNull(); else c[1]->AppendString(RandomString(rng));
        c[2]->Append<int64_t>(static_cast<int64_t>(rng() % 1000) - 100);
        c[3]->Append<double>(static_cast<double>(rng() % 10000) / 7.0);
        c[4]->Append<int64_t>(ts);
      } else {
        c[1]->AppendString(RandomString(rng));
        c[2]->Append<int64_t>(ts);
      }
    }
    e.batch->set_num_rows(n);
    e.watermark_us = max_ts[src] - kBoundUs;
    events.push_back(std::move(e));
  }
  return events;
}

// ---- the check -------------------------------------------------------------------------------

std::string Snapshot(const Pipeline& p) {
  StateWriter w;
  Status st = p.SnapshotState(&w);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return w.buffer();
}

/// The uninterrupted run vs. runs cut (snapshot, fresh pipeline, restore) at several batches.
void CheckCuts(const std::string& sql, const QueryOptions& qo = {}) {
  SCOPED_TRACE(sql);
  for (int rows_max : {1, 7, 60}) {
    const uint64_t seed = TestSeed() ^ (std::hash<std::string>()(sql) + static_cast<uint64_t>(rows_max));
    const int batches = rows_max == 1 ? 240 : 120;
    const std::vector<Event> events = RandomEvents(seed, batches, rows_max);
    SCOPED_TRACE("rows_max " + std::to_string(rows_max));

    std::vector<std::string> full;
    std::vector<size_t> pos;  // log size before event i (and before Finish)
    {
      auto p = Build(sql, qo, &full);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      Driver d(p->get());
      for (size_t i = 0; i < events.size(); ++i) {
        pos.push_back(full.size());
        ASSERT_OK(d.Run(events, i, i + 1));
      }
      pos.push_back(full.size());
      ASSERT_OK(d.Finish());
    }
    std::mt19937_64 rng(seed);
    std::vector<size_t> cuts = {0, events.size() / 2, events.size()};
    for (int k = 0; k < 4; ++k) cuts.push_back(rng() % (events.size() + 1));
    for (size_t cut : cuts) {
      SCOPED_TRACE("cut at event " + std::to_string(cut));
      std::vector<std::string> before, after;
      auto a = Build(sql, qo, &before);
      ASSERT_TRUE(a.ok());
      Driver da(a->get());
      ASSERT_OK(da.Run(events, 0, cut));
      const std::string bytes = Snapshot(**a);

      auto b = Build(sql, qo, &after);
      ASSERT_TRUE(b.ok());
      StateReader r(bytes, "test checkpoint");
      ASSERT_OK((*b)->RestoreState(&r));
      ASSERT_TRUE(r.at_end());
      const std::string again = Snapshot(**b);
      ASSERT_TRUE(again == bytes) << "re-snapshot of the restored pipeline differs at byte "
                                  << (std::mismatch(again.begin(), again.end(), bytes.begin(), bytes.end()).first -
                                      again.begin())
                                  << " of " << bytes.size();
      Driver db(b->get());
      ASSERT_OK(db.Run(events, cut, events.size()));
      ASSERT_OK(db.Finish());
      const std::vector<std::string> want(full.begin() + static_cast<std::ptrdiff_t>(pos[cut]), full.end());
      ASSERT_EQ(after.size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) ASSERT_EQ(after[i], want[i]) << "output line " << i << " after the cut";
    }
  }
}

// ---- SQL: every stateful operator kind ----------------------------------------------------------

TEST(OperatorSnapshot, AggregateOnUpdate) {
  CheckCuts("SELECT k, count(*) AS n, sum(v) AS total, avg(d) AS mean, min(s) AS lo, max(s) AS hi, "
            "count(DISTINCT v % 7) AS dv, sum(DISTINCT v) AS sdv FROM ev GROUP BY k");
  CheckCuts("SELECT count(*) AS n, max(v) AS m, min(d) AS md FROM ev");
  CheckCuts("SELECT s, count(*) AS n, sum(d) AS sd FROM ev GROUP BY s");
}

TEST(OperatorSnapshot, AggregateOverChangelog) {
  // The outer aggregation retracts: retractable min/max multisets, 128-bit sums, DOUBLE sums.
  CheckCuts("SELECT n % 3 AS b, max(n) AS mx, min(name) AS mn, sum(n) AS sn, avg(n) AS an, count(*) AS c "
            "FROM (SELECT k, count(*) AS n, max(s) AS name FROM ev GROUP BY k) AS t GROUP BY n % 3");
  CheckCuts("SELECT name, count(*) AS c, max(k) AS mk FROM tab GROUP BY name");
}

TEST(OperatorSnapshot, WindowedAggregates) {
  QueryOptions close;
  close.emit_on_window_close = true;
  CheckCuts("SELECT k, window_start, window_end, count(*) AS n, max(s) AS ms, sum(d) AS sd "
            "FROM TUMBLE(ev, ts, INTERVAL '3' SECOND) GROUP BY k, window_start, window_end", close);
  CheckCuts("SELECT k, window_start, count(*) AS n, min(v) AS mv, count(DISTINCT s) AS ds "
            "FROM HOP(ev, ts, INTERVAL '1' SECOND, INTERVAL '4' SECOND) GROUP BY k, window_start, window_end",
            close);
  CheckCuts("SELECT k, window_start, window_end, count(*) AS n, sum(v) AS sv "
            "FROM TUMBLE(ev, ts, INTERVAL '2' SECOND) GROUP BY k, window_start, window_end");
  QueryOptions late = close;
  late.allowed_lateness_us = kSecond;
  CheckCuts("SELECT k, window_start, count(*) AS n FROM TUMBLE(ev, ts, INTERVAL '2' SECOND) "
            "GROUP BY k, window_start, window_end", late);
}

TEST(OperatorSnapshot, SessionWindows) {
  QueryOptions close;
  close.emit_on_window_close = true;
  CheckCuts("SELECT k, window_start, window_end, count(*) AS n, max(s) AS ms, sum(v) AS sv "
            "FROM SESSION(ev, ts, INTERVAL '2' SECOND) GROUP BY k, window_start, window_end", close);
  CheckCuts("SELECT k, window_start, window_end, count(*) AS n, min(s) AS ms, avg(d) AS ad "
            "FROM SESSION(ev, ts, INTERVAL '2' SECOND) GROUP BY k, window_start, window_end");
}

TEST(OperatorSnapshot, HashJoins) {
  CheckCuts("SELECT e.k, e.s, e.v, f.w FROM ev AS e JOIN ev2 AS f ON e.k = f.k AND e.v % 3 <> 1");
  CheckCuts("SELECT e.k, e.v, t.name FROM ev AS e LEFT JOIN tab AS t ON e.k = t.k");
  CheckCuts("SELECT e.k, e.v, t.name FROM ev AS e FULL JOIN tab AS t ON e.k = t.k");
  CheckCuts("SELECT t.k, t.name FROM tab AS t WHERE EXISTS (SELECT 1 FROM ev AS e WHERE e.k = t.k)");
  CheckCuts("SELECT t.k, t.name FROM tab AS t WHERE NOT EXISTS (SELECT 1 FROM ev2 AS e WHERE e.k = t.k)");
}

TEST(OperatorSnapshot, IntervalJoinWithExpiry) {
  CheckCuts("SELECT e.k, e.v, f.w, f.ts FROM ev AS e JOIN ev2 AS f ON e.k = f.k "
            "AND f.ts BETWEEN e.ts - INTERVAL '3' SECOND AND e.ts + INTERVAL '1' SECOND");
}

TEST(OperatorSnapshot, AsofJoin) {
  CheckCuts("SELECT e.k, e.v, e.ts, f.w FROM ev AS e ASOF JOIN ev2 AS f ON e.k = f.k AND e.ts >= f.ts");
  CheckCuts("SELECT e.k, e.v, f.w FROM ev AS e ASOF LEFT JOIN ev2 AS f ON e.k = f.k AND e.ts > f.ts");
}

TEST(OperatorSnapshot, TopN) {
  // Append-only Top-3, dedup (N = 1), and retracting Top-2 over an aggregate.
  CheckCuts("SELECT * FROM (SELECT k, s, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn FROM ev) t "
            "WHERE rn <= 3");
  CheckCuts("SELECT * FROM (SELECT k, s, ts, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts) AS rn FROM ev) t "
            "WHERE rn = 1");
  CheckCuts("SELECT * FROM (SELECT b, k, n, ROW_NUMBER() OVER (PARTITION BY b ORDER BY n DESC, k) AS rn "
            "FROM (SELECT k % 3 AS b, k, count(*) AS n FROM ev GROUP BY k) a) t WHERE rn <= 2");
  CheckCuts("SELECT * FROM (SELECT name, k, ROW_NUMBER() OVER (PARTITION BY name ORDER BY k) AS rn FROM tab) t "
            "WHERE rn <= 2");
}

TEST(OperatorSnapshot, UnionAll) {
  CheckCuts("SELECT k, count(*) AS n FROM (SELECT k, ts FROM ev UNION ALL SELECT k, ts FROM ev2) u GROUP BY k");
}

// ---- mismatches and corruption -----------------------------------------------------------------

TEST(OperatorSnapshot, DifferentSqlIsAClearError) {
  std::vector<std::string> log;
  auto a = Build("SELECT k, count(*) AS n FROM ev GROUP BY k", {}, &log);
  auto b = Build("SELECT * FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v) AS rn FROM ev) t "
                 "WHERE rn <= 2", {}, &log);
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string bytes = Snapshot(**a);
  StateReader r(bytes, "checkpoint 1");
  Status st = (*b)->RestoreState(&r);
  ASSERT_EQ(st.code(), StatusCode::kDataError);
  EXPECT_NE(st.message().find("state does not match the pipeline"), std::string::npos) << st.ToString();
}

/// Truncations and byte flips of real snapshots: Restore returns OK or kDataError, never
/// crashes or allocates unboundedly (run under ASan).
TEST(OperatorSnapshot, CorruptSnapshotsFailCleanly) {
  const std::vector<std::pair<std::string, QueryOptions>> queries = {
      {"SELECT k, count(*) AS n, min(s) AS lo, count(DISTINCT v) AS dv FROM ev GROUP BY k", {}},
      {"SELECT n % 3 AS b, max(name) AS mx FROM (SELECT k, count(*) AS n, max(s) AS name FROM ev GROUP BY k) t "
       "GROUP BY n % 3", {}},
      {"SELECT k, window_start, window_end, count(*) AS n, max(s) AS ms FROM SESSION(ev, ts, INTERVAL '2' SECOND) "
       "GROUP BY k, window_start, window_end", {true, 0}},
      {"SELECT e.k, e.s, f.w FROM ev AS e JOIN ev2 AS f ON e.k = f.k", {}},
      {"SELECT e.k, e.v, f.w FROM ev AS e ASOF JOIN ev2 AS f ON e.k = f.k AND e.ts >= f.ts", {}},
      {"SELECT * FROM (SELECT k, s, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn FROM ev) t "
       "WHERE rn <= 3", {}},
      {"SELECT * FROM (SELECT name, k, ROW_NUMBER() OVER (PARTITION BY name ORDER BY k) AS rn FROM tab) t "
       "WHERE rn <= 2", {}},
  };
  std::mt19937_64 rng(TestSeed() + 7);
  for (const auto& [sql, qo] : queries) {
    SCOPED_TRACE(sql);
    const std::vector<Event> events = RandomEvents(rng(), 80, 20);
    std::vector<std::string> log;
    auto a = Build(sql, qo, &log);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    Driver d(a->get());
    ASSERT_OK(d.Run(events, 0, events.size()));
    const std::string bytes = Snapshot(**a);
    int rejected = 0;
    for (int trial = 0; trial < 300; ++trial) {
      std::string bad = bytes;
      if (trial % 3 == 0) {
        bad.resize(rng() % bytes.size());
      } else {
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
      }
      auto b = Build(sql, qo, &log);
      ASSERT_TRUE(b.ok());
      StateReader r(bad, "corrupt checkpoint");
      Status st = (*b)->RestoreState(&r);
      if (!st.ok()) {
        ASSERT_EQ(st.code(), StatusCode::kDataError) << st.ToString();
        ++rejected;
      }
    }
    EXPECT_GT(rejected, 100);  // every truncation at least
  }
}

// ---- state structures directly ---------------------------------------------------------------

TEST(HashTableSnapshot, RoundTripIsStructurallyIdentical) {
  std::mt19937_64 rng(TestSeed() + 11);
  for (uint32_t fixed : {0u, 9u}) {
    HashTable t(16, fixed);
    auto key_of = [&](uint64_t k, std::string* out) {
      *out = fixed ? std::string(9, '\0') : std::string(static_cast<size_t>(k % 40), 'x');
      std::memcpy(out->data(), &k, std::min<size_t>(8, out->size()));
      if (!fixed && out->size() < 8) *out += std::to_string(k);
    };
    std::string key;
    for (int i = 0; i < 20000; ++i) {
      const uint64_t k = rng() % 5000;
      key_of(k, &key);
      const uint64_t h = HashBytes(key.data(), key.size());
      if (rng() % 3 == 0) {
        t.Erase(reinterpret_cast<const uint8_t*>(key.data()), static_cast<uint32_t>(key.size()), h);
      } else {
        uint8_t* p = t.FindOrInsert(reinterpret_cast<const uint8_t*>(key.data()), static_cast<uint32_t>(key.size()), h,
                                    nullptr);
        ++*reinterpret_cast<int64_t*>(p);
      }
    }
    StateWriter w;
    t.Snapshot(&w);
    HashTable u(16, fixed);
    StateReader r(w.buffer(), "table");
    ASSERT_OK(u.Restore(&r));
    ASSERT_TRUE(r.at_end());
    EXPECT_EQ(u.size(), t.size());
    EXPECT_EQ(u.capacity(), t.capacity());
    EXPECT_EQ(u.arena_bytes(), t.arena_bytes());
    EXPECT_EQ(u.arena_dead_bytes(), t.arena_dead_bytes());
    std::vector<std::string> a, b;
    t.ForEach([&](const uint8_t* k, uint32_t n, uint8_t* p) {
      a.push_back(std::string(reinterpret_cast<const char*>(k), n) + std::to_string(*reinterpret_cast<int64_t*>(p)));
    });
    u.ForEach([&](const uint8_t* k, uint32_t n, uint8_t* p) {
      b.push_back(std::string(reinterpret_cast<const char*>(k), n) + std::to_string(*reinterpret_cast<int64_t*>(p)));
    });
    EXPECT_EQ(a, b);
    StateWriter w2;
    u.Snapshot(&w2);
    EXPECT_TRUE(w2.buffer() == w.buffer());
    // A table of another layout refuses the bytes.
    HashTable other(24, fixed);
    StateReader r2(w.buffer(), "table");
    EXPECT_EQ(other.Restore(&r2).code(), StatusCode::kDataError);
  }
}

TEST(TableSnapshot, RowsAndKeyIndexResume) {
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"k", DataType::Int64(), false}, {"s", DataType::Varchar(), true}});
  TableStorage t("t", schema, {0});
  std::mt19937_64 rng(TestSeed() + 13);
  RecordBatch rows(schema);
  rows.columns() = {std::make_shared<Column>(DataType::Int64()), std::make_shared<Column>(DataType::Varchar())};
  for (int64_t i = 0; i < 10000; ++i) {
    rows.columns()[0]->Append<int64_t>(i);
    if (i % 7 == 0) rows.columns()[1]->AppendNull(); else rows.columns()[1]->AppendString(std::string(static_cast<size_t>(i % 30), 'q'));
  }
  rows.set_num_rows(10000);
  ASSERT_OK(t.Insert(rows, false, nullptr));
  StateWriter w;
  t.SnapshotState(&w);
  TableStorage u("t", schema, {0});
  StateReader r(w.buffer(), "table t");
  ASSERT_OK(u.RestoreState(&r));
  EXPECT_EQ(u.num_rows(), 10000);
  // The key index came back: a duplicate key is refused, a new one accepted.
  RecordBatch one(schema);
  one.columns() = {std::make_shared<Column>(DataType::Int64()), std::make_shared<Column>(DataType::Varchar())};
  one.columns()[0]->Append<int64_t>(42);
  one.columns()[1]->AppendString("x");
  one.set_num_rows(1);
  EXPECT_EQ(u.Insert(one, false, nullptr).code(), StatusCode::kDataError);
  one.columns()[0]->ResetEmpty();
  one.columns()[0]->Append<int64_t>(123456);
  ASSERT_OK(u.Insert(one, false, nullptr));
  StateWriter w2;
  t.SnapshotState(&w2);
  EXPECT_TRUE(w2.buffer() == w.buffer());
  // Truncated: kDataError and an empty table.
  for (size_t cut : {size_t{0}, w.size() / 3, w.size() - 1}) {
    TableStorage v("t", schema, {0});
    StateReader rr(std::string_view(w.buffer()).substr(0, cut), "table t");
    EXPECT_EQ(v.RestoreState(&rr).code(), StatusCode::kDataError);
    EXPECT_EQ(v.num_rows(), 0);
  }
}

}  // namespace
}  // namespace weir
