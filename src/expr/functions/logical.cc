// Boolean logic with SQL three-valued semantics: and, or (two or more arguments), not;
// is_null / is_not_null (any type) and is_true / is_false / is_not_true / is_not_false, which
// never return NULL.
//
//   AND: false if any argument is false, else NULL if any is NULL, else true.
//   OR:  true if any argument is true, else NULL if any is NULL, else false.
#include "expr/functions/kernel.h"
#include "expr/functions/registry.h"

namespace weir::fn {
namespace {

struct ArityState {
  int nargs = 0;
};

template <bool kAnd>
Status AndOrKernel(const KernelContext& ctx, const Column* const* args, Column* out) {
  const int n = static_cast<const ArityState*>(ctx.state)->nargs;
  const RowArgs a(args, n);
  out->ResetEmpty();
  const int64_t rows = a.all_constant ? 1 : ctx.rows;
  out->ResizeFixed(rows);
  uint8_t* o = out->data<uint8_t>();
  bool any_validity = false;
  for (int k = 0; k < n; ++k) any_validity |= args[k]->has_validity();
  if (!any_validity) {
    // Two-valued: a bytewise AND / OR, one pass per argument.
    std::memset(o, kAnd ? 1 : 0, static_cast<size_t>(rows));
    for (int k = 0; k < n; ++k) {
      const uint8_t* v = args[k]->data<uint8_t>();
      if (args[k]->is_constant()) {
        const uint8_t c = v[0];
        for (int64_t i = 0; i < rows; ++i) o[i] = kAnd ? (o[i] & c) : (o[i] | c);
      } else {
        for (int64_t i = 0; i < rows; ++i) o[i] = kAnd ? (o[i] & v[i]) : (o[i] | v[i]);
      }
    }
  } else {
    uint8_t* valid = out->EnsureValidity();
    for (int64_t i = 0; i < rows; ++i) {
      bool decisive = false, null = false;  // decisive: a valid false (AND) / true (OR)
      for (int k = 0; k < n; ++k) {
        const bool vk = a.r[k].Valid(i);
        const bool x = a.r[k].Get<uint8_t>(i) != 0;
        decisive |= vk & (kAnd ? !x : x);
        null |= !vk;
      }
      o[i] = kAnd ? !decisive : decisive;
      SetBitTo(valid, i, decisive | !null);
    }
  }
  if (a.all_constant) out->MakeConstant(ctx.rows);
  return Status::OK();
}

struct NotOp : Stateless {
  using Stateless::Stateless;
  bool operator()(uint8_t a, uint8_t* r) const {
    *r = a == 0;
    return false;
  }
  Status Error(uint8_t) const { return Status::OK(); }
};

enum class Test { kNull, kNotNull, kTrue, kFalse, kNotTrue, kNotFalse };

/// IS [NOT] NULL / TRUE / FALSE: a never-NULL BOOLEAN from the validity (and value) of one arg.
template <Test kTest>
Status TestKernel(const KernelContext& ctx, const Column* const* args, Column* out) {
  const Column& c = *args[0];
  out->ResetEmpty();
  const int64_t rows = c.is_constant() ? 1 : ctx.rows;
  out->ResizeFixed(rows);
  uint8_t* o = out->data<uint8_t>();
  const uint8_t* validity = c.validity();
  const uint8_t* v =
      (kTest == Test::kNull || kTest == Test::kNotNull) ? nullptr : c.data<uint8_t>();
  for (int64_t i = 0; i < rows; ++i) {
    const bool valid = validity == nullptr || GetBit(validity, i);
    bool r;
    if constexpr (kTest == Test::kNull) r = !valid;
    if constexpr (kTest == Test::kNotNull) r = valid;
    if constexpr (kTest == Test::kTrue) r = valid & (v[i] != 0);
    if constexpr (kTest == Test::kFalse) r = valid & (v[i] == 0);
    if constexpr (kTest == Test::kNotTrue) r = !(valid & (v[i] != 0));
    if constexpr (kTest == Test::kNotFalse) r = !(valid & (v[i] == 0));
    o[i] = r;
  }
  if (c.is_constant()) out->MakeConstant(ctx.rows);
  return Status::OK();
}

/// BOOLEAN, NULL or an untyped literal ('true') qualify as a boolean argument.
bool IsBooleanArg(const ArgInfo& a) { return a.type.id == TypeId::kBoolean || IsUntyped(a); }

Status NotBoolean(const char* what, const ArgInfo& a) {
  return BindError("argument of {} must be type BOOLEAN, not type {}", what, a.type.ToString());
}

template <bool kAnd>
Result<FunctionBinding> ResolveAndOr(std::string_view name, const Args& args) {
  if (args.size() < 2) return NoMatch();
  for (const ArgInfo& a : args)
    if (!IsBooleanArg(a)) return NotBoolean(kAnd ? "AND" : "OR", a);
  auto st = std::make_shared<ArityState>();
  st->nargs = static_cast<int>(args.size());
  return MakeBinding(name, DataType::Boolean(),
                     std::vector<DataType>(args.size(), DataType::Boolean()), AndOrKernel<kAnd>,
                     std::move(st));
}

Result<FunctionBinding> ResolveNot(std::string_view name, const Args& args) {
  if (args.size() != 1) return NoMatch();
  if (!IsBooleanArg(args[0])) return NotBoolean("NOT", args[0]);
  const DataType b = DataType::Boolean();
  return MakeBinding(name, b, {b}, UnaryKernel<uint8_t, uint8_t, NotOp>);
}

template <Test kTest>
Result<FunctionBinding> ResolveTest(std::string_view name, const Args& args) {
  if (args.size() != 1) return NoMatch();
  const DataType b = DataType::Boolean();
  if constexpr (kTest == Test::kNull || kTest == Test::kNotNull) {
    DataType t = LoneType(args[0]);
    if (t.id == TypeId::kNull) t = b;
    return MakeBinding(name, b, {t}, TestKernel<kTest>);
  } else {
    if (!IsBooleanArg(args[0])) {
      constexpr const char* kWhat[] = {
          "", "", "IS TRUE", "IS FALSE", "IS NOT TRUE", "IS NOT FALSE"};
      return NotBoolean(kWhat[static_cast<int>(kTest)], args[0]);
    }
    return MakeBinding(name, b, {b}, TestKernel<kTest>);
  }
}

constexpr FunctionDef kFunctions[] = {
    {"and", ResolveAndOr<true>},
    {"or", ResolveAndOr<false>},
    {"not", ResolveNot},
    {"is_null", ResolveTest<Test::kNull>},
    {"is_not_null", ResolveTest<Test::kNotNull>},
    {"is_true", ResolveTest<Test::kTrue>},
    {"is_false", ResolveTest<Test::kFalse>},
    {"is_not_true", ResolveTest<Test::kNotTrue>},
    {"is_not_false", ResolveTest<Test::kNotFalse>},
};

}  // namespace

std::span<const FunctionDef> LogicalFunctions() { return kFunctions; }

}  // namespace weir::fn
