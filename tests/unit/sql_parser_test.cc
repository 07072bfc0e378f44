#include <gtest/gtest.h>

#include "sql/statement.h"

namespace weir {
namespace {

Result<std::vector<Statement>> Parse(std::string_view sql) {
  static std::string keep;
  keep = std::string(sql);
  static std::unique_ptr<LineMap> lines;
  lines = std::make_unique<LineMap>(keep);
  return ParseScript(keep, *lines);
}

TEST(SqlParser, CreateSourceWithWatermarkAndOptions) {
  auto r = Parse(
      "CREATE SOURCE flights (\n"
      "  date TIMESTAMP, delay BIGINT, price DECIMAL(10, 2), name VARCHAR(20),\n"
      "  WATERMARK FOR date AS date - INTERVAL '5' MINUTE\n"
      ") WITH (connector = 'file', path = 'f.csv', header = true);");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  const Statement& s = (*r)[0];
  EXPECT_EQ(s.kind, StatementKind::kCreateSource);
  EXPECT_EQ(s.name, "flights");
  ASSERT_EQ(s.columns.size(), 4u);
  EXPECT_EQ(s.columns[2].type, DataType::Decimal(10, 2));
  EXPECT_EQ(s.columns[3].type, DataType::Varchar());
  ASSERT_TRUE(s.watermark.has_value());
  EXPECT_EQ(s.watermark->column, "date");
  EXPECT_EQ(s.watermark->expr, "date - INTERVAL '5' MINUTE");
  EXPECT_EQ(s.options.GetString("path"), "f.csv");
  EXPECT_EQ(s.options.GetString("header"), "true");
}

TEST(SqlParser, ViewWithEmitAndOptions) {
  auto r = Parse(
      "CREATE MATERIALIZED VIEW v WITH (allowed_lateness = '1 minute') AS\n"
      "SELECT a FROM t WHERE (b > 1) EMIT ON WINDOW CLOSE;\n"
      "CREATE MATERIALIZED VIEW w AS SELECT a FROM t");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Statement& v = (*r)[0];
  EXPECT_EQ(v.kind, StatementKind::kCreateMaterializedView);
  EXPECT_EQ(v.query, "SELECT a FROM t WHERE (b > 1)");
  EXPECT_EQ(v.emit, EmitMode::kOnWindowClose);
  EXPECT_EQ(v.options.GetString("allowed_lateness"), "1 minute");
  EXPECT_EQ((*r)[1].emit, EmitMode::kOnUpdate);
}

TEST(SqlParser, SinkFromAndAsQuery) {
  auto r = Parse(
      "CREATE SINK a FROM v WITH (connector = 'stdout');\n"
      "CREATE SINK b AS SELECT * FROM f WHERE x IN (SELECT 1) WITH (connector = 'file', path = 'o.csv');");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].from_name, "v");
  EXPECT_EQ((*r)[1].query, "SELECT * FROM f WHERE x IN (SELECT 1)");
  EXPECT_EQ((*r)[1].options.GetString("path"), "o.csv");
}

TEST(SqlParser, ShowDescribeDropExplain) {
  auto r = Parse("SHOW SOURCES; SHOW MATERIALIZED VIEWS; DESCRIBE x; DROP SINK IF EXISTS s;"
                 " EXPLAIN SELECT 1 FROM t; -- trailing comment\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ((*r)[1].object_kind, ObjectKind::kMaterializedView);
  EXPECT_TRUE((*r)[3].if_exists);
  EXPECT_EQ((*r)[4].inner->query, "SELECT 1 FROM t");
}

TEST(SqlParser, ErrorsCarryLineAndColumn) {
  auto r = Parse("SHOW SOURCES;\nCREATE SOURCE s (a INTT) WITH (connector = 'file');");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("2:20"), std::string::npos) << r.status().message();
  r = Parse("SELECT 'abc");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("1:8: unterminated quoted string"), std::string::npos);
  r = Parse("CREATE SOURCE s (a INT) WITH (connector = 'file', connector = 'x')");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("given twice"), std::string::npos);
}

}  // namespace
}  // namespace weir
