#include "sql/statement.h"

namespace weir {

std::string_view ObjectKindName(ObjectKind k) {
  switch (k) {
    case ObjectKind::kSource: return "source";
    case ObjectKind::kMaterializedView: return "materialized view";
    case ObjectKind::kSink: return "sink";
    case ObjectKind::kTable: return "table";
  }
  return "?";
}

namespace {

class StatementParser {
 public:
  StatementParser(std::string_view script, const LineMap& lines, const StatementText& st)
      : script_(script), lines_(lines), toks_(st.tokens), begin_(st.begin), end_(st.end) {}

  Result<Statement> Parse() { return ParseStatement(0, toks_.size()); }

 private:
  // ---- token helpers over [pos_, limit_) ----
  const Token* Peek(size_t k = 0) const { return pos_ + k < limit_ ? &toks_[pos_ + k] : nullptr; }
  bool PeekKeyword(std::string_view kw, size_t k = 0) const {
    const Token* t = Peek(k);
    return t && t->IsKeyword(kw);
  }
  bool AcceptKeyword(std::string_view kw) {
    if (!PeekKeyword(kw)) return false;
    ++pos_;
    return true;
  }
  bool AcceptPunct(char c) {
    const Token* t = Peek();
    if (!t || !t->IsPunct(c)) return false;
    ++pos_;
    return true;
  }
  size_t Offset() const { return pos_ < limit_ ? toks_[pos_].begin : (limit_ ? toks_[limit_ - 1].end : begin_); }
  Status Error(std::string_view what) const {
    const Token* t = Peek();
    std::string near = t ? fmt::format("at or near \"{}\"", script_.substr(t->begin, t->end - t->begin))
                         : std::string("at end of statement");
    return SyntaxError("{}: {} {}", lines_.Position(Offset()), what, near);
  }
  Status ExpectKeyword(std::string_view kw) {
    if (AcceptKeyword(kw)) return Status::OK();
    return Error(fmt::format("expected {}", kw));
  }
  Status ExpectPunct(char c) {
    if (AcceptPunct(c)) return Status::OK();
    return Error(fmt::format("expected '{}'", c));
  }
  Result<std::string> ExpectName() {
    const Token* t = Peek();
    if (!t || (t->kind != TokenKind::kIdent && t->kind != TokenKind::kQuotedIdent))
      return Error("expected a name");
    ++pos_;
    return t->value;
  }
  // Index of the ')' matching the '(' at `open`, or limit_.
  size_t MatchParen(size_t open) const {
    int depth = 0;
    for (size_t i = open; i < limit_; ++i) {
      if (toks_[i].IsPunct('(')) ++depth;
      else if (toks_[i].IsPunct(')') && --depth == 0) return i;
    }
    return limit_;
  }
  std::string Text(size_t from_tok, size_t to_tok) const {  // tokens [from, to)
    if (from_tok >= to_tok) return {};
    return std::string(script_.substr(toks_[from_tok].begin, toks_[to_tok - 1].end - toks_[from_tok].begin));
  }

  Result<Statement> ParseStatement(size_t from, size_t to) {
    pos_ = from;
    limit_ = to;
    Statement st;
    st.begin = pos_ < limit_ ? toks_[pos_].begin : begin_;
    st.end = end_;
    if (AcceptKeyword("create")) {
      if (AcceptKeyword("or")) WEIR_RETURN_IF_ERROR(ExpectKeyword("replace"));
      if (AcceptKeyword("source")) return ParseCreateSource(std::move(st));
      if (AcceptKeyword("materialized")) {
        WEIR_RETURN_IF_ERROR(ExpectKeyword("view"));
        return ParseCreateView(std::move(st));
      }
      if (AcceptKeyword("sink")) return ParseCreateSink(std::move(st));
      if (AcceptKeyword("table")) return ParseCreateTable(std::move(st));
      return Error("expected SOURCE, MATERIALIZED VIEW, SINK or TABLE after CREATE");
    }
    if (PeekKeyword("select") || PeekKeyword("with") || PeekKeyword("values") ||
        (Peek() && Peek()->IsPunct('('))) {
      st.kind = StatementKind::kQuery;
      st.query = Text(pos_, limit_);
      st.query_offset = toks_[pos_].begin;
      return st;
    }
    if (PeekKeyword("insert") || PeekKeyword("update") || PeekKeyword("delete")) {
      st.kind = PeekKeyword("insert") ? StatementKind::kInsert
                : PeekKeyword("update") ? StatementKind::kUpdate : StatementKind::kDelete;
      st.query = Text(pos_, limit_);
      st.query_offset = toks_[pos_].begin;
      return st;
    }
    if (AcceptKeyword("explain")) {
      st.kind = StatementKind::kExplain;
      if (pos_ >= limit_) return Error("expected a statement to explain");
      size_t inner_from = pos_;
      StatementParser sub(script_, lines_, StatementText{});
      sub.toks_ = toks_;
      WEIR_ASSIGN_OR_RETURN(Statement inner, sub.ParseStatement(inner_from, limit_));
      if (inner.kind != StatementKind::kQuery && inner.kind != StatementKind::kCreateMaterializedView &&
          inner.kind != StatementKind::kCreateSink)
        return Error("EXPLAIN supports SELECT, CREATE MATERIALIZED VIEW and CREATE SINK");
      st.inner = std::make_unique<Statement>(std::move(inner));
      return st;
    }
    if (AcceptKeyword("show")) {
      st.kind = StatementKind::kShow;
      if (AcceptKeyword("sources")) st.object_kind = ObjectKind::kSource;
      else if (AcceptKeyword("sinks")) st.object_kind = ObjectKind::kSink;
      else if (AcceptKeyword("tables")) st.object_kind = ObjectKind::kTable;
      else if (AcceptKeyword("materialized")) {
        WEIR_RETURN_IF_ERROR(ExpectKeyword("views"));
        st.object_kind = ObjectKind::kMaterializedView;
      } else {
        return Error("expected SOURCES, MATERIALIZED VIEWS, SINKS or TABLES after SHOW");
      }
      return Finish(std::move(st));
    }
    if (AcceptKeyword("describe") || AcceptKeyword("desc")) {
      st.kind = StatementKind::kDescribe;
      st.name_offset = Offset();
      WEIR_ASSIGN_OR_RETURN(st.name, ExpectName());
      return Finish(std::move(st));
    }
    if (AcceptKeyword("drop")) {
      st.kind = StatementKind::kDrop;
      if (AcceptKeyword("source")) st.object_kind = ObjectKind::kSource;
      else if (AcceptKeyword("sink")) st.object_kind = ObjectKind::kSink;
      else if (AcceptKeyword("table")) st.object_kind = ObjectKind::kTable;
      else if (AcceptKeyword("materialized")) {
        WEIR_RETURN_IF_ERROR(ExpectKeyword("view"));
        st.object_kind = ObjectKind::kMaterializedView;
      } else {
        return Error("expected SOURCE, MATERIALIZED VIEW, SINK or TABLE after DROP");
      }
      if (AcceptKeyword("if")) {
        WEIR_RETURN_IF_ERROR(ExpectKeyword("exists"));
        st.if_exists = true;
      }
      st.name_offset = Offset();
      WEIR_ASSIGN_OR_RETURN(st.name, ExpectName());
      return Finish(std::move(st));
    }
    if (AcceptKeyword("set")) {
      st.kind = StatementKind::kSet;
      st.name_offset = Offset();
      WEIR_ASSIGN_OR_RETURN(st.name, ExpectName());
      const Token* t = Peek();
      if (t && ((t->kind == TokenKind::kOperator && t->value == "=") || t->IsKeyword("to"))) ++pos_;
      else return Error("expected '=' or TO");
      t = Peek();
      if (!t) return Error("expected a value");
      st.value = t->value;
      ++pos_;
      return Finish(std::move(st));
    }
    return Error("syntax error");
  }

  Result<Statement> Finish(Statement st) {
    if (pos_ < limit_) return Error("unexpected token");
    return st;
  }

  Status ParseIfNotExists(Statement* st) {
    if (AcceptKeyword("if")) {
      WEIR_RETURN_IF_ERROR(ExpectKeyword("not"));
      WEIR_RETURN_IF_ERROR(ExpectKeyword("exists"));
      st->if_not_exists = true;
    }
    st->name_offset = Offset();
    WEIR_ASSIGN_OR_RETURN(st->name, ExpectName());
    return Status::OK();
  }

  // ( key = value [, ...] )
  Status ParseOptions(Options* opts) {
    WEIR_RETURN_IF_ERROR(ExpectPunct('('));
    if (AcceptPunct(')')) return Status::OK();
    while (true) {
      size_t key_offset = Offset();
      WEIR_ASSIGN_OR_RETURN(std::string key, ExpectName());
      while (AcceptPunct('.')) {
        WEIR_ASSIGN_OR_RETURN(std::string part, ExpectName());
        key += "." + part;
      }
      const Token* eq = Peek();
      if (!eq || eq->kind != TokenKind::kOperator || eq->value != "=") return Error("expected '='");
      ++pos_;
      const Token* v = Peek();
      if (!v || v->kind == TokenKind::kPunct) return Error("expected an option value");
      std::string value = v->value;
      ++pos_;
      // Allow a signed number: key = -1
      if (v->kind == TokenKind::kOperator && (v->value == "-" || v->value == "+") && Peek() &&
          Peek()->kind == TokenKind::kNumber) {
        value = (v->value == "-" ? "-" : "") + Peek()->value;
        ++pos_;
      }
      Status s = opts->Set(key, std::move(value));
      if (!s.ok()) return SyntaxError("{}: {}", lines_.Position(key_offset), s.message());
      if (AcceptPunct(')')) return Status::OK();
      WEIR_RETURN_IF_ERROR(ExpectPunct(','));
    }
  }

  Result<DataType> ParseType() {
    size_t offset = Offset();
    WEIR_ASSIGN_OR_RETURN(std::string name, ExpectName());
    if (name == "double" && AcceptKeyword("precision")) name = "double precision";
    if (name == "character" && AcceptKeyword("varying")) name = "varchar";
    int args[2];
    int nargs = 0;
    if (AcceptPunct('(')) {
      while (true) {
        const Token* t = Peek();
        if (!t || t->kind != TokenKind::kNumber || nargs == 2) return Error("expected a type modifier");
        args[nargs++] = std::atoi(t->value.c_str());
        ++pos_;
        if (AcceptPunct(')')) break;
        WEIR_RETURN_IF_ERROR(ExpectPunct(','));
      }
    }
    if (name == "timestamp") {
      if (AcceptKeyword("without")) {
        WEIR_RETURN_IF_ERROR(ExpectKeyword("time"));
        WEIR_RETURN_IF_ERROR(ExpectKeyword("zone"));
      } else if (PeekKeyword("with") && PeekKeyword("time", 1)) {
        return SyntaxError("{}: TIMESTAMP WITH TIME ZONE is not supported; use TIMESTAMP",
                           lines_.Position(offset));
      }
    }
    // varchar(n): the length is accepted and not enforced.
    if (name == "varchar" || name == "char" || name == "text" || name == "string") nargs = 0;
    auto type = DataTypeFromName(name, args, nargs);
    if (!type.ok()) return SyntaxError("{}: {}", lines_.Position(offset), type.status().message());
    return type;
  }

  Result<Statement> ParseCreateSource(Statement st) {
    st.kind = StatementKind::kCreateSource;
    WEIR_RETURN_IF_ERROR(ParseIfNotExists(&st));
    if (Peek() && Peek()->IsPunct('(')) {
      size_t close = MatchParen(pos_);
      if (close == limit_) return Error("unbalanced parentheses in column list");
      ++pos_;
      if (pos_ == close) return Error("expected a column definition");
      while (pos_ < close) {
        if (AcceptKeyword("watermark")) {
          if (st.watermark) return Error("only one WATERMARK clause is allowed");
          WEIR_RETURN_IF_ERROR(ExpectKeyword("for"));
          WatermarkDef wm;
          wm.column_offset = Offset();
          WEIR_ASSIGN_OR_RETURN(wm.column, ExpectName());
          WEIR_RETURN_IF_ERROR(ExpectKeyword("as"));
          size_t from = pos_;
          int depth = 0;
          while (pos_ < close && !(depth == 0 && toks_[pos_].IsPunct(','))) {
            if (toks_[pos_].IsPunct('(')) ++depth;
            if (toks_[pos_].IsPunct(')')) --depth;
            ++pos_;
          }
          if (from == pos_) return Error("expected a watermark expression");
          wm.expr = Text(from, pos_);
          wm.expr_offset = toks_[from].begin;
          st.watermark = std::move(wm);
        } else {
          ColumnDef col;
          col.offset = Offset();
          WEIR_ASSIGN_OR_RETURN(col.name, ExpectName());
          WEIR_ASSIGN_OR_RETURN(col.type, ParseType());
          if (AcceptKeyword("not")) {
            WEIR_RETURN_IF_ERROR(ExpectKeyword("null"));
            col.not_null = true;
          } else {
            AcceptKeyword("null");
          }
          for (const auto& c : st.columns)
            if (c.name == col.name)
              return SyntaxError("{}: column \"{}\" specified more than once",
                                 lines_.Position(col.offset), col.name);
          st.columns.push_back(std::move(col));
        }
        if (pos_ < close) WEIR_RETURN_IF_ERROR(ExpectPunct(','));
      }
      pos_ = close + 1;
    }
    if (AcceptKeyword("with")) WEIR_RETURN_IF_ERROR(ParseOptions(&st.options));
    else return Error("expected WITH (connector = ...)");
    return Finish(std::move(st));
  }

  // CREATE TABLE name ( col TYPE [NOT NULL | NULL | PRIMARY KEY] ..., [PRIMARY KEY (a, ...)] )
  Result<Statement> ParseCreateTable(Statement st) {
    st.kind = StatementKind::kCreateTable;
    WEIR_RETURN_IF_ERROR(ParseIfNotExists(&st));
    if (!Peek() || !Peek()->IsPunct('(')) return Error("expected a column list");
    size_t close = MatchParen(pos_);
    if (close == limit_) return Error("unbalanced parentheses in column list");
    ++pos_;
    if (pos_ == close) return Error("expected a column definition");
    auto set_key = [&](size_t offset) -> Status {
      if (!st.primary_key.empty())
        return SyntaxError("{}: multiple primary keys for table \"{}\" are not allowed", lines_.Position(offset),
                           st.name);
      st.primary_key_offset = offset;
      return Status::OK();
    };
    while (pos_ < close) {
      if (PeekKeyword("primary") || PeekKeyword("constraint")) {
        size_t offset = Offset();
        if (AcceptKeyword("constraint")) WEIR_RETURN_IF_ERROR(ExpectName().status());
        WEIR_RETURN_IF_ERROR(ExpectKeyword("primary"));
        WEIR_RETURN_IF_ERROR(ExpectKeyword("key"));
        WEIR_RETURN_IF_ERROR(set_key(offset));
        WEIR_RETURN_IF_ERROR(ExpectPunct('('));
        while (true) {
          WEIR_ASSIGN_OR_RETURN(std::string col, ExpectName());
          st.primary_key.push_back(std::move(col));
          if (AcceptPunct(')')) break;
          WEIR_RETURN_IF_ERROR(ExpectPunct(','));
        }
      } else if (PeekKeyword("watermark")) {
        return Error("a table has no watermark (use a source for event time)");
      } else {
        ColumnDef col;
        col.offset = Offset();
        WEIR_ASSIGN_OR_RETURN(col.name, ExpectName());
        WEIR_ASSIGN_OR_RETURN(col.type, ParseType());
        while (pos_ < close && !toks_[pos_].IsPunct(',')) {
          if (AcceptKeyword("not")) {
            WEIR_RETURN_IF_ERROR(ExpectKeyword("null"));
            col.not_null = true;
          } else if (AcceptKeyword("null")) {
          } else if (PeekKeyword("primary")) {
            size_t offset = Offset();
            ++pos_;
            WEIR_RETURN_IF_ERROR(ExpectKeyword("key"));
            WEIR_RETURN_IF_ERROR(set_key(offset));
            st.primary_key.push_back(col.name);
          } else {
            return Error("expected NOT NULL, NULL, PRIMARY KEY, ',' or ')'");
          }
        }
        for (const auto& c : st.columns)
          if (c.name == col.name)
            return SyntaxError("{}: column \"{}\" specified more than once", lines_.Position(col.offset), col.name);
        st.columns.push_back(std::move(col));
      }
      if (pos_ < close) WEIR_RETURN_IF_ERROR(ExpectPunct(','));
    }
    pos_ = close + 1;
    if (AcceptKeyword("with")) return Error("tables take no WITH options yet");
    return Finish(std::move(st));
  }

  // Finds a trailing EMIT clause at paren depth 0; returns its first token index or limit_.
  size_t FindEmit(size_t from) const {
    int depth = 0;
    for (size_t i = from; i < limit_; ++i) {
      if (toks_[i].IsPunct('(')) ++depth;
      else if (toks_[i].IsPunct(')')) --depth;
      else if (depth == 0 && toks_[i].IsKeyword("emit") && i + 1 < limit_ && toks_[i + 1].IsKeyword("on"))
        return i;
    }
    return limit_;
  }

  Status ParseEmit(Statement* st, size_t emit_pos) {
    if (emit_pos == limit_) return Status::OK();
    pos_ = emit_pos + 2;  // EMIT ON
    st->emit_explicit = true;
    if (AcceptKeyword("window")) {
      WEIR_RETURN_IF_ERROR(ExpectKeyword("close"));
      st->emit = EmitMode::kOnWindowClose;
    } else if (AcceptKeyword("update")) {
      st->emit = EmitMode::kOnUpdate;
    } else {
      return Error("expected WINDOW CLOSE or UPDATE after EMIT ON");
    }
    if (pos_ < limit_) return Error("unexpected token after EMIT clause");
    return Status::OK();
  }

  Result<Statement> ParseCreateView(Statement st) {
    st.kind = StatementKind::kCreateMaterializedView;
    WEIR_RETURN_IF_ERROR(ParseIfNotExists(&st));
    if (AcceptKeyword("with")) WEIR_RETURN_IF_ERROR(ParseOptions(&st.options));
    WEIR_RETURN_IF_ERROR(ExpectKeyword("as"));
    if (pos_ >= limit_) return Error("expected a query");
    size_t emit = FindEmit(pos_);
    st.query = Text(pos_, emit);
    st.query_offset = toks_[pos_].begin;
    if (st.query.empty()) return Error("expected a query");
    WEIR_RETURN_IF_ERROR(ParseEmit(&st, emit));
    return st;
  }

  Result<Statement> ParseCreateSink(Statement st) {
    st.kind = StatementKind::kCreateSink;
    WEIR_RETURN_IF_ERROR(ParseIfNotExists(&st));
    // The options are the trailing WITH ( ... ).
    size_t with_pos = limit_;
    if (limit_ > pos_ && toks_[limit_ - 1].IsPunct(')')) {
      int depth = 0;
      for (size_t i = limit_; i-- > pos_;) {
        if (toks_[i].IsPunct(')')) ++depth;
        else if (toks_[i].IsPunct('(') && --depth == 0) {
          if (i > pos_ && toks_[i - 1].IsKeyword("with")) with_pos = i - 1;
          break;
        }
      }
    }
    if (with_pos == limit_) return Error("expected WITH (connector = ...) at the end of CREATE SINK");
    size_t body_end = with_pos;
    if (pos_ == with_pos) {
      // CREATE SINK name WITH (...): a sink without a query, fed by views' late_data option.
    } else if (AcceptKeyword("from")) {
      st.from_offset = Offset();
      WEIR_ASSIGN_OR_RETURN(st.from_name, ExpectName());
      if (pos_ != body_end) return Error("expected WITH after the FROM name");
    } else if (AcceptKeyword("as")) {
      if (pos_ >= body_end) return Error("expected a query");
      size_t saved_limit = limit_;
      limit_ = body_end;
      size_t emit = FindEmit(pos_);
      st.query = Text(pos_, emit);
      st.query_offset = toks_[pos_].begin;
      WEIR_RETURN_IF_ERROR(ParseEmit(&st, emit));
      limit_ = saved_limit;
    } else {
      return Error("expected FROM or AS");
    }
    pos_ = with_pos + 1;
    WEIR_RETURN_IF_ERROR(ParseOptions(&st.options));
    return Finish(std::move(st));
  }

  std::string_view script_;
  const LineMap& lines_;
  std::vector<Token> toks_;
  size_t begin_, end_;
  size_t pos_ = 0;
  size_t limit_ = 0;
};

}  // namespace

Result<std::vector<Statement>> ParseScript(std::string_view script, const LineMap& lines) {
  WEIR_ASSIGN_OR_RETURN(std::vector<Token> tokens, Tokenize(script, lines));
  std::vector<Statement> out;
  for (const StatementText& st : SplitStatements(std::move(tokens))) {
    StatementParser p(script, lines, st);
    WEIR_ASSIGN_OR_RETURN(Statement s, p.Parse());
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace weir
