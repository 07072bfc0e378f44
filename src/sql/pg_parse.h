// PgParseTree: a query body parsed by libpg_query (PostgreSQL 15's grammar) into its protobuf
// parse tree. RAII: frees the tree on destruction. Thread-safe (libpg_query keeps per-thread
// state); move-only.
#pragma once

#include <string_view>
#include <vector>

#include "common/status.h"
#include "sql/lexer.h"

struct PgQuery__ParseResult;
struct PgQuery__Node;

namespace weir {

class PgParseTree {
 public:
  /// Parses `query` (which starts at byte `base_offset` of a script described by `lines`).
  /// Streaming join syntax PostgreSQL lacks is recognised first and blanked out (positions are
  /// kept): `ASOF [LEFT] JOIN rel` and `rel FOR SYSTEM_TIME AS OF PROCTIME()` (a lookup join);
  /// the byte offsets of the marked relations' names are in asof_relations() and
  /// lookup_relations() (RangeVar locations). Exactly one statement is expected. Errors: kSyntaxError "LINE:COL: syntax error at or near
  /// \"FORM\"" positioned in the script.
  static Result<PgParseTree> Parse(std::string_view query, size_t base_offset, const LineMap& lines);

  PgParseTree(PgParseTree&& o) noexcept
      : result_(o.result_), asof_(std::move(o.asof_)), lookup_(std::move(o.lookup_)) {
    o.result_ = nullptr;
  }
  PgParseTree& operator=(PgParseTree&&) = delete;
  PgParseTree(const PgParseTree&) = delete;
  ~PgParseTree();

  /// The statement node (e.g. node_case == SELECT_STMT).
  const PgQuery__Node* statement() const;
  const std::vector<int32_t>& asof_relations() const { return asof_; }
  const std::vector<int32_t>& lookup_relations() const { return lookup_; }

 private:
  explicit PgParseTree(PgQuery__ParseResult* r) : result_(r) {}
  PgQuery__ParseResult* result_;
  std::vector<int32_t> asof_;
  std::vector<int32_t> lookup_;
};

}  // namespace weir
