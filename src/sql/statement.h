// Statement: the parsed form of one Weir SQL statement (the streaming layer). Query bodies stay
// text (`query`, with its byte offset in the script) and are parsed by libpg_query when bound.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/options.h"
#include "sql/lexer.h"
#include "types/data_type.h"

namespace weir {

enum class StatementKind : uint8_t {
  kCreateSource,
  kCreateMaterializedView,
  kCreateSink,
  kQuery,  // SELECT / WITH ... SELECT / VALUES
  kExplain,
  kShow,
  kDescribe,
  kDrop,
  kSet,
  kCreateTable,  // CREATE TABLE name (cols, PRIMARY KEY (...))
  kInsert,       // INSERT / UPDATE / DELETE: `query` holds the whole statement (libpg_query)
  kUpdate,
  kDelete,
};

enum class EmitMode : uint8_t { kOnUpdate, kOnWindowClose };

enum class ObjectKind : uint8_t { kSource, kMaterializedView, kSink, kTable };
std::string_view ObjectKindName(ObjectKind k);  // "source", "materialized view", "sink", "table"

struct ColumnDef {
  std::string name;
  DataType type;
  bool not_null = false;
  size_t offset = 0;
};

struct WatermarkDef {
  std::string column;
  size_t column_offset = 0;
  std::string expr;  // e.g. "date - INTERVAL '5' MINUTE"
  size_t expr_offset = 0;
};

struct Statement {
  StatementKind kind;
  size_t begin = 0;  // byte range in the script
  size_t end = 0;
  std::string name;  // object name (create/describe/drop), SET variable
  size_t name_offset = 0;
  bool if_not_exists = false;
  bool if_exists = false;

  // CREATE SOURCE / CREATE TABLE
  std::vector<ColumnDef> columns;
  std::optional<WatermarkDef> watermark;
  // CREATE TABLE: primary-key column names (inline `PRIMARY KEY` or a table constraint)
  std::vector<std::string> primary_key;
  size_t primary_key_offset = 0;

  // WITH (...) options of CREATE SOURCE / SINK / MATERIALIZED VIEW
  Options options;

  // query body (CREATE MATERIALIZED VIEW ... AS, CREATE SINK ... AS, SELECT, EXPLAIN SELECT)
  std::string query;
  size_t query_offset = 0;
  EmitMode emit = EmitMode::kOnUpdate;
  bool emit_explicit = false;

  // CREATE SINK ... FROM name
  std::string from_name;
  size_t from_offset = 0;

  // SHOW / DROP
  ObjectKind object_kind = ObjectKind::kSource;

  // SET name = value
  std::string value;

  // EXPLAIN
  std::unique_ptr<Statement> inner;
};

/// Parses every statement of `script`. Errors are kSyntaxError "LINE:COL: message".
Result<std::vector<Statement>> ParseScript(std::string_view script, const LineMap& lines);

}  // namespace weir
