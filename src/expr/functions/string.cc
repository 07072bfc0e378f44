// String functions over UTF-8 VARCHAR. Positions and lengths count characters (code points),
// not bytes, as PostgreSQL does with a UTF-8 database; case mapping is ASCII-only (other bytes
// pass through unchanged).
//
//   concat(a, ...)             NULL arguments are skipped; never NULL (PostgreSQL concat())
//   concat_op(a, b, ...)       the || operator: NULL if any argument is NULL; non-VARCHAR
//                              arguments are cast to their text form
//   lower(s), upper(s)
//   length(s) / char_length / character_length -> INT characters; octet_length(s) -> INT bytes
//   substring(s, start[, len]) / substr: 1-based; a start below 1 shortens the result as in
//                              PostgreSQL (substring('hello', 0, 3) = 'he'); len < 0 is an error
//   btrim/trim, ltrim, rtrim(s[, chars]): strip spaces, or any character of `chars`
//   split_part(s, delim, n):   n-th field (1-based; negative counts from the end; 0 is an error)
//   replace(s, from, to):      every occurrence; an empty `from` leaves s unchanged
//   strpos(s, sub) / position(s, sub): 1-based character position of the first match, 0 if none
//                              (the parser turns POSITION(sub IN s) into position(s, sub))
//   left(s, n), right(s, n): first / last n characters (n < 0: all but the last / first -n)
//   starts_with(s, prefix) -> BOOLEAN
#include <algorithm>

#include "expr/functions/kernel.h"
#include "expr/functions/registry.h"

namespace weir::fn {
namespace {

const DataType kText = DataType::Varchar();
const DataType kBigint = DataType::Int64();
const DataType kInt = DataType::Int32();

struct ArityState {
  int nargs = 0;
};

// ---- concat / || --------------------------------------------------------------------------

template <bool kNullIfAnyNull>
Status ConcatKernel(const KernelContext& ctx, const Column* const* args, Column* out) {
  const int n = static_cast<const ArityState*>(ctx.state)->nargs;
  const RowArgs a(args, n);
  out->ResetEmpty();
  const int64_t rows = a.all_constant ? 1 : ctx.rows;
  int64_t bytes = 0;
  for (int k = 0; k < n; ++k) bytes += VarcharBytes(*args[k], rows);
  VarcharWriter w(out, rows, bytes);
  for (int64_t i = 0; i < rows; ++i) {
    if (kNullIfAnyNull && !a.Valid(i)) {
      w.AppendEmpty();
      continue;
    }
    size_t len = 0;
    for (int k = 0; k < n; ++k)
      if (kNullIfAnyNull || a.r[k].Valid(i)) len += a.r[k].Str(i).size();
    char* p = w.Reserve(len);
    for (int k = 0; k < n; ++k) {
      if (!kNullIfAnyNull && !a.r[k].Valid(i)) continue;
      const std::string_view s = a.r[k].Str(i);
      CopyBytes(p, s.data(), s.size());
      p += s.size();
    }
    w.Commit(len);
  }
  w.Finish();
  if (kNullIfAnyNull) PropagateValidity(args, n, rows, out);
  if (a.all_constant) out->MakeConstant(ctx.rows);
  return Status::OK();
}

template <bool kNullIfAnyNull>
Result<FunctionBinding> ResolveConcat(std::string_view name, const Args& args) {
  if (args.empty() || (kNullIfAnyNull && args.size() < 2)) return NoMatch();
  if (kNullIfAnyNull) {
    // `||` needs a text operand, as PostgreSQL's text || anynonarray.
    bool any_text = false;
    for (const ArgInfo& a : args) any_text |= a.type.id == TypeId::kVarchar || IsUntyped(a);
    if (!any_text) return NoMatch();
  }
  auto st = std::make_shared<ArityState>();
  st->nargs = static_cast<int>(args.size());
  return MakeBinding(name, kText, std::vector<DataType>(args.size(), kText),
                     ConcatKernel<kNullIfAnyNull>, std::move(st));
}

// ---- lower / upper ------------------------------------------------------------------------

template <bool kUpper>
Status CaseKernel(const KernelContext& ctx, const Column* const* args, Column* out) {
  // Same offsets and validity as the input: copy the column, then map the bytes in place.
  out->CopyFrom(*args[0]);
  uint8_t* __restrict c = out->chars_buffer().data();
  const size_t n = out->chars_buffer().size();
  constexpr uint8_t kFrom = kUpper ? 'a' : 'A';
  auto map = [](uint8_t x) {
    return static_cast<uint8_t>(x ^ (static_cast<uint8_t>(x - kFrom) < 26 ? 0x20 : 0));
  };
  size_t i = 0;
  for (; i + 32 <= n; i += 32)  // fixed-size blocks: vectorized at -O2
    for (size_t j = 0; j < 32; ++j) c[i + j] = map(c[i + j]);
  for (; i < n; ++i) c[i] = map(c[i]);
  if (out->is_constant()) out->SetConstantLength(ctx.rows);
  return Status::OK();
}

// ---- length -------------------------------------------------------------------------------

template <bool kBytes>
struct LengthOp : Stateless {
  using Stateless::Stateless;
  bool operator()(const ArgReader* a, int64_t i, int32_t* r) const {
    const std::string_view s = a[0].Str(i);
    *r = static_cast<int32_t>(kBytes ? static_cast<int64_t>(s.size()) : Utf8Length(s));
    return true;
  }
  Status Error(const ArgReader*, int64_t) const { return Status::OK(); }
};

// ---- substring ----------------------------------------------------------------------------

template <int kArity>
struct SubstringOp : Stateless {
  using Stateless::Stateless;
  static int64_t BytesHint(const ArgReader*, const Column* const* args, int64_t rows) {
    return VarcharBytes(*args[0], rows);
  }
  bool operator()(const ArgReader* a, int64_t i, VarcharWriter* w) const {
    const std::string_view s = a[0].Str(i);
    const int64_t start = a[1].Get<int64_t>(i);
    int64_t end = INT64_MAX;  // exclusive, in characters
    if constexpr (kArity == 3) {
      const int64_t len = a[2].Get<int64_t>(i);
      if (len < 0) return false;
      if (__builtin_add_overflow(start, len, &end)) end = INT64_MAX;
    }
    const int64_t begin = start < 1 ? 1 : start;
    if (end <= begin) {
      w->AppendEmpty();
      return true;
    }
    const size_t from = Utf8Skip(s, begin - 1);
    const std::string_view rest = s.substr(from);
    const size_t take = end == INT64_MAX ? rest.size() : Utf8Skip(rest, end - begin);
    w->Append(rest.substr(0, take));
    return true;
  }
  Status Error(const ArgReader* a, int64_t i) const {
    return DataError("negative substring length not allowed: {}", a[2].Get<int64_t>(i));
  }
};

// ---- trim ---------------------------------------------------------------------------------

/// The set of characters to strip: an ASCII bitmap, or (with non-ASCII members) the text.
struct TrimSet {
  uint64_t ascii[4] = {0, 0, 0, 0};
  bool ascii_only = true;
  std::string_view chars;  // valid when !ascii_only

  void Build(std::string_view set) {
    ascii[0] = ascii[1] = ascii[2] = ascii[3] = 0;
    ascii_only = true;
    for (unsigned char c : set) {
      if (c >= 0x80) ascii_only = false;
      ascii[c >> 6] |= uint64_t{1} << (c & 63);
    }
    chars = set;
  }
  /// Length in bytes of the character at s[p] if it is in the set, else 0.
  size_t MatchAt(std::string_view s, size_t p) const {
    const unsigned char c = static_cast<unsigned char>(s[p]);
    if (ascii_only || c < 0x80) return ((ascii[c >> 6] >> (c & 63)) & 1) && c < 0x80 ? 1 : 0;
    const size_t len = std::min<size_t>(static_cast<size_t>(Utf8SeqLen(c)), s.size() - p);
    for (size_t q = 0; q < chars.size();) {
      const size_t l = static_cast<size_t>(Utf8SeqLen(static_cast<unsigned char>(chars[q])));
      if (l == len && chars.compare(q, l, s.substr(p, len)) == 0) return len;
      q += l;
    }
    return 0;
  }
};

struct TrimState {
  bool has_constant_set = false;
  TrimSet set;
  std::string owned;
};

template <bool kLeft, bool kRight, int kArity>
struct TrimOp {
  const TrimState* st;
  explicit TrimOp(const void* state) : st(static_cast<const TrimState*>(state)) {}
  static int64_t BytesHint(const ArgReader*, const Column* const* args, int64_t rows) {
    return VarcharBytes(*args[0], rows);
  }
  bool operator()(const ArgReader* a, int64_t i, VarcharWriter* w) const {
    const std::string_view s = a[0].Str(i);
    size_t b = 0, e = s.size();
    if (kArity == 1) {
      if (kLeft)
        while (b < e && s[b] == ' ') ++b;
      if (kRight)
        while (e > b && s[e - 1] == ' ') --e;
    } else {
      TrimSet local;
      const TrimSet* set = &st->set;
      if (!st->has_constant_set) {
        local.Build(a[1].Str(i));
        set = &local;
      }
      if (kLeft) {
        for (size_t l; b < e && (l = set->MatchAt(s, b)) != 0;) b += l;
      }
      if (kRight) {
        while (e > b) {
          size_t start = e - 1;  // back up to the lead byte of the last character
          while (start > b && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
          if (set->MatchAt(s, start) != e - start) break;
          e = start;
        }
      }
    }
    w->Append(s.substr(b, e - b));
    return true;
  }
  Status Error(const ArgReader*, int64_t) const { return Status::OK(); }
};

// ---- split_part ---------------------------------------------------------------------------

struct SplitPartOp : Stateless {
  using Stateless::Stateless;
  static int64_t BytesHint(const ArgReader*, const Column* const* args, int64_t rows) {
    return VarcharBytes(*args[0], rows);
  }
  bool operator()(const ArgReader* a, int64_t i, VarcharWriter* w) const {
    const std::string_view s = a[0].Str(i), d = a[1].Str(i);
    const int64_t n = a[2].Get<int64_t>(i);
    if (n == 0) return false;
    if (d.empty()) {  // the whole string is the only field
      w->Append(n == 1 || n == -1 ? s : std::string_view());
      return true;
    }
    if (n > 0) {
      size_t b = 0;
      for (int64_t k = 1; k < n; ++k) {
        const size_t p = s.find(d, b);
        if (p == std::string_view::npos) {
          w->AppendEmpty();
          return true;
        }
        b = p + d.size();
      }
      const size_t e = s.find(d, b);
      w->Append(s.substr(b, e == std::string_view::npos ? std::string_view::npos : e - b));
    } else {
      size_t e = s.size();
      for (int64_t k = -1; k > n; --k) {
        if (e < d.size()) {
          w->AppendEmpty();
          return true;
        }
        const size_t p = s.rfind(d, e - d.size());
        if (p == std::string_view::npos) {
          w->AppendEmpty();
          return true;
        }
        e = p;
      }
      const size_t p = e < d.size() ? std::string_view::npos : s.rfind(d, e - d.size());
      const size_t b = p == std::string_view::npos ? 0 : p + d.size();
      w->Append(s.substr(b, e - b));
    }
    return true;
  }
  Status Error(const ArgReader*, int64_t) const {
    return DataError("field position must not be zero");
  }
};

// ---- replace ------------------------------------------------------------------------------

struct ReplaceOp : Stateless {
  using Stateless::Stateless;
  static int64_t BytesHint(const ArgReader*, const Column* const* args, int64_t rows) {
    return VarcharBytes(*args[0], rows);
  }
  bool operator()(const ArgReader* a, int64_t i, VarcharWriter* w) const {
    const std::string_view s = a[0].Str(i), from = a[1].Str(i), to = a[2].Str(i);
    if (from.empty()) {
      w->Append(s);
      return true;
    }
    size_t b = 0, len = 0;
    for (size_t p; (p = s.find(from, b)) != std::string_view::npos; b = p + from.size()) {
      char* dst = w->Reserve(len + (p - b) + to.size()) + len;
      CopyBytes(dst, s.data() + b, p - b);
      CopyBytes(dst + (p - b), to.data(), to.size());
      len += (p - b) + to.size();
    }
    char* dst = w->Reserve(len + (s.size() - b)) + len;
    CopyBytes(dst, s.data() + b, s.size() - b);
    w->Commit(len + (s.size() - b));
    return true;
  }
  Status Error(const ArgReader*, int64_t) const { return Status::OK(); }
};

// ---- left / right -------------------------------------------------------------------------

template <bool kLeft>
struct LeftRightOp : Stateless {
  using Stateless::Stateless;
  static int64_t BytesHint(const ArgReader*, const Column* const* args, int64_t rows) {
    return VarcharBytes(*args[0], rows);
  }
  bool operator()(const ArgReader* a, int64_t i, VarcharWriter* w) const {
    const std::string_view s = a[0].Str(i);
    const int64_t n = a[1].Get<int64_t>(i);
    // left(s, n): the first n characters (n < 0: all but the last -n); right mirrors it.
    const int64_t len = Utf8Length(s);
    int64_t keep =
        n >= 0 ? std::min(n, len) : std::max<int64_t>(0, len + std::max<int64_t>(n, -len));
    const size_t cut = Utf8Skip(s, kLeft ? keep : len - keep);
    w->Append(kLeft ? s.substr(0, cut) : s.substr(cut));
    return true;
  }
  Status Error(const ArgReader*, int64_t) const { return Status::OK(); }
};

// ---- strpos / starts_with -----------------------------------------------------------------

struct StrposOp : Stateless {
  using Stateless::Stateless;
  bool operator()(const ArgReader* a, int64_t i, int32_t* r) const {
    const std::string_view s = a[0].Str(i), sub = a[1].Str(i);
    const size_t p = s.find(sub);
    *r = p == std::string_view::npos ? 0 : static_cast<int32_t>(Utf8Length(s.substr(0, p)) + 1);
    return true;
  }
  Status Error(const ArgReader*, int64_t) const { return Status::OK(); }
};

struct StartsWithOp : Stateless {
  using Stateless::Stateless;
  bool operator()(const ArgReader* a, int64_t i, uint8_t* r) const {
    *r = a[0].Str(i).starts_with(a[1].Str(i));
    return true;
  }
  Status Error(const ArgReader*, int64_t) const { return Status::OK(); }
};

// ---- resolution ---------------------------------------------------------------------------

Result<FunctionBinding> ResolveCase(std::string_view name, const Args& args) {
  if (!SignatureMatches(args, {kText})) return NoMatch();
  return MakeBinding(name, kText, {kText}, name == "upper" ? CaseKernel<true> : CaseKernel<false>);
}

Result<FunctionBinding> ResolveLength(std::string_view name, const Args& args) {
  if (!SignatureMatches(args, {kText})) return NoMatch();
  return MakeBinding(name, kInt, {kText},
                     name == "octet_length" ? RowKernel<int32_t, LengthOp<true>, 1>
                                            : RowKernel<int32_t, LengthOp<false>, 1>);
}

Result<FunctionBinding> ResolveSubstring(std::string_view name, const Args& args) {
  if (SignatureMatches(args, {kText, kBigint}))
    return MakeBinding(name, kText, {kText, kBigint}, StringKernel<SubstringOp<2>, 2>);
  if (SignatureMatches(args, {kText, kBigint, kBigint}))
    return MakeBinding(name, kText, {kText, kBigint, kBigint}, StringKernel<SubstringOp<3>, 3>);
  return NoMatch();
}

template <bool kLeft, bool kRight>
Result<FunctionBinding> ResolveTrim(std::string_view name, const Args& args) {
  if (SignatureMatches(args, {kText}))
    return MakeBinding(name, kText, {kText}, StringKernel<TrimOp<kLeft, kRight, 1>, 1>,
                       std::make_shared<TrimState>());
  if (!SignatureMatches(args, {kText, kText})) return NoMatch();
  auto st = std::make_shared<TrimState>();
  if (const std::string* set = ConstantText(args[1])) {
    st->owned = *set;
    st->set.Build(st->owned);
    st->has_constant_set = true;
  }
  return MakeBinding(name, kText, {kText, kText}, StringKernel<TrimOp<kLeft, kRight, 2>, 2>,
                     std::move(st));
}

Result<FunctionBinding> ResolveSplitPart(std::string_view name, const Args& args) {
  if (!SignatureMatches(args, {kText, kText, kBigint})) return NoMatch();
  return MakeBinding(name, kText, {kText, kText, kBigint}, StringKernel<SplitPartOp, 3>);
}

Result<FunctionBinding> ResolveReplace(std::string_view name, const Args& args) {
  if (!SignatureMatches(args, {kText, kText, kText})) return NoMatch();
  return MakeBinding(name, kText, {kText, kText, kText}, StringKernel<ReplaceOp, 3>);
}

template <bool kLeft>
Result<FunctionBinding> ResolveLeftRight(std::string_view name, const Args& args) {
  if (!SignatureMatches(args, {kText, kBigint})) return NoMatch();
  return MakeBinding(name, kText, {kText, kBigint}, StringKernel<LeftRightOp<kLeft>, 2>);
}

Result<FunctionBinding> ResolveStrpos(std::string_view name, const Args& args) {
  if (!SignatureMatches(args, {kText, kText})) return NoMatch();
  return MakeBinding(name, kInt, {kText, kText}, RowKernel<int32_t, StrposOp, 2>);
}

Result<FunctionBinding> ResolveStartsWith(std::string_view name, const Args& args) {
  if (!SignatureMatches(args, {kText, kText})) return NoMatch();
  return MakeBinding(name, DataType::Boolean(), {kText, kText},
                     RowKernel<uint8_t, StartsWithOp, 2>);
}

constexpr FunctionDef kFunctions[] = {
    {"concat", ResolveConcat<false>},
    {"concat_op", ResolveConcat<true>},
    {"lower", ResolveCase},
    {"upper", ResolveCase},
    {"length", ResolveLength},
    {"char_length", ResolveLength},
    {"character_length", ResolveLength},
    {"octet_length", ResolveLength},
    {"substring", ResolveSubstring},
    {"substr", ResolveSubstring},
    {"trim", ResolveTrim<true, true>},
    {"btrim", ResolveTrim<true, true>},
    {"ltrim", ResolveTrim<true, false>},
    {"rtrim", ResolveTrim<false, true>},
    {"split_part", ResolveSplitPart},
    {"replace", ResolveReplace},
    {"left", ResolveLeftRight<true>},
    {"right", ResolveLeftRight<false>},
    {"strpos", ResolveStrpos},
    {"position", ResolveStrpos},
    {"starts_with", ResolveStartsWith},
};

}  // namespace

std::span<const FunctionDef> StringFunctions() { return kFunctions; }

}  // namespace weir::fn
