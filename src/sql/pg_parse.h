// PgParseTree: a query body parsed by libpg_query (PostgreSQL 15's grammar) into its protobuf
// parse tree. RAII: frees the tree on destruction. Thread-safe (libpg_query keeps per-thread
// state); move-only.
#pragma once

#include <string_view>

#include "common/status.h"
#include "sql/lexer.h"

struct PgQuery__ParseResult;
struct PgQuery__Node;

namespace weir {

class PgParseTree {
 public:
  /// Parses `query` (which starts at byte `base_offset` of a script described by `lines`).
  /// Exactly one statement is expected. Errors: kSyntaxError "LINE:COL: syntax error at or near
  /// \"FORM\"" positioned in the script.
  static Result<PgParseTree> Parse(std::string_view query, size_t base_offset, const LineMap& lines);

  PgParseTree(PgParseTree&& o) noexcept : result_(o.result_) { o.result_ = nullptr; }
  PgParseTree& operator=(PgParseTree&&) = delete;
  PgParseTree(const PgParseTree&) = delete;
  ~PgParseTree();

  /// The statement node (e.g. node_case == SELECT_STMT).
  const PgQuery__Node* statement() const;

 private:
  explicit PgParseTree(PgQuery__ParseResult* r) : result_(r) {}
  PgQuery__ParseResult* result_;
};

}  // namespace weir
