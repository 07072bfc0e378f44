// Durability through the Database API: --state-dir checkpoints, the table log (WAL) and
// restarts (a Database destroyed without a final checkpoint stands for a crash).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "db_test_util.h"
#include "test_util.h"
#include "storage/checkpoint_store.h"
#include "weir/database.h"

namespace weir {
namespace {

namespace fs = std::filesystem;

void WriteFile(const fs::path& p, const std::string& text) {
  std::ofstream f(p);
  f << text;
}

// Executes `sql`; returns the CSV-ish text of every SELECT result.
std::string Exec(Database& db, const std::string& sql) { return weir_test::ExecRows(db, sql); }

std::string Script(const fs::path& csv) {
  return "CREATE SOURCE src (k BIGINT, v BIGINT) WITH (connector = 'file', path = '" + csv.string() +
         "', format = 'csv', header = 'true');\n"
         "CREATE TABLE t (k BIGINT PRIMARY KEY, v BIGINT);\n"
         "CREATE MATERIALIZED VIEW total AS SELECT count(*) AS n, sum(v) AS s FROM t;\n"
         "INSERT INTO t SELECT k, v FROM src;\n"
         "INSERT INTO t VALUES (100, 1000);\n"
         "UPDATE t SET v = v + 1 WHERE k < 3;\n";
}

TEST(Durability, InsertsAreReplayedFromTheTableLogAfterACrash) {
  weir_test::TempDir dir("weir_durability_test");
  const fs::path csv = fs::path(dir.path()) / "in.csv";
  WriteFile(csv, "k,v\n1,10\n2,20\n3,30\n");
  DatabaseOptions o;
  o.state_dir = (fs::path(dir.path()) / "state").string();
  {
    Database db(o);
    Exec(db, Script(csv));  // no SELECT, no Run(): nothing checkpointed, only the log
  }                        // "crash"
  // The file the INSERT read has changed since: the logged rows must be used, not the file.
  WriteFile(csv, "k,v\n1,999\n7,70\n");
  Database db(o);
  Exec(db, Script(csv));
  EXPECT_EQ(Exec(db, "SELECT k, v FROM t ORDER BY k;"), "1,11\n2,21\n3,30\n100,1000\n");
  EXPECT_EQ(Exec(db, "SELECT n, s FROM total;"), "4,1062\n");
}

TEST(Durability, CheckpointedStatementsAreNotRepeated) {
  weir_test::TempDir dir("weir_durability_test");
  const fs::path csv = fs::path(dir.path()) / "in.csv";
  WriteFile(csv, "k,v\n1,10\n2,20\n");
  DatabaseOptions o;
  o.state_dir = (fs::path(dir.path()) / "state").string();
  const std::string script = Script(csv) + "SELECT n, s FROM total;\n";
  std::string first;
  {
    Database db(o);
    first = Exec(db, script);  // the SELECT runs the pipelines: a checkpoint covers everything
    EXPECT_EQ(first, "3,1032\n");
    EXPECT_GT(db.stats().checkpoints.checkpoints, 0);
  }
  Database db(o);
  EXPECT_EQ(Exec(db, script), first);  // not inserted twice, not updated twice
  EXPECT_GT(db.stats().checkpoints.restored_epoch, 0u);
}

TEST(Durability, ADifferentScriptIsRefused) {
  weir_test::TempDir dir("weir_durability_test");
  const fs::path csv = fs::path(dir.path()) / "in.csv";
  WriteFile(csv, "k,v\n1,10\n");
  DatabaseOptions o;
  o.state_dir = (fs::path(dir.path()) / "state").string();
  {
    Database db(o);
    Exec(db, Script(csv) + "SELECT n FROM total;\n");
  }
  Database db(o);
  std::string changed = Script(csv);
  changed.replace(changed.find("v + 1"), 5, "v + 2");
  Status st = db.Execute(changed + "SELECT n FROM total;\n", [](const StatementResult&) { return Status::OK(); });
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("written by a different script"), std::string::npos) << st.ToString();
}

// Forked (copy-on-write) and inline snapshots: the same results, byte-identical end-of-run
// checkpoints (the end of a run snapshots inline in both modes — nothing runs on that a fork
// would let go on; forked bytes vs inline bytes: forked_snapshot_test), and a restart from
// either continues the same way. Mid-run forked checkpoints: crash_soak.sh.
TEST(Durability, ForkedAndInlineSnapshotsWriteTheSameCheckpoint) {
  weir_test::TempDir dir("weir_durability_test");
  const fs::path csv = fs::path(dir.path()) / "in.csv";
  std::string rows = "k,v,s\n";
  for (int i = 0; i < 20000; ++i) rows += std::to_string(i % 1500) + "," + std::to_string(i) + ",s" + std::to_string(i * 7 % 1009) + "\n";
  WriteFile(csv, rows);
  const std::string script =
      "CREATE SOURCE src (k BIGINT, v BIGINT, s VARCHAR) WITH (connector = 'file', path = '" + csv.string() +
      "', format = 'csv', header = 'true');\n"
      "CREATE TABLE t (k BIGINT PRIMARY KEY, v BIGINT);\n"
      "INSERT INTO t VALUES (1, 10), (2, 20);\n"
      "CREATE MATERIALIZED VIEW g AS SELECT k, count(*) AS n, sum(v) AS total, max(s) AS top FROM src GROUP BY k;\n"
      "CREATE MATERIALIZED VIEW j AS SELECT g.k, g.n, t.v FROM g JOIN t ON g.k = t.k;\n"
      "SELECT count(*), sum(n), max(top) FROM g;\n"
      "SELECT * FROM j ORDER BY k;\n";
  std::map<std::string, std::string> blobs[2];
  std::string results[2];
  for (int mode = 0; mode < 2; ++mode) {
    DatabaseOptions o;
    o.state_dir = (fs::path(dir.path()) / ("state" + std::to_string(mode))).string();
    o.checkpoint_snapshot = mode == 0 ? CheckpointSnapshot::kFork : CheckpointSnapshot::kInline;
    {
      Database db(o);
      results[mode] = Exec(db, script);
    }
    auto store = CheckpointStore::Open(Env::Default(), o.state_dir + "/checkpoints");
    ASSERT_OK(store.status());
    ASSERT_TRUE((*store)->latest().has_value());
    auto read = (*store)->Read(*(*store)->latest());
    ASSERT_OK(read.status());
    blobs[mode] = std::move(read).value();
    Database again(o);  // restart: restored from the checkpoint, nothing re-read
    EXPECT_EQ(Exec(again, script), results[mode]);
    EXPECT_GT(again.stats().checkpoints.restored_epoch, 0u);
  }
  EXPECT_EQ(results[0], results[1]);
  EXPECT_EQ(results[0].substr(0, 16), "1500,20000,s999\n");
  ASSERT_EQ(blobs[0].size(), blobs[1].size());
  for (const auto& [name, bytes] : blobs[1]) {
    ASSERT_TRUE(blobs[0].count(name)) << name;
    size_t at = 0;
    while (at < bytes.size() && at < blobs[0][name].size() && blobs[0][name][at] == bytes[at]) ++at;
    EXPECT_TRUE(blobs[0][name] == bytes) << name << " differs between forked and inline snapshots at byte " << at
                                         << " of " << bytes.size() << "/" << blobs[0][name].size();
  }
  EXPECT_TRUE(blobs[0].count("pipeline/g"));
}

}  // namespace
}  // namespace weir
