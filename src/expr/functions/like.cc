// LIKE / NOT LIKE / ILIKE / NOT ILIKE: like(s, pattern[, escape]), not_like, ilike, not_ilike.
//
// '%' matches any run of characters, '_' exactly one character (one UTF-8 code point), and the
// escape character (default '\', none when ESCAPE '') makes the next pattern character literal.
// A pattern ending in the escape character is an error, as in PostgreSQL. ILIKE folds ASCII
// letters only. like_escape(pattern, escape) rewrites a pattern for the default escape (the
// parser turns `s LIKE p ESCAPE e` into like(s, like_escape(p, e))).
//
// A constant pattern is compiled once at bind time. Patterns whose only wildcards are a leading
// and/or trailing '%' run as exact / prefix / suffix / substring tests; anything else runs the
// general matcher (greedy with one backtrack point, linear in practice). A non-constant pattern
// is compiled per row into a buffer reused across the batch.
#include <algorithm>
#include <vector>

#include "expr/functions/kernel.h"
#include "expr/functions/registry.h"

namespace weir::fn {
namespace {

// Pattern tokens: 0..255 literal byte, kAnyOne '_', kAnyMany '%'.
constexpr int16_t kAnyOne = 256;
constexpr int16_t kAnyMany = 257;

inline unsigned char Fold(unsigned char c) {
  return static_cast<unsigned char>(c + ((static_cast<unsigned char>(c - 'A') < 26) << 5));
}

/// Tokenizes `pattern` into `out`; false when it ends with the escape character.
template <typename Vec>
bool Tokenize(std::string_view pattern, int escape, bool fold, Vec* out) {
  out->clear();
  for (size_t i = 0; i < pattern.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(pattern[i]);
    if (escape >= 0 && c == escape) {
      if (++i == pattern.size()) return false;
      c = static_cast<unsigned char>(pattern[i]);
      out->push_back(fold ? Fold(c) : c);
    } else if (c == '%') {
      if (out->empty() || out->back() != kAnyMany) out->push_back(kAnyMany);  // %% == %
    } else if (c == '_') {
      out->push_back(kAnyOne);
    } else {
      out->push_back(fold ? Fold(c) : c);
    }
  }
  return true;
}

/// General matcher over tokens: '_' consumes one UTF-8 character; on a mismatch, back up to
/// the last '%' and let it absorb one more character (correct for '%'/'_' patterns).
template <bool kFold>
bool MatchTokens(std::string_view s, const int16_t* p, size_t np) {
  size_t si = 0, pi = 0;
  size_t star_p = SIZE_MAX, star_s = 0;
  const size_t n = s.size();
  while (si < n) {
    const unsigned char c = static_cast<unsigned char>(s[si]);
    if (pi < np && p[pi] == kAnyMany) {
      star_p = pi++;
      star_s = si;
      continue;
    }
    if (pi < np && p[pi] == kAnyOne) {
      si = std::min(n, si + static_cast<size_t>(Utf8SeqLen(c)));
      ++pi;
      continue;
    }
    if (pi < np && p[pi] == (kFold ? Fold(c) : c)) {
      ++si;
      ++pi;
      continue;
    }
    if (star_p == SIZE_MAX) return false;
    pi = star_p + 1;
    star_s = std::min(
        n, star_s + static_cast<size_t>(Utf8SeqLen(static_cast<unsigned char>(s[star_s]))));
    si = star_s;
  }
  while (pi < np && p[pi] == kAnyMany) ++pi;
  return pi == np;
}

/// The slice of Tokenize's vector interface the per-row matcher needs, over scratch memory.
struct TokenBuffer {
  int16_t* p;
  size_t n = 0;
  explicit TokenBuffer(int16_t* mem) : p(mem) {}
  void clear() { n = 0; }
  bool empty() const { return n == 0; }
  int16_t back() const { return p[n - 1]; }
  void push_back(int16_t t) { p[n++] = t; }
  const int16_t* data() const { return p; }
  size_t size() const { return n; }
};

enum class Shape { kExact, kPrefix, kSuffix, kContains, kAll, kGeneral };

struct LikeState {
  Shape shape = Shape::kGeneral;
  std::string literal;          // for the simple shapes (folded for ILIKE)
  std::vector<int16_t> tokens;  // for kGeneral
  bool constant_pattern = false;
  int escape = '\\';  // -1: no escape character
};

template <bool kFold>
inline bool EqualBytes(const char* a, const char* b, size_t n) {
  if constexpr (!kFold) {
    // Literals are short and most rows differ in the first bytes: an inline loop that exits
    // early beats a call to memcmp.
    if (n > 16) return BytesEqual(a, b, n);
    for (size_t i = 0; i < n; ++i)
      if (a[i] != b[i]) return false;
    return true;
  } else {
    for (size_t i = 0; i < n; ++i)
      if (Fold(static_cast<unsigned char>(a[i])) != static_cast<unsigned char>(b[i])) return false;
    return true;
  }
}

template <bool kFold>
inline bool Contains(std::string_view s, std::string_view lit) {
  if constexpr (!kFold) {
    // Candidates must match the literal's first and last bytes before the full compare; for
    // the short strings of typical rows this beats a generic search's setup.
    const size_t m = lit.size();
    if (m == 0) return true;
    if (m > s.size()) return false;
    const char first = lit[0], last = lit[m - 1];
    const char* p = s.data();
    for (size_t i = 0, end = s.size() - m; i <= end; ++i)
      if (p[i] == first && p[i + m - 1] == last && std::memcmp(p + i, lit.data(), m) == 0)
        return true;
    return false;
  } else {
    if (lit.size() > s.size()) return false;
    for (size_t i = 0; i + lit.size() <= s.size(); ++i)
      if (EqualBytes<true>(s.data() + i, lit.data(), lit.size())) return true;
    return false;
  }
}

/// Classifies tokens into a simple shape when possible.
void Classify(LikeState* st) {
  const std::vector<int16_t>& t = st->tokens;
  const bool lead = !t.empty() && t.front() == kAnyMany;
  const bool trail = t.size() > (lead ? 1u : 0u) && t.back() == kAnyMany;
  const size_t b = lead ? 1 : 0, e = t.size() - (trail ? 1 : 0);
  for (size_t i = b; i < e; ++i)
    if (t[i] > 255) return;  // an inner wildcard: general
  st->literal.clear();
  for (size_t i = b; i < e; ++i) st->literal.push_back(static_cast<char>(t[i]));
  if (lead && t.size() == 1)
    st->shape = Shape::kAll;
  else if (lead && trail)
    st->shape = Shape::kContains;
  else if (lead)
    st->shape = Shape::kSuffix;
  else if (trail)
    st->shape = Shape::kPrefix;
  else
    st->shape = Shape::kExact;
}

template <bool kFold>
inline bool MatchCompiled(const LikeState& st, std::string_view s) {
  const std::string_view lit = st.literal;
  switch (st.shape) {
    case Shape::kExact:
      return s.size() == lit.size() && EqualBytes<kFold>(s.data(), lit.data(), lit.size());
    case Shape::kPrefix:
      return s.size() >= lit.size() && EqualBytes<kFold>(s.data(), lit.data(), lit.size());
    case Shape::kSuffix:
      return s.size() >= lit.size() &&
             EqualBytes<kFold>(s.data() + s.size() - lit.size(), lit.data(), lit.size());
    case Shape::kContains:
      return Contains<kFold>(s, lit);
    case Shape::kAll:
      return true;
    case Shape::kGeneral:
      return MatchTokens<kFold>(s, st.tokens.data(), st.tokens.size());
  }
  return false;
}

/// Constant pattern, one specialised loop per shape.
template <bool kFold, bool kNegate, Shape kShape>
Status LikeConstKernel(const KernelContext& ctx, const Column* const* args, Column* out) {
  const LikeState& st = *static_cast<const LikeState*>(ctx.state);
  const Column& c = *args[0];
  out->ResetEmpty();
  const int64_t rows = c.is_constant() ? 1 : ctx.rows;
  out->ResizeFixed(rows);
  uint8_t* o = out->data<uint8_t>();
  const int32_t* off = c.offsets();
  const char* chars = c.chars();
  const std::string_view lit = st.literal;
  const size_t m = lit.size();
  for (int64_t i = 0; i < rows; ++i) {
    const std::string_view s(chars + off[i], static_cast<size_t>(off[i + 1] - off[i]));
    bool r;
    if constexpr (kShape == Shape::kPrefix) {
      r = s.size() >= m && EqualBytes<kFold>(s.data(), lit.data(), m);
    } else if constexpr (kShape == Shape::kSuffix) {
      r = s.size() >= m && EqualBytes<kFold>(s.data() + s.size() - m, lit.data(), m);
    } else if constexpr (kShape == Shape::kExact) {
      r = s.size() == m && EqualBytes<kFold>(s.data(), lit.data(), m);
    } else if constexpr (kShape == Shape::kContains) {
      r = Contains<kFold>(s, lit);
    } else {
      r = MatchCompiled<kFold>(st, s);
    }
    o[i] = r != kNegate;
  }
  PropagateValidity(args, 1, rows, out);
  if (c.is_constant()) out->MakeConstant(ctx.rows);
  return Status::OK();
}

/// Pattern (and escape) given per row.
template <bool kFold, bool kNegate, int kArity>
Status LikeDynamicKernel(const KernelContext& ctx, const Column* const* args, Column* out) {
  const LikeState& st = *static_cast<const LikeState*>(ctx.state);
  const RowArgs a(args, kArity);
  out->ResetEmpty();
  const int64_t rows = a.all_constant ? 1 : ctx.rows;
  out->ResizeFixed(rows);
  uint8_t* o = out->data<uint8_t>();
  // Tokens of the current row's pattern, in scratch memory (at most one token per byte).
  size_t max_pattern = 0;
  for (int64_t i = 0; i < rows; ++i) max_pattern = std::max(max_pattern, a.r[1].Str(i).size());
  TokenBuffer tokens(reinterpret_cast<int16_t*>(ScratchBytes(2 * max_pattern + 2)));
  for (int64_t i = 0; i < rows; ++i) {
    o[i] = 0;
    if (!a.Valid(i)) continue;
    int escape = st.escape;
    if constexpr (kArity == 3) {
      const std::string_view e = a.r[2].Str(i);
      if (e.size() > 1) {
        if (ctx.active == nullptr || ctx.active[i] || a.all_constant)
          return DataError("invalid escape string: \"{}\" (must be empty or one character)", e);
        continue;
      }
      escape = e.empty() ? -1 : static_cast<unsigned char>(e[0]);
    }
    const std::string_view p = a.r[1].Str(i);
    if (!Tokenize(p, escape, kFold, &tokens)) {
      if (a.all_constant ? AnyActive(ctx) : (ctx.active == nullptr || ctx.active[i]))
        return DataError("LIKE pattern must not end with escape character: \"{}\"", p);
      continue;
    }
    o[i] = MatchTokens<kFold>(a.r[0].Str(i), tokens.data(), tokens.size()) != kNegate;
  }
  PropagateValidity(args, kArity, rows, out);
  if (a.all_constant) out->MakeConstant(ctx.rows);
  return Status::OK();
}

template <bool kFold, bool kNegate>
KernelFn ConstKernelFor(Shape shape) {
  switch (shape) {
    case Shape::kExact:
      return LikeConstKernel<kFold, kNegate, Shape::kExact>;
    case Shape::kPrefix:
      return LikeConstKernel<kFold, kNegate, Shape::kPrefix>;
    case Shape::kSuffix:
      return LikeConstKernel<kFold, kNegate, Shape::kSuffix>;
    case Shape::kContains:
      return LikeConstKernel<kFold, kNegate, Shape::kContains>;
    default:
      return LikeConstKernel<kFold, kNegate, Shape::kGeneral>;
  }
}

template <bool kFold, bool kNegate>
Result<FunctionBinding> ResolveLike(std::string_view name, const Args& args) {
  const DataType text = DataType::Varchar();
  if (!SignatureMatches(args, {text, text}) && !SignatureMatches(args, {text, text, text}))
    return NoMatch();
  auto st = std::make_shared<LikeState>();
  std::vector<DataType> types(args.size(), text);
  bool dynamic = ConstantText(args[1]) == nullptr;
  if (args.size() == 3) {
    const std::string* e = ConstantText(args[2]);
    if (e == nullptr) {
      dynamic = true;  // per-row (or NULL) escape
    } else if (e->size() > 1) {
      return BindError("invalid escape string: \"{}\" (must be empty or one character)", *e);
    } else {
      st->escape = e->empty() ? -1 : static_cast<unsigned char>((*e)[0]);
    }
  }
  if (dynamic) {
    KernelFn k = args.size() == 2 ? LikeDynamicKernel<kFold, kNegate, 2>
                                  : LikeDynamicKernel<kFold, kNegate, 3>;
    return MakeBinding(name, DataType::Boolean(), std::move(types), k, std::move(st));
  }
  const std::string* pattern = ConstantText(args[1]);
  if (!Tokenize(*pattern, st->escape, kFold, &st->tokens))
    return BindError("LIKE pattern must not end with escape character: \"{}\"", *pattern);
  st->constant_pattern = true;
  Classify(st.get());
  const KernelFn k = ConstKernelFor<kFold, kNegate>(st->shape);
  return MakeBinding(name, DataType::Boolean(), std::move(types), k, std::move(st));
}

/// like_escape(pattern, escape): the pattern rewritten for the default escape '\' (how the
/// parser spells `LIKE pattern ESCAPE escape`). An empty escape makes every character literal.
struct LikeEscapeOp : Stateless {
  using Stateless::Stateless;
  static int64_t BytesHint(const ArgReader*, const Column* const* args, int64_t rows) {
    return 2 * VarcharBytes(*args[0], rows);
  }
  bool operator()(const ArgReader* a, int64_t i, VarcharWriter* w) const {
    const std::string_view p = a[0].Str(i), e = a[1].Str(i);
    if (e.size() > 1) return false;
    char* out = w->Reserve(2 * p.size());
    size_t n = 0;
    for (size_t k = 0; k < p.size(); ++k) {
      char c = p[k];
      if (!e.empty() && c == e[0]) {
        if (++k == p.size()) return false;
        c = p[k];
        out[n++] = '\\';
      } else if (c == '\\') {
        out[n++] = '\\';
      }
      out[n++] = c;
    }
    w->Commit(n);
    return true;
  }
  Status Error(const ArgReader* a, int64_t i) const {
    if (a[1].Str(i).size() > 1)
      return DataError("invalid escape string: \"{}\" (must be empty or one character)",
                       a[1].Str(i));
    return DataError("LIKE pattern must not end with escape character: \"{}\"", a[0].Str(i));
  }
};

Result<FunctionBinding> ResolveLikeEscape(std::string_view name, const Args& args) {
  const DataType text = DataType::Varchar();
  if (!SignatureMatches(args, {text, text})) return NoMatch();
  return MakeBinding(name, text, {text, text}, StringKernel<LikeEscapeOp, 2>);
}

constexpr FunctionDef kFunctions[] = {
    {"like_escape", ResolveLikeEscape},     {"like", ResolveLike<false, false>},
    {"not_like", ResolveLike<false, true>}, {"ilike", ResolveLike<true, false>},
    {"not_ilike", ResolveLike<true, true>},
};

}  // namespace

std::span<const FunctionDef> LikeFunctions() { return kFunctions; }

}  // namespace weir::fn
