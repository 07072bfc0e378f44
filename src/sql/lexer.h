// Lexer for Weir's statement layer: splits a script into statements and tokenizes the
// streaming-only syntax (CREATE SOURCE/SINK, WATERMARK, EMIT, WITH options, SHOW, DESCRIBE...).
// Query bodies and expressions are handed, as text, to libpg_query (sql/pg_parse.h).
//
// Tokens keep byte offsets into the script so every error can say `line:column`.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace weir {

/// Maps byte offsets of a text to 1-based line:column (columns count bytes + 1).
class LineMap {
 public:
  explicit LineMap(std::string_view text);
  /// "LINE:COLUMN" for `offset`.
  std::string Position(size_t offset) const;
  int Line(size_t offset) const;
  int Column(size_t offset) const;

 private:
  std::vector<size_t> line_starts_;
};

enum class TokenKind : uint8_t {
  kIdent,        // unquoted identifier or keyword; `value` is lower-cased
  kQuotedIdent,  // "Name"; `value` is the exact name
  kString,       // 'text' (also E'..'); `value` is the unescaped content
  kNumber,       // 42, 1.5, 1e3
  kOperator,     // + - * / % = <> != < <= > >= || :: and other operator runs
  kPunct,        // ( ) , ; . [ ]
};

struct Token {
  TokenKind kind;
  size_t begin;  // byte offset in the script
  size_t end;    // one past the last byte
  std::string value;

  bool IsKeyword(std::string_view kw) const { return kind == TokenKind::kIdent && value == kw; }
  bool IsPunct(char c) const { return kind == TokenKind::kPunct && value.size() == 1 && value[0] == c; }
};

/// Tokenizes `script` (comments and whitespace skipped). Errors (kSyntaxError) carry
/// "LINE:COL: unterminated quoted string" and the like.
Result<std::vector<Token>> Tokenize(std::string_view script, const LineMap& lines);

/// A statement's tokens (without the terminating ';') and its byte range in the script.
struct StatementText {
  std::vector<Token> tokens;
  size_t begin = 0;
  size_t end = 0;
};

/// Splits tokens into statements at top-level ';'. Empty statements are dropped.
std::vector<StatementText> SplitStatements(std::vector<Token> tokens);

}  // namespace weir
