#include "sql/pg_parse.h"

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include <cctype>
#include <string>
#include <vector>

namespace weir {

namespace {

struct Word {
  size_t begin, end;  // byte range in the text
  std::string upper;  // identifier / keyword in upper case; a single punctuation char otherwise
};

// Words and punctuation of `text` outside string literals, quoted identifiers and comments.
std::vector<Word> Scan(const std::string& text) {
  std::vector<Word> words;
  size_t i = 0;
  const size_t n = text.size();
  auto ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; };
  while (i < n) {
    const char c = text[i];
    if (c == '\'' || c == '"') {  // literal or quoted identifier ('' / "" escape themselves)
      const size_t b = i++;
      while (i < n) {
        if (text[i] == c) {
          if (i + 1 < n && text[i + 1] == c) { i += 2; continue; }
          ++i;
          break;
        }
        ++i;
      }
      words.push_back({b, i, c == '"' ? "\"" : "'"});
    } else if (c == '-' && i + 1 < n && text[i + 1] == '-') {
      while (i < n && text[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < n && text[i + 1] == '*') {
      const size_t e = text.find("*/", i + 2);
      i = e == std::string::npos ? n : e + 2;
    } else if (ident(c)) {
      const size_t b = i;
      while (i < n && ident(text[i])) ++i;
      std::string u = text.substr(b, i - b);
      for (char& ch : u) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      words.push_back({b, i, std::move(u)});
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else {
      words.push_back({i, i + 1, std::string(1, c)});
      ++i;
    }
  }
  return words;
}

void Blank(std::string* text, size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i)
    if ((*text)[i] != '\n') (*text)[i] = ' ';
}

// Rewrites ASOF JOIN and FOR SYSTEM_TIME AS OF PROCTIME() (see Parse) in place.
Status RewriteStreamingJoins(std::string* text, size_t base_offset, const LineMap& lines,
                             std::vector<int32_t>* asof, std::vector<int32_t>* lookup) {
  const std::vector<Word> w = Scan(*text);
  auto is = [&](size_t k, const char* s) { return k < w.size() && w[k].upper == s; };
  for (size_t k = 0; k < w.size(); ++k) {
    if (is(k, "ASOF")) {
      size_t j = k + 1;
      if (is(j, "LEFT")) ++j;
      if (is(j, "OUTER")) ++j;
      if (!is(j, "JOIN")) continue;
      if (j + 1 >= w.size() || w[j + 1].upper == "(" || w[j + 1].upper == "'") {
        return NotSupported("{}: ASOF JOIN needs a named relation (source, view or table) on its right",
                            lines.Position(base_offset + w[k].begin));
      }
      Blank(text, w[k].begin, w[k].end);
      asof->push_back(static_cast<int32_t>(w[j + 1].begin));
    } else if (is(k, "FOR") && is(k + 1, "SYSTEM_TIME")) {
      if (!(is(k + 2, "AS") && is(k + 3, "OF"))) {
        return SyntaxError("{}: expected FOR SYSTEM_TIME AS OF", lines.Position(base_offset + w[k].begin));
      }
      if (!(is(k + 4, "PROCTIME") && is(k + 5, "(") && is(k + 6, ")"))) {
        return NotSupported("{}: only lookup joins (FOR SYSTEM_TIME AS OF PROCTIME()) are supported; "
                            "event-time temporal joins are not",
                            lines.Position(base_offset + (k + 4 < w.size() ? w[k + 4].begin : w[k].begin)));
      }
      // The relation name just before: `name` or `schema.name`.
      if (k == 0 || (w[k - 1].upper.size() == 1 && !std::isalnum(static_cast<unsigned char>(w[k - 1].upper[0])))) {
        return SyntaxError("{}: FOR SYSTEM_TIME AS OF must follow a relation name",
                           lines.Position(base_offset + w[k].begin));
      }
      size_t r = k - 1;
      while (r >= 2 && w[r - 1].upper == ".") r -= 2;
      Blank(text, w[k].begin, w[k + 6].end);
      lookup->push_back(static_cast<int32_t>(w[r].begin));
    }
  }
  return Status::OK();
}

}  // namespace

Result<PgParseTree> PgParseTree::Parse(std::string_view query, size_t base_offset,
                                       const LineMap& lines) {
  std::string text(query);
  std::vector<int32_t> asof, lookup;
  WEIR_RETURN_IF_ERROR(RewriteStreamingJoins(&text, base_offset, lines, &asof, &lookup));
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
  PgParseTree parsed(tree);
  parsed.asof_ = std::move(asof);
  parsed.lookup_ = std::move(lookup);
  return parsed;
}

PgParseTree::~PgParseTree() {
  if (result_) pg_query__parse_result__free_unpacked(result_, nullptr);
}

const PgQuery__Node* PgParseTree::statement() const { return result_->stmts[0]->stmt; }

}  // namespace weir
