// Binder: resolves a libpg_query parse tree against the catalog into a typed LogicalPlan.
//
// Names are resolved case-insensitively; every error is kBindError (or kNotSupported for valid
// SQL outside Weir's dialect) and starts with the `LINE:COL` of the offending token in the
// script, e.g. `3:8: column "dealy" does not exist`.
// Stateless apart from the context; thread-compatible.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "sql/logical_plan.h"
#include "sql/pg_parse.h"

namespace weir {

struct RelationRef {
  std::string name;
  ObjectKind kind;
  SchemaPtr schema;
  int watermark_column = -1;  // relation column with a watermark, or -1
  ExprPtr watermark_expr;     // the watermark over the relation's columns (null if none)
  bool append_only = true;    // false for changelog views
  std::vector<TimeBound> time_bounds;  // a view's column bounds (see TimeBound), beyond watermark_column
};

struct BindContext {
  const LineMap* lines = nullptr;
  size_t base_offset = 0;  // byte offset of the parsed text in the script
  /// Catalog lookup of a source or materialized view by name.
  std::function<std::optional<RelationRef>(std::string_view)> lookup;
  /// Relations marked by streaming join syntax (PgParseTree::asof_relations() /
  /// lookup_relations(): byte offsets of their names in the parsed text).
  std::vector<int32_t> asof_relations;
  std::vector<int32_t> lookup_relations;
};

/// Binds a query statement (SELECT) into a logical plan (not yet optimized).
Result<PlanPtr> BindQuery(const PgQuery__Node* stmt, const BindContext& ctx);

/// Parses and binds a scalar expression `sql` over the columns of `input` (used for WATERMARK
/// FOR ... AS expressions). `offset` is the byte offset of `sql` in the script.
Result<ExprPtr> BindStandaloneExpr(std::string_view sql, size_t offset, const Schema& input,
                                   const LineMap& lines);

/// Binds the scalar expression `expr` (a node of a parse tree whose text starts at
/// ctx.base_offset) over the columns of `input`, which `qualifier` may prefix (UPDATE / DELETE
/// over a table). Aggregates, window functions and subqueries are errors (kBindError /
/// kNotSupported with `LINE:COL`).
Result<ExprPtr> BindScalarExpr(const PgQuery__Node* expr, const Schema& input, std::string_view qualifier,
                               const BindContext& ctx);

/// Byte offset (in the parsed text) of an expression node, or -1.
int32_t ExprLocation(const PgQuery__Node* n);

/// Converts `e` for storing into column `target` (INSERT / UPDATE), as PostgreSQL's assignment
/// casts do: the same type, any numeric type to another (range and rounding checked when the
/// row is converted), anything to VARCHAR, NULL, and a quoted literal to any type (parsed now,
/// so 'abc' into a TIMESTAMP is a `LINE:COL` error). Otherwise kBindError at `location`:
/// `column "c" is of type TIMESTAMP but expression is of type BIGINT`.
Result<ExprPtr> BindAssignment(ExprPtr e, const Field& target, int32_t location, const BindContext& ctx);

}  // namespace weir
