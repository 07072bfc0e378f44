// Functions over a common supertype of their arguments (CommonSuperType, folded left to right):
//
//   coalesce(a, ...)            first non-NULL argument (all arguments are evaluated)
//   greatest(a, ...), least     largest / smallest non-NULL argument; NULL only if all are NULL
//                               (PostgreSQL semantics); orderings as in comparison.cc
//   nullif(a, b)                NULL when a = b, else a
//   is_distinct_from(a, b), is_not_distinct_from(a, b)
//                               NULL-safe comparison; never NULL
#include <cmath>

#include "expr/functions/kernel.h"
#include "expr/functions/registry.h"

namespace weir::fn {
namespace {

struct ArityState {
  int nargs = 0;
};

template <typename T>
inline T Read(const ArgReader& r, int64_t i) {
  if constexpr (std::is_same_v<T, std::string_view>) {
    return r.Str(i);
  } else {
    return r.Get<T>(i);
  }
}

template <typename T>
inline bool Less(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, double>) {
    return (a < b) | (!std::isnan(a) & std::isnan(b));  // NaN sorts last
  } else if constexpr (std::is_same_v<T, Interval>) {
    return IntervalKey(a) < IntervalKey(b);
  } else {
    return a < b;
  }
}

template <typename T>
inline bool Equal(const T& a, const T& b) {
  if constexpr (std::is_same_v<T, double>) {
    return (a == b) | (std::isnan(a) & std::isnan(b));
  } else if constexpr (std::is_same_v<T, Interval>) {
    return IntervalKey(a) == IntervalKey(b);
  } else {
    return a == b;
  }
}

/// Output sink for one row kernel: fixed-width values or VARCHAR.
template <typename T>
struct Sink {
  T* o = nullptr;
  Sink(Column* out, int64_t rows, const Column* const* args, int n) {
    out->ResizeFixed(rows);
    o = out->data<T>();
  }
  void Put(int64_t i, const T& v) { o[i] = v; }
  void PutNull(int64_t i) { o[i] = T{}; }
  void Finish() {}
};
template <>
struct Sink<std::string_view> {
  VarcharWriter w;
  static int64_t Bytes(const Column* const* args, int n, int64_t rows) {
    int64_t b = 0;
    for (int k = 0; k < n; ++k) b = std::max(b, VarcharBytes(*args[k], rows));
    return b;
  }
  Sink(Column* out, int64_t rows, const Column* const* args, int n)
      : w(out, rows, Bytes(args, n, rows)) {}
  void Put(int64_t, std::string_view v) { w.Append(v); }
  void PutNull(int64_t) { w.AppendEmpty(); }
  void Finish() { w.Finish(); }
};

enum class Pick { kCoalesce, kGreatest, kLeast };

template <typename T, Pick kPick>
Status PickKernel(const KernelContext& ctx, const Column* const* args, Column* out) {
  const int n = static_cast<const ArityState*>(ctx.state)->nargs;
  const RowArgs a(args, n);
  out->ResetEmpty();
  const int64_t rows = a.all_constant ? 1 : ctx.rows;
  Sink<T> sink(out, rows, args, n);
  bool any_validity = false;
  for (int k = 0; k < n; ++k) any_validity |= args[k]->has_validity();
  uint8_t* valid_rows = any_validity ? ScratchBytes(static_cast<size_t>(rows)) : nullptr;
  for (int64_t i = 0; i < rows; ++i) {
    bool have = false;
    T best{};
    for (int k = 0; k < n; ++k) {
      if (!a.r[k].Valid(i)) continue;
      const T v = Read<T>(a.r[k], i);
      if (kPick == Pick::kCoalesce) {
        best = v;
        have = true;
        break;
      }
      if (!have || (kPick == Pick::kGreatest ? Less(best, v) : Less(v, best))) best = v;
      have = true;
    }
    if (have)
      sink.Put(i, best);
    else
      sink.PutNull(i);
    if (any_validity) valid_rows[i] = have;
  }
  sink.Finish();
  if (any_validity) {
    uint8_t* bm = out->EnsureValidity();
    for (int64_t i = 0; i < rows; ++i) SetBitTo(bm, i, valid_rows[i] != 0);
  }
  if (a.all_constant) out->MakeConstant(ctx.rows);
  return Status::OK();
}

template <typename T>
Status NullIfKernel(const KernelContext& ctx, const Column* const* args, Column* out) {
  const RowArgs a(args, 2);
  out->ResetEmpty();
  const int64_t rows = a.all_constant ? 1 : ctx.rows;
  Sink<T> sink(out, rows, args, 1);
  uint8_t* valid_rows = ScratchBytes(static_cast<size_t>(rows));
  for (int64_t i = 0; i < rows; ++i) {
    const bool va = a.r[0].Valid(i);
    const T v = va ? Read<T>(a.r[0], i) : T{};
    const bool eq = va && a.r[1].Valid(i) && Equal(v, Read<T>(a.r[1], i));
    if (va && !eq)
      sink.Put(i, v);
    else
      sink.PutNull(i);
    valid_rows[i] = va && !eq;
  }
  sink.Finish();
  uint8_t* bm = out->EnsureValidity();
  for (int64_t i = 0; i < rows; ++i) SetBitTo(bm, i, valid_rows[i] != 0);
  if (a.all_constant) out->MakeConstant(ctx.rows);
  return Status::OK();
}

template <typename T, bool kDistinct>
Status DistinctKernel(const KernelContext& ctx, const Column* const* args, Column* out) {
  const RowArgs a(args, 2);
  out->ResetEmpty();
  const int64_t rows = a.all_constant ? 1 : ctx.rows;
  out->ResizeFixed(rows);
  uint8_t* o = out->data<uint8_t>();
  for (int64_t i = 0; i < rows; ++i) {
    const bool va = a.r[0].Valid(i), vb = a.r[1].Valid(i);
    const bool same = (va == vb) && (!va || Equal(Read<T>(a.r[0], i), Read<T>(a.r[1], i)));
    o[i] = same != kDistinct;
  }
  if (a.all_constant) out->MakeConstant(ctx.rows);
  return Status::OK();
}

template <template <typename> class K>
KernelFn ForType(TypeId id) {
  switch (id) {
    case TypeId::kBoolean:
      return K<uint8_t>::kFn;
    case TypeId::kInt32:
      return K<int32_t>::kFn;
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kTimestamp:
      return K<int64_t>::kFn;
    case TypeId::kDouble:
      return K<double>::kFn;
    case TypeId::kInterval:
      return K<Interval>::kFn;
    case TypeId::kVarchar:
      return K<std::string_view>::kFn;
    case TypeId::kNull:
      return nullptr;
  }
  return nullptr;
}

template <typename T>
struct CoalesceK {
  static constexpr KernelFn kFn = PickKernel<T, Pick::kCoalesce>;
};
template <typename T>
struct GreatestK {
  static constexpr KernelFn kFn = PickKernel<T, Pick::kGreatest>;
};
template <typename T>
struct LeastK {
  static constexpr KernelFn kFn = PickKernel<T, Pick::kLeast>;
};
template <typename T>
struct NullIfK {
  static constexpr KernelFn kFn = NullIfKernel<T>;
};
template <typename T>
struct DistinctK {
  static constexpr KernelFn kFn = DistinctKernel<T, true>;
};
template <typename T>
struct NotDistinctK {
  static constexpr KernelFn kFn = DistinctKernel<T, false>;
};

/// Common supertype of all arguments (BOOLEAN when every argument is NULL).
Result<DataType> CommonType(const Args& args) {
  ArgInfo acc = args[0];
  for (size_t k = 1; k < args.size(); ++k) {
    Result<DataType> t = CommonSuperType(acc, args[k]);
    if (!t.ok()) return NoMatch();
    const bool untyped = acc.is_untyped_literal && args[k].is_untyped_literal;
    acc = ArgInfo{*t, nullptr, untyped};
  }
  DataType t = acc.type;
  if (acc.is_untyped_literal) t = DataType::Varchar();
  if (t.id == TypeId::kNull) t = DataType::Boolean();
  return t;
}

template <template <typename> class K, int kArityMin, int kArityMax>
Result<FunctionBinding> ResolveCommon(std::string_view name, const Args& args) {
  if (static_cast<int>(args.size()) < kArityMin || static_cast<int>(args.size()) > kArityMax)
    return NoMatch();
  WEIR_ASSIGN_OR_RETURN(DataType t, CommonType(args));
  auto st = std::make_shared<ArityState>();
  st->nargs = static_cast<int>(args.size());
  constexpr bool kBoolResult =
      std::is_same_v<K<int>, DistinctK<int>> || std::is_same_v<K<int>, NotDistinctK<int>>;
  return MakeBinding(name, kBoolResult ? DataType::Boolean() : t,
                     std::vector<DataType>(args.size(), t), ForType<K>(t.id), std::move(st));
}

constexpr FunctionDef kFunctions[] = {
    {"coalesce", ResolveCommon<CoalesceK, 1, 1 << 20>},
    {"greatest", ResolveCommon<GreatestK, 1, 1 << 20>},
    {"least", ResolveCommon<LeastK, 1, 1 << 20>},
    {"nullif", ResolveCommon<NullIfK, 2, 2>},
    {"is_distinct_from", ResolveCommon<DistinctK, 2, 2>},
    {"is_not_distinct_from", ResolveCommon<NotDistinctK, 2, 2>},
};

}  // namespace

std::span<const FunctionDef> ConditionalFunctions() { return kFunctions; }

}  // namespace weir::fn
