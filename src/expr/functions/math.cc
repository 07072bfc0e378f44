// Math functions.
//
//   abs(x)                INT, BIGINT, DOUBLE, DECIMAL -> same type (abs of the minimum integer
//                         is an out-of-range error)
//   round(x)              DOUBLE: to nearest, ties to even (PostgreSQL's rint for float8);
//                         DECIMAL(p,s) -> DECIMAL(p-s+1, 0), ties away from zero; integers: x
//   round(x, n)           DECIMAL with constant n -> DECIMAL(.., max(n,0)), ties away from zero
//                         (n < 0 rounds to tens, hundreds...); DECIMAL with per-row n keeps the
//                         scale; DOUBLE -> DOUBLE (ties to even at the n-th decimal of the
//                         binary value); BIGINT -> BIGINT (n < 0 rounds to tens...)
//   floor(x), ceil(x) / ceiling(x), trunc(x)
//                         DOUBLE -> DOUBLE, DECIMAL(p,s) -> DECIMAL(p-s+1, 0), integers: x
//   sign(x)               -1, 0 or 1 in the argument's type (DECIMAL -> DECIMAL(1,0))
//   sqrt, cbrt, exp, ln, log10 (DOUBLE) ; power / pow(DOUBLE, DOUBLE)
// The transcendental functions compute in DOUBLE (exact numerics are cast implicitly); domain
// errors use PostgreSQL's wording.
#include <algorithm>
#include <cmath>
#include <limits>

#include "expr/functions/kernel.h"
#include "expr/functions/registry.h"

namespace weir::fn {
namespace {

const DataType kDouble = DataType::Double();
const DataType kBigint = DataType::Int64();

Status CopyKernel(const KernelContext& ctx, const Column* const* args, Column* out) {
  out->CopyFrom(*args[0]);
  if (out->is_constant()) out->SetConstantLength(ctx.rows);
  return Status::OK();
}

/// v / 10^k rounded half away from zero (k >= 1); k > 18 rounds every DECIMAL value to 0.
inline int64_t DivRoundHalfAway(int64_t v, int k) {
  if (k > 18) return 0;
  const int64_t p = PowerOfTen(k);
  const int64_t q = v / p, r = v % p;
  const int64_t twice = r < 0 ? -2 * r : 2 * r;  // |r| < p <= 10^18, so 2|r| fits
  return q + (twice >= p ? (v < 0 ? -1 : 1) : 0);
}

template <typename T>
struct AbsInt : Stateless {
  using Stateless::Stateless;
  bool operator()(T a, T* r) const {
    *r = a < 0 ? static_cast<T>(-static_cast<std::make_unsigned_t<T>>(a)) : a;
    return a == std::numeric_limits<T>::min();
  }
  Status Error(T a) const { return DataError("{} out of range: abs({})", IntTypeName<T>(), a); }
};

/// DOUBLE -> DOUBLE through a libm-like function, with a domain check.
enum class DFn { kAbs, kRound, kFloor, kCeil, kTrunc, kSign, kSqrt, kCbrt, kExp, kLn, kLog10 };

template <DFn kFn>
struct DoubleFn : Stateless {
  using Stateless::Stateless;
  bool operator()(double a, double* r) const {
    switch (kFn) {
      case DFn::kAbs:
        *r = std::fabs(a);
        return false;
      case DFn::kRound:
        *r = std::nearbyint(a);
        return false;
      case DFn::kFloor:
        *r = std::floor(a);
        return false;
      case DFn::kCeil:
        *r = std::ceil(a);
        return false;
      case DFn::kTrunc:
        *r = std::trunc(a);
        return false;
      case DFn::kSign:
        *r = a > 0 ? 1.0 : a < 0 ? -1.0 : 0.0;
        return false;
      case DFn::kSqrt:
        *r = std::sqrt(a);
        return a < 0;
      case DFn::kCbrt:
        *r = std::cbrt(a);
        return false;
      case DFn::kExp:
        *r = std::exp(a);
        return std::isinf(*r) && !std::isinf(a);
      case DFn::kLn:
        *r = std::log(a);
        return a <= 0;
      case DFn::kLog10:
        *r = std::log10(a);
        return a <= 0;
    }
    return false;
  }
  Status Error(double a) const {
    if (kFn == DFn::kSqrt)
      return DataError("cannot take square root of a negative number: {}", DoubleText(a));
    if (kFn == DFn::kExp) return DataError("value out of range: overflow: exp({})", DoubleText(a));
    if (a == 0) return DataError("cannot take logarithm of zero");
    return DataError("cannot take logarithm of a negative number: {}", DoubleText(a));
  }
};

struct PowerOp : Stateless {
  using Stateless::Stateless;
  bool operator()(double a, double b, double* r) const {
    *r = std::pow(a, b);
    return ((a == 0) & (b < 0)) | ((a < 0) & (std::floor(b) != b)) |
           (std::isinf(*r) & !std::isinf(a) & !std::isinf(b));
  }
  Status Error(double a, double b) const {
    if (a == 0 && b < 0) return DataError("zero raised to a negative power is undefined");
    if (a < 0 && std::floor(b) != b)
      return DataError("a negative number raised to a non-integer power yields a complex result");
    return DataError("value out of range: overflow: power({}, {})", DoubleText(a), DoubleText(b));
  }
};

/// round(double, n): nearest at the n-th decimal, ties to even.
struct RoundDoubleN : Stateless {
  using Stateless::Stateless;
  bool operator()(double a, int64_t n, double* r) const {
    if (n > 300 || n < -300) {
      *r = n > 0 ? a : 0 * a;
      return false;
    }
    const double p = std::pow(10.0, static_cast<double>(n));
    const double scaled = a * p;
    *r = std::isinf(scaled) ? a : std::nearbyint(scaled) / p;
    return false;
  }
  Status Error(double, int64_t) const { return Status::OK(); }
};

/// round(bigint, n): n >= 0 keeps x; n < 0 rounds to 10^-n, ties away from zero.
struct RoundBigintN : Stateless {
  using Stateless::Stateless;
  bool operator()(int64_t a, int64_t n, int64_t* r) const {
    if (n >= 0) {
      *r = a;
      return false;
    }
    if (n < -18) {
      *r = 0;
      return (a >= 5 * PowerOfTen(18)) | (a <= -5 * PowerOfTen(18));  // would round to 10^19
    }
    const int k = static_cast<int>(-n);
    return __builtin_mul_overflow(DivRoundHalfAway(a, k), PowerOfTen(k), r);
  }
  Status Error(int64_t a, int64_t n) const {
    return DataError("BIGINT out of range: round({}, {})", a, n);
  }
};

/// Decimal rounding state: `drop` fractional digits removed, `up` the power of ten the quotient
/// is scaled back by (per-row round: keep the scale; n < 0: tens...), result bound.
struct DecRoundState {
  int in_scale = 0;
  int drop = 0;
  int up = 0;
  int64_t bound = 0;
  DataType result;
};

enum class DRound { kRound, kFloor, kCeil, kTrunc };

template <DRound kMode>
inline int64_t DecimalDrop(int64_t v, int k) {  // v / 10^k under the mode, k >= 1
  if constexpr (kMode == DRound::kRound) {
    return DivRoundHalfAway(v, k);
  } else {
    if (k > 18)
      return kMode == DRound::kTrunc   ? 0
             : kMode == DRound::kFloor ? (v < 0 ? -1 : 0)
                                       : (v > 0 ? 1 : 0);
    const int64_t p = PowerOfTen(k);
    const int64_t q = v / p, r = v % p;
    if constexpr (kMode == DRound::kFloor) return q - (r < 0);
    if constexpr (kMode == DRound::kCeil) return q + (r > 0);
    return q;
  }
}

template <DRound kMode>
struct DecRound {
  DecRoundState s;
  explicit DecRound(const void* st) : s(*static_cast<const DecRoundState*>(st)) {}
  bool operator()(int64_t a, int64_t* r) const {
    const int64_t q = s.drop > 0 ? DecimalDrop<kMode>(a, s.drop) : a;
    const bool ovf = __builtin_mul_overflow(q, PowerOfTen(s.up), r);
    return ovf | (*r > s.bound) | (*r < -s.bound);
  }
  Status Error(int64_t a) const {
    return DataError("numeric field overflow: rounding {} does not fit {}",
                     DecimalText(a, s.in_scale), s.result.ToString());
  }
};

/// round(decimal, n) with n per row: the scale stays, digits past the n-th are rounded away.
struct DecRoundPerRow {
  DecRoundState s;
  explicit DecRoundPerRow(const void* st) : s(*static_cast<const DecRoundState*>(st)) {}
  bool operator()(int64_t a, int64_t n, int64_t* r) const {
    if (n >= s.in_scale) {
      *r = a;
      return false;
    }
    const int64_t drop64 = s.in_scale - n;
    if (drop64 > 18) {
      *r = 0;
      return false;
    }
    const int drop = static_cast<int>(drop64);
    const bool ovf = __builtin_mul_overflow(DivRoundHalfAway(a, drop), PowerOfTen(drop), r);
    return ovf | (*r > s.bound) | (*r < -s.bound);
  }
  Status Error(int64_t a, int64_t n) const {
    return DataError("numeric field overflow: round({}, {}) does not fit {}",
                     DecimalText(a, s.in_scale), n, s.result.ToString());
  }
};

struct DecAbs : Stateless {
  using Stateless::Stateless;
  bool operator()(int64_t a, int64_t* r) const {
    *r = a < 0 ? -a : a;  // bounded by the precision, never INT64_MIN for valid rows
    return a == std::numeric_limits<int64_t>::min();
  }
  Status Error(int64_t) const { return DataError("numeric field overflow"); }
};

template <typename T>
struct SignOp : Stateless {
  using Stateless::Stateless;
  bool operator()(T a, T* r) const {
    *r = static_cast<T>((a > 0) - (a < 0));
    return false;
  }
  Status Error(T) const { return Status::OK(); }
};

// ---- resolution ---------------------------------------------------------------------------

/// The single numeric argument's type (untyped literal / NULL: DOUBLE... as PostgreSQL's
/// numeric-first preference, we pick DOUBLE).
bool NumericArg(const ArgInfo& a, DataType* t) {
  *t = IsUntyped(a) ? kDouble : a.type;
  return t->is_numeric();
}

FunctionBinding DecimalRounding(std::string_view name, DataType t, int n, KernelFn k) {
  auto st = std::make_shared<DecRoundState>();
  st->in_scale = t.scale;
  const int rs = std::max(0, std::min(n, static_cast<int>(t.scale)));
  st->drop = t.scale - std::min(n, static_cast<int>(t.scale));  // digits removed (n may be < 0)
  st->up = n < 0 ? std::min(-n, 18) : 0;
  st->result = DecimalOf(std::max(1, t.precision - t.scale + 1 + rs), rs);
  st->bound = PowerOfTen(st->result.precision) - 1;
  const DataType result = st->result;
  return MakeBinding(name, result, {t}, k, std::move(st));
}

Result<FunctionBinding> ResolveAbs(std::string_view name, const Args& args) {
  DataType t;
  if (args.size() != 1 || !NumericArg(args[0], &t)) return NoMatch();
  switch (t.id) {
    case TypeId::kInt32:
      return MakeBinding(name, t, {t}, UnaryKernel<int32_t, int32_t, AbsInt<int32_t>>);
    case TypeId::kInt64:
      return MakeBinding(name, t, {t}, UnaryKernel<int64_t, int64_t, AbsInt<int64_t>>);
    case TypeId::kDecimal:
      return MakeBinding(name, t, {t}, UnaryKernel<int64_t, int64_t, DecAbs>);
    default:
      return MakeBinding(name, t, {t}, UnaryKernel<double, double, DoubleFn<DFn::kAbs>>);
  }
}

template <DRound kMode>
Result<FunctionBinding> ResolveRounding(std::string_view name, const Args& args) {
  DataType t;
  if (args.empty() || args.size() > 2 || !NumericArg(args[0], &t)) return NoMatch();
  if (args.size() == 2) {
    if (kMode != DRound::kRound || !ArgMatches(args[1], kBigint)) return NoMatch();
    if (t.id == TypeId::kDouble)
      return MakeBinding(name, t, {t, kBigint},
                         BinaryKernel<double, int64_t, double, RoundDoubleN>);
    if (t.is_integer())
      return MakeBinding(name, kBigint, {kBigint, kBigint},
                         BinaryKernel<int64_t, int64_t, int64_t, RoundBigintN>);
    const Value* n = args[1].constant;
    if (n != nullptr && !n->is_null && args[1].type.is_integer()) {
      const int64_t digits = std::clamp<int64_t>(n->i, -40, 40);
      if (digits >= t.scale) return MakeBinding(name, t, {t, kBigint}, CopyKernel);
      FunctionBinding b = DecimalRounding(name, t, static_cast<int>(digits),
                                          UnaryKernel<int64_t, int64_t, DecRound<DRound::kRound>>);
      b.arg_types.push_back(kBigint);
      return b;
    }
    auto st = std::make_shared<DecRoundState>();
    st->in_scale = t.scale;
    st->result = DecimalOf(t.precision + 1, t.scale);
    st->bound = PowerOfTen(st->result.precision) - 1;
    const DataType result = st->result;
    return MakeBinding(name, result, {t, kBigint},
                       BinaryKernel<int64_t, int64_t, int64_t, DecRoundPerRow>, std::move(st));
  }
  switch (t.id) {
    case TypeId::kInt32:
    case TypeId::kInt64:
      return MakeBinding(name, t, {t}, CopyKernel);
    case TypeId::kDecimal:
      if (t.scale == 0) return MakeBinding(name, t, {t}, CopyKernel);
      return DecimalRounding(name, t, 0, UnaryKernel<int64_t, int64_t, DecRound<kMode>>);
    default: {
      constexpr DFn f = kMode == DRound::kRound   ? DFn::kRound
                        : kMode == DRound::kFloor ? DFn::kFloor
                        : kMode == DRound::kCeil  ? DFn::kCeil
                                                  : DFn::kTrunc;
      return MakeBinding(name, t, {t}, UnaryKernel<double, double, DoubleFn<f>>);
    }
  }
}

Result<FunctionBinding> ResolveSign(std::string_view name, const Args& args) {
  DataType t;
  if (args.size() != 1 || !NumericArg(args[0], &t)) return NoMatch();
  switch (t.id) {
    case TypeId::kInt32:
      return MakeBinding(name, t, {t}, UnaryKernel<int32_t, int32_t, SignOp<int32_t>>);
    case TypeId::kInt64:
      return MakeBinding(name, t, {t}, UnaryKernel<int64_t, int64_t, SignOp<int64_t>>);
    case TypeId::kDecimal:
      return MakeBinding(name, DataType::Decimal(1, 0), {t},
                         UnaryKernel<int64_t, int64_t, SignOp<int64_t>>);
    default:
      return MakeBinding(name, t, {t}, UnaryKernel<double, double, DoubleFn<DFn::kSign>>);
  }
}

template <DFn kFn>
Result<FunctionBinding> ResolveDoubleFn(std::string_view name, const Args& args) {
  if (!SignatureMatches(args, {kDouble})) return NoMatch();
  return MakeBinding(name, kDouble, {kDouble}, UnaryKernel<double, double, DoubleFn<kFn>>);
}

Result<FunctionBinding> ResolvePower(std::string_view name, const Args& args) {
  if (!SignatureMatches(args, {kDouble, kDouble})) return NoMatch();
  return MakeBinding(name, kDouble, {kDouble, kDouble},
                     BinaryKernel<double, double, double, PowerOp>);
}

constexpr FunctionDef kFunctions[] = {
    {"abs", ResolveAbs},
    {"round", ResolveRounding<DRound::kRound>},
    {"floor", ResolveRounding<DRound::kFloor>},
    {"ceil", ResolveRounding<DRound::kCeil>},
    {"ceiling", ResolveRounding<DRound::kCeil>},
    {"trunc", ResolveRounding<DRound::kTrunc>},
    {"sign", ResolveSign},
    {"sqrt", ResolveDoubleFn<DFn::kSqrt>},
    {"cbrt", ResolveDoubleFn<DFn::kCbrt>},
    {"exp", ResolveDoubleFn<DFn::kExp>},
    {"ln", ResolveDoubleFn<DFn::kLn>},
    {"log10", ResolveDoubleFn<DFn::kLog10>},
    {"power", ResolvePower},
    {"pow", ResolvePower},
};

}  // namespace

std::span<const FunctionDef> MathFunctions() { return kFunctions; }

}  // namespace weir::fn
