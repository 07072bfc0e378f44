// Comparisons eq, ne, lt, le, gt, ge on every type -> BOOLEAN (NULL if either side is NULL).
//
// Orderings: VARCHAR bytewise (C collation); BOOLEAN false < true; INTERVAL by its nominal
// length (a month = 30 days, as PostgreSQL, so '1 month' = '30 days'); DOUBLE as PostgreSQL:
// NaN equals NaN and sorts above every other value; DECIMALs of different scales (and BIGINT vs
// DECIMAL) compare exactly in 128-bit arithmetic, without casting either side.
#include <cmath>

#include "expr/functions/kernel.h"
#include "expr/functions/registry.h"

namespace weir::fn {
namespace {

enum class Cmp { kEq, kNe, kLt, kLe, kGt, kGe };

template <Cmp kOp, typename T>
inline bool Compare(const T& a, const T& b) {
  if constexpr (kOp == Cmp::kEq) return a == b;
  if constexpr (kOp == Cmp::kNe) return a != b;
  if constexpr (kOp == Cmp::kLt) return a < b;
  if constexpr (kOp == Cmp::kLe) return a <= b;
  if constexpr (kOp == Cmp::kGt) return a > b;
  if constexpr (kOp == Cmp::kGe) return a >= b;
}

template <Cmp kOp>
inline bool CompareDouble(double a, double b) {
  const bool na = std::isnan(a), nb = std::isnan(b);
  const bool eq = (a == b) | (na & nb);
  const bool lt = (a < b) | (!na & nb);
  if constexpr (kOp == Cmp::kEq) return eq;
  if constexpr (kOp == Cmp::kNe) return !eq;
  if constexpr (kOp == Cmp::kLt) return lt;
  if constexpr (kOp == Cmp::kLe) return lt | eq;
  if constexpr (kOp == Cmp::kGt) return !(lt | eq);
  if constexpr (kOp == Cmp::kGe) return !lt;
}

/// Integer comparisons in plain arithmetic (sign bits, no compare instructions), so that the
/// loop vectorizes with SSE2, which has no 64-bit compare:
///   a < b   <=>  sign of d ^ ((a ^ b) & (d ^ a)), d = a - b wrapping (the sign of the
///                difference, corrected when the subtraction overflows)
///   a == b  <=>  x = a ^ b is 0  <=>  the sign bit of x | -x is clear
template <Cmp kOp>
inline uint8_t CompareInt64(int64_t a, int64_t b) {
  auto less = [](int64_t x, int64_t y) {
    const int64_t d = static_cast<int64_t>(static_cast<uint64_t>(x) - static_cast<uint64_t>(y));
    return static_cast<uint8_t>(static_cast<uint64_t>(d ^ ((x ^ y) & (d ^ x))) >> 63);
  };
  auto differ = [](int64_t x, int64_t y) {
    const uint64_t v = static_cast<uint64_t>(x ^ y);
    return static_cast<uint8_t>((v | (0 - v)) >> 63);
  };
  if constexpr (kOp == Cmp::kEq) return differ(a, b) ^ 1;
  if constexpr (kOp == Cmp::kNe) return differ(a, b);
  if constexpr (kOp == Cmp::kLt) return less(a, b);
  if constexpr (kOp == Cmp::kLe) return less(b, a) ^ 1;
  if constexpr (kOp == Cmp::kGt) return less(b, a);
  if constexpr (kOp == Cmp::kGe) return less(a, b) ^ 1;
}

template <typename T, Cmp kOp>
struct CmpOp : Stateless {
  using Stateless::Stateless;
  uint64_t operator()(T a, T b, uint8_t* r) const {
    if constexpr (std::is_same_v<T, int64_t> || std::is_same_v<T, int32_t>) {
      *r = CompareInt64<kOp>(a, b);
    } else if constexpr (std::is_same_v<T, double>) {
      *r = CompareDouble<kOp>(a, b);
    } else if constexpr (std::is_same_v<T, Interval>) {
      *r = Compare<kOp>(IntervalKey(a), IntervalKey(b));
    } else {
      *r = Compare<kOp>(a, b);
    }
    return 0;
  }
  Status Error(T, T) const { return Status::OK(); }
};

struct DecimalCmpState {
  int64_t ma = 1, mb = 1;
};

template <Cmp kOp>
struct DecimalCmp {
  int64_t ma, mb;
  explicit DecimalCmp(const void* state)
      : ma(static_cast<const DecimalCmpState*>(state)->ma),
        mb(static_cast<const DecimalCmpState*>(state)->mb) {}
  bool operator()(int64_t a, int64_t b, uint8_t* r) const {
    *r = Compare<kOp>(static_cast<__int128>(a) * ma, static_cast<__int128>(b) * mb);
    return false;
  }
  Status Error(int64_t, int64_t) const { return Status::OK(); }
};

template <Cmp kOp>
struct StringCmp : Stateless {
  using Stateless::Stateless;
  bool operator()(const ArgReader* a, int64_t i, uint8_t* r) const {
    const std::string_view x = a[0].Str(i), y = a[1].Str(i);
    if constexpr (kOp == Cmp::kEq) {
      *r = StrEqual(x, y);
    } else if constexpr (kOp == Cmp::kNe) {
      *r = !StrEqual(x, y);
    } else {
      *r = Compare<kOp>(x.compare(y), 0);
    }
    return true;
  }
  Status Error(const ArgReader*, int64_t) const { return Status::OK(); }
};

template <Cmp kOp>
KernelFn KernelFor(TypeId id) {
  switch (id) {
    case TypeId::kBoolean:
      return BinaryKernel<uint8_t, uint8_t, uint8_t, CmpOp<uint8_t, kOp>>;
    case TypeId::kInt32:
      return BinaryKernel<int32_t, int32_t, uint8_t, CmpOp<int32_t, kOp>>;
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kTimestamp:
      return BinaryKernel<int64_t, int64_t, uint8_t, CmpOp<int64_t, kOp>>;
    case TypeId::kDouble:
      return BinaryKernel<double, double, uint8_t, CmpOp<double, kOp>>;
    case TypeId::kInterval:
      return BinaryKernel<Interval, Interval, uint8_t, CmpOp<Interval, kOp>>;
    case TypeId::kVarchar:
      return RowKernel<uint8_t, StringCmp<kOp>, 2>;
    case TypeId::kNull:
      return nullptr;
  }
  return nullptr;
}

template <Cmp kOp>
Result<FunctionBinding> ResolveCmp(std::string_view name, const Args& args) {
  if (args.size() != 2) return NoMatch();
  DataType ta = EffectiveType(args[0], args[1]);
  DataType tb = EffectiveType(args[1], args[0]);
  if (ta.id == TypeId::kNull) ta = tb = DataType::Varchar();  // NULL = NULL
  const DataType boolean = DataType::Boolean();
  if (ta.is_numeric() && tb.is_numeric()) {
    if (ta.id == TypeId::kDouble || tb.id == TypeId::kDouble) {
      ta = tb = DataType::Double();
    } else if (ta.id == TypeId::kDecimal || tb.id == TypeId::kDecimal) {
      ta = AsScaledInt64(ta);
      tb = AsScaledInt64(tb);
      const int sa = ShapeOf(ta).scale, sb = ShapeOf(tb).scale;
      if (sa != sb) {
        auto st = std::make_shared<DecimalCmpState>();
        const int s = std::max(sa, sb);
        st->ma = PowerOfTen(s - sa);
        st->mb = PowerOfTen(s - sb);
        return MakeBinding(name, boolean, {ta, tb},
                           BinaryKernel<int64_t, int64_t, uint8_t, DecimalCmp<kOp>>, std::move(st));
      }
    } else if (ta.id != tb.id) {
      ta = tb = DataType::Int64();
    }
    return MakeBinding(name, boolean, {ta, tb}, KernelFor<kOp>(ta.id));
  }
  if (ta.id != tb.id) return NoMatch();
  return MakeBinding(name, boolean, {ta, tb}, KernelFor<kOp>(ta.id));
}

constexpr FunctionDef kFunctions[] = {
    {"eq", ResolveCmp<Cmp::kEq>}, {"ne", ResolveCmp<Cmp::kNe>}, {"lt", ResolveCmp<Cmp::kLt>},
    {"le", ResolveCmp<Cmp::kLe>}, {"gt", ResolveCmp<Cmp::kGt>}, {"ge", ResolveCmp<Cmp::kGe>},
};

}  // namespace

std::span<const FunctionDef> ComparisonFunctions() { return kFunctions; }

}  // namespace weir::fn
