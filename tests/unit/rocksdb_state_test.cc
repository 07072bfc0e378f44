// The RocksDB state backend end to end (Database API): the same high-cardinality GROUP BY with
// `state_backend = 'memory'` and `'rocksdb'` (a tiny cache, so nearly every group lives in
// RocksDB and the cache is written back and emptied many times) must give identical results —
// over an append-only source, over a table changed by UPDATE / DELETE (retractions, retractable
// and VARCHAR min/max with out-of-line state), as a view and as a snapshot query — and a
// restart after a "crash" (the Database destroyed with changes past the last checkpoint) must
// end with the same result as an uninterrupted run.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "db_test_util.h"
#include "test_util.h"
#include "weir/database.h"

namespace weir {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kRows = 400000;
constexpr int64_t kGroups = 250000;  // ~200k distinct groups appear

std::string Exec(Database& db, const std::string& sql) { return weir_test::ExecRows(db, sql); }

// Compares two large results; on a difference reports sizes and the first differing line
// (gtest's diff of strings this long would take minutes and gigabytes).
::testing::AssertionResult SameText(const std::string& a, const std::string& b) {
  if (a == b) return ::testing::AssertionSuccess();
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  const size_t line = a.rfind('\n', i == 0 ? 0 : i - 1);
  const size_t from = line == std::string::npos ? 0 : line + 1;
  return ::testing::AssertionFailure() << "results differ (" << a.size() << " vs " << b.size()
                                       << " bytes) at line " << std::count(a.begin(), a.begin() + static_cast<long>(from), '\n') + 1
                                       << ":\n  " << a.substr(from, a.find('\n', from) - from) << "\n  "
                                       << b.substr(from, b.find('\n', from) - from);
}

// id, g (group), v (value, some NULL), s (a short string)
void WriteInput(const fs::path& path) {
  std::mt19937_64 rng(42);
  std::ofstream f(path);
  f << "id,g,v,s\n";
  for (int64_t i = 0; i < kRows; ++i) {
    const int64_t g = static_cast<int64_t>(rng() % kGroups);
    f << i << "," << g << ",";
    if (rng() % 10 != 0) f << static_cast<int64_t>(rng() % 2000001) - 1000000;
    f << ",s" << rng() % 1000 << "\n";
  }
}

std::string Settings(const std::string& backend) {
  return "SET state_backend = '" + backend + "';\nSET state_cache_size = '256KB';\n";
}

std::string Source(const fs::path& csv) {
  return "CREATE SOURCE src (id BIGINT, g BIGINT, v BIGINT, s VARCHAR) WITH (connector = 'file', path = '" +
         csv.string() + "', format = 'csv', header = 'true');\n";
}

class RocksdbState : public ::testing::Test {
 protected:
  void SetUp() override {
    csv_ = fs::path(dir_.path()) / "in.csv";
    WriteInput(csv_);
  }
  weir_test::TempDir dir_{"weir_rocksdb_state_test", /*in_memory=*/false};
  fs::path csv_;
};

TEST_F(RocksdbState, AppendOnlyGroupByMatchesMemory) {
  const std::string script =
      Source(csv_) +
      "CREATE MATERIALIZED VIEW agg AS SELECT g, count(*) AS n, count(v) AS nv, sum(v) AS sv, avg(v) AS av, "
      "min(v) AS lo, max(v) AS hi, min(s) AS ls, max(s) AS hs FROM src GROUP BY g;\n"
      "SELECT * FROM agg ORDER BY g;\n"
      "SELECT g % 1000 AS h, count(*), sum(v), max(v) FROM src GROUP BY g % 1000 ORDER BY h;\n"
      "SELECT count(*), sum(v), min(v) FROM src;\n";
  std::string results[2];
  int64_t state_bytes[2] = {0, 0};
  const char* backends[2] = {"memory", "rocksdb"};
  for (int b = 0; b < 2; ++b) {
    Database db;
    results[b] = Exec(db, Settings(backends[b]) + script);
    const RunStats st = db.stats();
    ASSERT_EQ(st.views.size(), 1u);
    state_bytes[b] = st.views[0].state_bytes;
    EXPECT_GT(st.views[0].state_groups, 150000);
  }
  // Nearly all of the ~200k groups live in RocksDB: the cache holds one batch's groups (the
  // floor: a batch's payload pointers must be valid together), far below the memory backend.
  EXPECT_GT(state_bytes[1], 0);
  EXPECT_LT(state_bytes[1] * 20, state_bytes[0]);
  EXPECT_GT(std::count(results[0].begin(), results[0].end(), '\n'), 150000);
  EXPECT_TRUE(SameText(results[0], results[1]));
}

TEST_F(RocksdbState, ChangelogGroupByMatchesMemory) {
  // A table as input: UPDATE and DELETE retract rows, groups empty and come back.
  const std::string script =
      Source(csv_) +
      "CREATE TABLE t (id BIGINT PRIMARY KEY, g BIGINT, v BIGINT, s VARCHAR);\n"
      "CREATE MATERIALIZED VIEW agg AS SELECT g, count(*) AS n, sum(v) AS sv, avg(v) AS av, min(v) AS lo, "
      "max(v) AS hi, max(s) AS hs FROM t GROUP BY g;\n"
      "INSERT INTO t SELECT id, g, v, s FROM src;\n"
      "SELECT count(*), sum(n) FROM agg;\n"
      "UPDATE t SET v = v + 7, s = 'u' || s WHERE id % 3 = 0;\n"
      "DELETE FROM t WHERE g % 5 = 1 OR id % 7 = 0;\n"
      "INSERT INTO t VALUES (10000000, 1, 5, 'back'), (10000001, 6, NULL, 'x');\n"
      "SELECT * FROM agg ORDER BY g;\n"
      "SELECT g, count(*), min(v), max(v), min(s) FROM t GROUP BY g ORDER BY g;\n";
  std::string results[2];
  const char* backends[2] = {"memory", "rocksdb"};
  for (int b = 0; b < 2; ++b) {
    Database db;
    results[b] = Exec(db, Settings(backends[b]) + script);
  }
  EXPECT_GT(std::count(results[0].begin(), results[0].end(), '\n'), 150000);
  EXPECT_NE(results[0].find("\n1,1,5,5,5,5,back\n"), std::string::npos) << "group 1 came back with one row";
  EXPECT_TRUE(SameText(results[0], results[1]));
}

TEST_F(RocksdbState, RestartAfterCrashMatchesUninterruptedRun) {
  const std::string prefix =
      Settings("rocksdb") + Source(csv_) +
      "CREATE TABLE t (id BIGINT PRIMARY KEY, g BIGINT, v BIGINT, s VARCHAR);\n"
      "CREATE MATERIALIZED VIEW agg AS SELECT g, count(*) AS n, sum(v) AS sv, min(v) AS lo, max(s) AS hs "
      "FROM t GROUP BY g;\n"
      "CREATE MATERIALIZED VIEW agg2 AS SELECT g % 100 AS h, count(*) AS n, max(v) AS hi FROM t GROUP BY g % 100;\n"
      "INSERT INTO t SELECT id, g, v, s FROM src;\n"
      "SELECT count(*) FROM agg;\n";  // runs the pipelines: a checkpoint covers all of this
  const std::string rest =
      "UPDATE t SET v = v - 3 WHERE id % 4 = 0;\n"
      "DELETE FROM t WHERE g % 9 = 2;\n";
  const std::string check = "SELECT * FROM agg ORDER BY g;\nSELECT * FROM agg2 ORDER BY h;\n";

  std::string expected;
  {
    Database db;  // uninterrupted, in memory
    Exec(db, prefix + rest);
    expected = Exec(db, check);
  }
  DatabaseOptions o;
  o.state_dir = (fs::path(dir_.path()) / "state").string();
  const std::string early = (fs::path(dir_.path()) / "early").string();
  {
    Database db(o);
    Exec(db, prefix);
    EXPECT_GT(db.stats().checkpoints.checkpoints, 0);
    // What a crash right after the prefix leaves on disk (the checkpoint is durable when the
    // statement returns): the UPDATE / DELETE below are not in it.
    fs::copy(o.state_dir, early, fs::copy_options::recursive);
    Exec(db, rest);
  }  // "crash"
  // The checkpoint's RocksDB state is a directory of hard links next to the checkpoints.
  bool found_ckpt = false;
  for (const auto& e : fs::directory_iterator(early + "/rocksdb"))
    found_ckpt |= e.path().filename().string().rfind("ckpt-", 0) == 0;
  EXPECT_TRUE(found_ckpt);
  for (const std::string& state_dir : {early, o.state_dir}) {
    SCOPED_TRACE(state_dir);
    DatabaseOptions restart = o;
    restart.state_dir = state_dir;
    {
      Database db(restart);
      Exec(db, prefix + rest);  // from `early`: restores the prefix's state, re-executes the rest
      EXPECT_GT(db.stats().checkpoints.restored_epoch, 0u);
      EXPECT_TRUE(SameText(expected, Exec(db, check)));
    }
    // And once more from the checkpoints of the restarted run.
    Database db(restart);
    Exec(db, prefix + rest);
    EXPECT_TRUE(SameText(expected, Exec(db, check)));
    // Only the kept checkpoints' RocksDB directories remain (the store keeps 3).
    int ckpt_dirs = 0;
    for (const auto& e : fs::directory_iterator(state_dir + "/rocksdb"))
      ckpt_dirs += e.path().filename().string().rfind("ckpt-", 0) == 0;
    EXPECT_GE(ckpt_dirs, 1);
    EXPECT_LE(ckpt_dirs, 3);
  }
}

TEST_F(RocksdbState, SettingsAndRefusals) {
  Database db;
  Status st = db.Execute("SET state_backend = 'disk';", [](const StatementResult&) { return Status::OK(); });
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("'disk'"), std::string::npos) << st.ToString();
  st = db.Execute("SET state_cache_size = '12 parsecs';", [](const StatementResult&) { return Status::OK(); });
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  st = db.Execute(Settings("rocksdb") + Source(csv_) +
                      "CREATE MATERIALIZED VIEW d AS SELECT g, count(DISTINCT v) FROM src GROUP BY g;",
                  [](const StatementResult&) { return Status::OK(); });
  EXPECT_EQ(st.code(), StatusCode::kNotSupported);
  EXPECT_NE(st.message().find("DISTINCT"), std::string::npos) << st.ToString();
  // Windowed aggregations keep the in-memory table (no error); EXPLAIN shows which backend.
  std::string plan;
  st = db.Execute("EXPLAIN CREATE MATERIALIZED VIEW e AS SELECT g, count(*) FROM src GROUP BY g;",
                  [&](const StatementResult& r) {
                    if (r.rows)
                      for (const auto& c : r.rows->chunks())
                        for (int64_t i = 0; i < c->num_rows(); ++i) plan += c->column(0)->ValueToString(i) + "\n";
                    return Status::OK();
                  });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_NE(plan.find("state=rocksdb"), std::string::npos) << plan;
}

}  // namespace
}  // namespace weir
