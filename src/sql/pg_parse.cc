#include "sql/pg_parse.h"

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include <string>

namespace weir {

Result<PgParseTree> PgParseTree::Parse(std::string_view query, size_t base_offset,
                                       const LineMap& lines) {
  std::string text(query);
  PgQueryProtobufParseResult r = pg_query_parse_protobuf(text.c_str());
  if (r.error) {
    size_t pos = r.error->cursorpos > 0 ? static_cast<size_t>(r.error->cursorpos - 1) : 0;
    Status s = SyntaxError("{}: {}", lines.Position(base_offset + pos), r.error->message);
    pg_query_free_protobuf_parse_result(r);
    return s;
  }
  PgQuery__ParseResult* tree = pg_query__parse_result__unpack(
      nullptr, r.parse_tree.len, reinterpret_cast<const uint8_t*>(r.parse_tree.data));
  pg_query_free_protobuf_parse_result(r);
  if (tree == nullptr) return Internal("libpg_query returned an unreadable parse tree");
  if (tree->n_stmts != 1) {
    pg_query__parse_result__free_unpacked(tree, nullptr);
    return SyntaxError("{}: expected exactly one statement", lines.Position(base_offset));
  }
  return PgParseTree(tree);
}

PgParseTree::~PgParseTree() {
  if (result_) pg_query__parse_result__free_unpacked(result_, nullptr);
}

const PgQuery__Node* PgParseTree::statement() const { return result_->stmts[0]->stmt; }

}  // namespace weir
