// Regular-expression functions, backed by RE2 (linear-time matching, no backtracking):
//
//   regexp_extract(s, pattern[, group]) -> VARCHAR   Flink's REGEXP_EXTRACT: the text of capture
//        group `group` (0 = the whole match; default 0) of the first match of `pattern` in s;
//        NULL when nothing matches or the group did not take part in the match
//   regexp_like(s, pattern)             -> BOOLEAN   true when `pattern` matches somewhere in s
//                                                    (PostgreSQL's `s ~ pattern`)
//
// The pattern (and group) must be constants: the pattern is compiled once per call site at bind
// time (an invalid pattern or a group beyond the pattern's groups is a bind error), and rows run
// RE2::Match over string views of the input with a fixed-size submatch array — no allocation
// per row. RE2 syntax is close to Perl/Java for what queries use (classes, groups,
// alternation, anchors, non-greedy repeats); back-references and look-around are not
// supported (RE2 rejects them at bind time).
#include <re2/re2.h>

#include "expr/functions/kernel.h"
#include "expr/functions/registry.h"

namespace weir::fn {
namespace {

/// Capture groups a regexp_extract call can ask for (pattern groups beyond it are fine).
constexpr int kGroupsMax = 32;

struct Regexp {
  std::unique_ptr<RE2> re;
  int group = 0;
};

Result<std::shared_ptr<Regexp>> Compile(std::string_view fn, const std::string& pattern) {
  auto r = std::make_shared<Regexp>();
  RE2::Options options;
  options.set_log_errors(false);
  r->re = std::make_unique<RE2>(pattern, options);
  if (!r->re->ok())
    return BindError("{}: invalid regular expression \"{}\": {}", fn, pattern, r->re->error());
  return r;
}

inline re2::StringPiece Piece(std::string_view s) { return re2::StringPiece(s.data(), s.size()); }

Status ExtractKernel(const KernelContext& ctx, const Column* const* args, Column* out) {
  const Regexp& rx = *static_cast<const Regexp*>(ctx.state);
  const ArgReader s(*args[0]);
  const bool constant = args[0]->is_constant();
  const int64_t rows = constant ? 1 : ctx.rows;
  out->ResetEmpty();
  VarcharWriter w(out, rows, VarcharBytes(*args[0], rows) / 2);
  re2::StringPiece groups[kGroupsMax + 1];
  const int nsub = rx.group + 1;
  int64_t nulls = 0;
  // First pass writes values and remembers NULL rows in a scratch byte mask.
  uint8_t* is_null = ScratchBytes(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) {
    is_null[i] = 0;
    if (!s.Valid(i)) {
      is_null[i] = 1;
      ++nulls;
      w.AppendEmpty();
      continue;
    }
    const std::string_view text = s.Str(i);
    if (rx.re->Match(Piece(text), 0, text.size(), RE2::UNANCHORED, groups, nsub) &&
        groups[rx.group].data() != nullptr) {
      w.Append(std::string_view(groups[rx.group].data(), groups[rx.group].size()));
    } else {
      is_null[i] = 1;
      ++nulls;
      w.AppendEmpty();
    }
  }
  w.Finish();
  if (nulls > 0) {
    uint8_t* v = out->EnsureValidity();
    for (int64_t i = 0; i < rows; ++i)
      if (is_null[i]) v[i >> 3] &= static_cast<uint8_t>(~(1u << (i & 7)));
  }
  if (constant) out->MakeConstant(ctx.rows);
  return Status::OK();
}

struct LikeOp {
  explicit LikeOp(const void* state) : rx(static_cast<const Regexp*>(state)) {}
  const Regexp* rx;
  bool operator()(const ArgReader* a, int64_t i, uint8_t* r) const {
    *r = RE2::PartialMatch(Piece(a[0].Str(i)), *rx->re) ? 1 : 0;
    return true;
  }
  Status Error(const ArgReader*, int64_t) const { return Status::OK(); }
};

Result<FunctionBinding> ResolveExtract(std::string_view name, const Args& args) {
  const DataType text = DataType::Varchar();
  if (args.size() < 2 || args.size() > 3) return NoMatch();
  if (!ArgMatches(args[0], text) || !ArgMatches(args[1], text)) return NoMatch();
  if (args.size() == 3 && !ArgMatches(args[2], DataType::Int64())) return NoMatch();
  const std::string* pattern = ConstantText(args[1]);
  if (pattern == nullptr) return BindError("{}: the pattern must be a constant string", name);
  WEIR_ASSIGN_OR_RETURN(std::shared_ptr<Regexp> rx, Compile(name, *pattern));
  std::vector<DataType> arg_types = {text, text};
  if (args.size() == 3) {
    const Value* g = args[2].constant;
    if (g == nullptr || g->is_null) return BindError("{}: the group index must be a constant", name);
    WEIR_ASSIGN_OR_RETURN(Value gv, CastValue(*g, DataType::Int64()));
    const int64_t group = gv.i;
    if (group < 0 || group > rx->re->NumberOfCapturingGroups() || group > kGroupsMax)
      return BindError("{}: group {} does not exist in \"{}\" ({} capture groups)", name, group,
                       *pattern, rx->re->NumberOfCapturingGroups());
    rx->group = static_cast<int>(group);
    arg_types.push_back(DataType::Int64());
  }
  return MakeBinding(name, text, std::move(arg_types), ExtractKernel, std::move(rx));
}

Result<FunctionBinding> ResolveLike(std::string_view name, const Args& args) {
  const DataType text = DataType::Varchar();
  if (!SignatureMatches(args, {text, text})) return NoMatch();
  const std::string* pattern = ConstantText(args[1]);
  if (pattern == nullptr) return BindError("{}: the pattern must be a constant string", name);
  WEIR_ASSIGN_OR_RETURN(std::shared_ptr<Regexp> rx, Compile(name, *pattern));
  return MakeBinding(name, DataType::Boolean(), {text, text}, RowKernel<uint8_t, LikeOp, 2>,
                     std::move(rx));
}

constexpr FunctionDef kFunctions[] = {
    {"regexp_extract", ResolveExtract},
    {"regexp_like", ResolveLike},
};

}  // namespace

std::span<const FunctionDef> RegexpFunctions() { return kFunctions; }

}  // namespace weir::fn
