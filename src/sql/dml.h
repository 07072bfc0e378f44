// DML binding: INSERT / UPDATE / DELETE on tables, from libpg_query parse trees to bound
// statements the engine applies (engine/table.h).
//
//   INSERT INTO t [(cols)] VALUES (...), ... | SELECT ... [ON CONFLICT [(...)] DO NOTHING]
//   UPDATE t [AS a] SET col = expr [, ...] [WHERE cond]
//   DELETE FROM t [AS a] [WHERE cond]
//
// Values are converted to the column types with PostgreSQL's assignment rules (BindAssignment
// in sql/binder.h); omitted columns get NULL. Every error is kBindError / kNotSupported /
// kSyntaxError starting with the `LINE:COL` of the offending token, e.g.
//   `2:31: INSERT has more expressions than target columns`,
//   `1:20: column "x" of relation "t" does not exist`.
// Stateless; thread-compatible.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "sql/binder.h"

namespace weir {

struct BoundInsert {
  std::string table;  // catalog name
  SchemaPtr schema;   // the table's columns
  /// VALUES: the rows, converted to the table's layout (evaluated at bind time).
  std::shared_ptr<RecordBatch> values;
  /// SELECT: a snapshot query whose output is the table's layout (casts and NULLs added); not
  /// yet configured or optimized. Null for VALUES.
  PlanPtr query;
  bool on_conflict_do_nothing = false;
};

struct BoundUpdate {
  std::string table;
  SchemaPtr schema;
  ExprPtr where;  // over the table's columns; null: every row
  /// (table column, new value over the table's columns, converted to the column's type)
  std::vector<std::pair<int, ExprPtr>> sets;
};

struct BoundDelete {
  std::string table;
  SchemaPtr schema;
  ExprPtr where;  // null: every row
};

/// `stmt` is the parse tree of the whole statement (ctx.base_offset = its offset). The table is
/// resolved with ctx.lookup and must be of kind kTable.
Result<BoundInsert> BindInsert(const PgQuery__Node* stmt, const BindContext& ctx);
Result<BoundUpdate> BindUpdate(const PgQuery__Node* stmt, const BindContext& ctx);
Result<BoundDelete> BindDelete(const PgQuery__Node* stmt, const BindContext& ctx);

}  // namespace weir
