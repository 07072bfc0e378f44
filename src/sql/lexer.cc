#include "sql/lexer.h"

#include <algorithm>
#include <cctype>

namespace weir {

LineMap::LineMap(std::string_view text) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') line_starts_.push_back(i + 1);
}

int LineMap::Line(size_t offset) const {
  auto it = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
  return static_cast<int>(it - line_starts_.begin());
}

int LineMap::Column(size_t offset) const {
  int line = Line(offset);
  return static_cast<int>(offset - line_starts_[static_cast<size_t>(line - 1)]) + 1;
}

std::string LineMap::Position(size_t offset) const {
  return fmt::format("{}:{}", Line(offset), Column(offset));
}

namespace {

bool IsIdentStart(unsigned char c) { return std::isalpha(c) || c == '_' || c >= 0x80; }
bool IsIdentChar(unsigned char c) { return std::isalnum(c) || c == '_' || c == '$' || c >= 0x80; }
bool IsOperatorChar(char c) {
  return std::string_view("+-*/<>=~!@#%^&|`?:").find(c) != std::string_view::npos;
}

}  // namespace

Result<std::vector<Token>> Tokenize(std::string_view s, const LineMap& lines) {
  std::vector<Token> out;
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (std::isspace(c)) {
      ++i;
      continue;
    }
    if (c == '-' && i + 1 < n && s[i + 1] == '-') {
      while (i < n && s[i] != '\n') ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      size_t start = i;
      int depth = 0;
      while (i < n) {
        if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
          ++depth;
          i += 2;
        } else if (s[i] == '*' && i + 1 < n && s[i + 1] == '/') {
          i += 2;
          if (--depth == 0) break;
        } else {
          ++i;
        }
      }
      if (depth != 0) return SyntaxError("{}: unterminated /* comment", lines.Position(start));
      continue;
    }
    size_t start = i;
    if (c == '\'' || ((c == 'E' || c == 'e') && i + 1 < n && s[i + 1] == '\'')) {
      bool escapes = c != '\'';
      i += escapes ? 2 : 1;
      std::string value;
      bool closed = false;
      while (i < n) {
        char ch = s[i];
        if (ch == '\'') {
          if (i + 1 < n && s[i + 1] == '\'') {
            value += '\'';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        if (escapes && ch == '\\' && i + 1 < n) {
          char e = s[i + 1];
          value += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
          i += 2;
          continue;
        }
        value += ch;
        ++i;
      }
      if (!closed) return SyntaxError("{}: unterminated quoted string", lines.Position(start));
      out.push_back({TokenKind::kString, start, i, std::move(value)});
      continue;
    }
    if (c == '"') {
      ++i;
      std::string value;
      bool closed = false;
      while (i < n) {
        if (s[i] == '"') {
          if (i + 1 < n && s[i + 1] == '"') {
            value += '"';
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        value += s[i++];
      }
      if (!closed) return SyntaxError("{}: unterminated quoted identifier", lines.Position(start));
      out.push_back({TokenKind::kQuotedIdent, start, i, std::move(value)});
      continue;
    }
    if (IsIdentStart(c)) {
      while (i < n && IsIdentChar(static_cast<unsigned char>(s[i]))) ++i;
      std::string value(s.substr(start, i - start));
      std::transform(value.begin(), value.end(), value.begin(),
                     [](unsigned char ch) { return ch < 0x80 ? std::tolower(ch) : ch; });
      out.push_back({TokenKind::kIdent, start, i, std::move(value)});
      continue;
    }
    if (std::isdigit(c) || (c == '.' && i + 1 < n && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      while (i < n && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
      if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '+' || s[j] == '-')) ++j;
        if (j < n && std::isdigit(static_cast<unsigned char>(s[j]))) {
          i = j;
          while (i < n && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
        }
      }
      out.push_back({TokenKind::kNumber, start, i, std::string(s.substr(start, i - start))});
      continue;
    }
    if (std::string_view("(),;.[]").find(static_cast<char>(c)) != std::string_view::npos) {
      ++i;
      out.push_back({TokenKind::kPunct, start, i, std::string(1, static_cast<char>(c))});
      continue;
    }
    if (IsOperatorChar(static_cast<char>(c))) {
      while (i < n && IsOperatorChar(s[i])) {
        // Do not swallow the start of a comment.
        if ((s[i] == '-' && i + 1 < n && s[i + 1] == '-') || (s[i] == '/' && i + 1 < n && s[i + 1] == '*'))
          if (i > start) break;
        ++i;
      }
      out.push_back({TokenKind::kOperator, start, i, std::string(s.substr(start, i - start))});
      continue;
    }
    return SyntaxError("{}: unexpected character '{}'", lines.Position(start),
                       std::string(1, static_cast<char>(c)));
  }
  return out;
}

std::vector<StatementText> SplitStatements(std::vector<Token> tokens) {
  std::vector<StatementText> out;
  StatementText cur;
  for (auto& t : tokens) {
    if (t.IsPunct(';')) {
      if (!cur.tokens.empty()) {
        cur.begin = cur.tokens.front().begin;
        cur.end = cur.tokens.back().end;
        out.push_back(std::move(cur));
      }
      cur = StatementText();
      continue;
    }
    cur.tokens.push_back(std::move(t));
  }
  if (!cur.tokens.empty()) {
    cur.begin = cur.tokens.front().begin;
    cur.end = cur.tokens.back().end;
    out.push_back(std::move(cur));
  }
  return out;
}

}  // namespace weir
