// Arithmetic operators: add, subtract, multiply, divide, modulo (alias mod), negate over INT,
// BIGINT, DOUBLE, DECIMAL, and the TIMESTAMP/INTERVAL combinations.
//
// Integer overflow and division by zero are data errors, never wraparound; the kernels detect
// them branch-free (see kernel.h). DECIMAL results carry a type derived from the operand types
// (rules in src/expr/README.md) and every result is checked against its precision.
#include <algorithm>
#include <cmath>
#include <limits>

#include "expr/functions/kernel.h"
#include "expr/functions/registry.h"
#include "types/datetime.h"

namespace weir::fn {
namespace {

enum class ArithOp { kAdd, kSub, kMul, kDiv, kMod };

// ---- integers -----------------------------------------------------------------------------

/// Sign bit of `x` as 0/1 in an unsigned word: the error flag of the add/sub kernels. (A bool
/// from a 64-bit signed compare would keep the loop from vectorizing with SSE2.)
template <typename T>
inline std::make_unsigned_t<T> SignBit(T x) {
  using U = std::make_unsigned_t<T>;
  return static_cast<U>(x) >> (8 * sizeof(T) - 1);
}

template <typename T>
struct AddInt : Stateless {
  using Stateless::Stateless;
  std::make_unsigned_t<T> operator()(T a, T b, T* r) const {
    using U = std::make_unsigned_t<T>;
    const T s = static_cast<T>(static_cast<U>(a) + static_cast<U>(b));
    *r = s;
    return SignBit((a ^ s) & (b ^ s));  // the sum's sign differs from both operands' signs
  }
  Status Error(T a, T b) const {
    return DataError("{} out of range: {} + {}", IntTypeName<T>(), a, b);
  }
};

template <typename T>
struct SubInt : Stateless {
  using Stateless::Stateless;
  std::make_unsigned_t<T> operator()(T a, T b, T* r) const {
    using U = std::make_unsigned_t<T>;
    const T s = static_cast<T>(static_cast<U>(a) - static_cast<U>(b));
    *r = s;
    return SignBit((a ^ b) & (a ^ s));
  }
  Status Error(T a, T b) const {
    return DataError("{} out of range: {} - {}", IntTypeName<T>(), a, b);
  }
};

template <typename T>
struct MulInt : Stateless {
  using Stateless::Stateless;
  bool operator()(T a, T b, T* r) const { return __builtin_mul_overflow(a, b, r); }
  Status Error(T a, T b) const {
    return DataError("{} out of range: {} * {}", IntTypeName<T>(), a, b);
  }
};

template <typename T>
struct DivInt : Stateless {
  using Stateless::Stateless;
  bool operator()(T a, T b, T* r) const {
    const bool bad = (b == 0) | ((a == std::numeric_limits<T>::min()) & (b == -1));
    *r = a / (bad ? T{1} : b);  // truncates toward zero, as PostgreSQL
    return bad;
  }
  Status Error(T a, T b) const {
    if (b == 0) return DataError("division by zero: {} / 0", a);
    return DataError("{} out of range: {} / {}", IntTypeName<T>(), a, b);
  }
};

template <typename T>
struct ModInt : Stateless {
  using Stateless::Stateless;
  bool operator()(T a, T b, T* r) const {
    *r = a % (((b == 0) | (b == -1)) ? T{1} : b);  // MIN % -1 is 0; the sign follows a
    return b == 0;
  }
  Status Error(T a, T) const { return DataError("division by zero: {} % 0", a); }
};

template <typename T>
struct NegInt : Stateless {
  using Stateless::Stateless;
  bool operator()(T a, T* r) const { return __builtin_sub_overflow(T{0}, a, r); }
  Status Error(T a) const { return DataError("{} out of range: -({})", IntTypeName<T>(), a); }
};

// ---- DOUBLE -------------------------------------------------------------------------------

inline bool Overflowed(double r, double a, double b) {
  // PostgreSQL raises when a finite computation produces an infinity.
  constexpr double kInf = std::numeric_limits<double>::infinity();
  return (std::fabs(r) == kInf) & (std::fabs(a) != kInf) & (std::fabs(b) != kInf);
}

template <ArithOp kOp>
struct DoubleOp : Stateless {
  using Stateless::Stateless;
  bool operator()(double a, double b, double* r) const {
    if constexpr (kOp == ArithOp::kAdd) {
      *r = a + b;
      return Overflowed(*r, a, b);
    } else if constexpr (kOp == ArithOp::kSub) {
      *r = a - b;
      return Overflowed(*r, a, b);
    } else if constexpr (kOp == ArithOp::kMul) {
      *r = a * b;
      return Overflowed(*r, a, b);
    } else if constexpr (kOp == ArithOp::kDiv) {
      *r = a / b;
      return ((b == 0) & !std::isnan(a)) | Overflowed(*r, a, b);
    } else {
      *r = std::fmod(a, b);
      return (b == 0) & !std::isnan(a);
    }
  }
  Status Error(double a, double b) const {
    if (b == 0 && (kOp == ArithOp::kDiv || kOp == ArithOp::kMod))
      return DataError("division by zero: {} {} 0", DoubleText(a),
                       kOp == ArithOp::kDiv ? '/' : '%');
    return DataError("value out of range: overflow: {} {} {}", DoubleText(a),
                     "+-*/%"[static_cast<int>(kOp)], DoubleText(b));
  }
};

struct NegDouble : Stateless {
  using Stateless::Stateless;
  bool operator()(double a, double* r) const {
    *r = -a;
    return false;
  }
  Status Error(double) const { return Status::OK(); }
};

// ---- DECIMAL ------------------------------------------------------------------------------

/// Per-call-site constants of a decimal operation.
struct DecimalArith {
  int64_t ma = 1, mb = 1;  // add/sub/mod: multipliers aligning a and b to the result scale
  __int128 pow = 1;        // mul: divisor of the exact product; div: dividend multiplier
  int pow_digits = 0;      // log10(pow)
  int64_t bound = 0;       // 10^precision - 1 of the result
  DataType a, b, result;   // for messages
};

inline __int128 Pow10Wide(int n) {
  __int128 p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}

/// q rounded half away from zero, for q = num / den with remainder rem.
inline __int128 RoundQuotient(__int128 q, __int128 rem, __int128 den, bool negative) {
  const __int128 r2 = (rem < 0 ? -rem : rem) * 2;
  const __int128 d = den < 0 ? -den : den;
  return q + ((r2 >= d) ? (negative ? -1 : 1) : 0);
}

struct DecimalOpBase {
  DecimalArith s;
  explicit DecimalOpBase(const void* state) : s(*static_cast<const DecimalArith*>(state)) {}
  bool OutOfBounds(__int128 r) const { return (r > s.bound) | (r < -s.bound); }
  Status Overflow(int64_t a, int64_t b, char op) const {
    return DataError("numeric field overflow: {} {} {} does not fit {}", DecimalText(a, s.a.scale),
                     op, DecimalText(b, s.b.scale), s.result.ToString());
  }
};

template <bool kAligned, bool kSub>
struct DecAdd : DecimalOpBase {
  using DecimalOpBase::DecimalOpBase;
  bool operator()(int64_t a, int64_t b, int64_t* r) const {
    if constexpr (kAligned) {  // exact in 128 bits: |a|, |b| < 2^63 and multipliers <= 10^18
      const __int128 x = static_cast<__int128>(a) * s.ma;
      const __int128 y = static_cast<__int128>(b) * s.mb;
      const __int128 v = kSub ? x - y : x + y;
      *r = static_cast<int64_t>(v);
      return OutOfBounds(v);
    } else {
      const bool ovf = kSub ? __builtin_sub_overflow(a, b, r) : __builtin_add_overflow(a, b, r);
      return ovf | OutOfBounds(*r);
    }
  }
  Status Error(int64_t a, int64_t b) const { return Overflow(a, b, kSub ? '-' : '+'); }
};

template <bool kRescale>
struct DecMul : DecimalOpBase {
  using DecimalOpBase::DecimalOpBase;
  bool operator()(int64_t a, int64_t b, int64_t* r) const {
    __int128 p = static_cast<__int128>(a) * b;
    if constexpr (kRescale) p = RoundQuotient(p / s.pow, p % s.pow, s.pow, p < 0);
    *r = static_cast<int64_t>(p);
    return OutOfBounds(p);
  }
  Status Error(int64_t a, int64_t b) const { return Overflow(a, b, '*'); }
};

template <bool kTwoStep>
struct DecDiv : DecimalOpBase {
  using DecimalOpBase::DecimalOpBase;
  // r = round(a * 10^k / b); k <= 19 fits one 128-bit product, larger k takes two steps.
  bool operator()(int64_t a, int64_t b, int64_t* r) const {
    const bool zero = b == 0;
    const int64_t d = zero ? 1 : b;
    const bool negative = (a < 0) != (d < 0);
    __int128 q;
    if constexpr (!kTwoStep) {
      const __int128 num = a * s.pow;
      q = RoundQuotient(num / d, num % d, d, negative);
    } else {
      constexpr __int128 kStep = static_cast<__int128>(10'000'000'000'000'000'000ULL);  // 10^19
      const __int128 num1 = a * kStep;
      const __int128 q1 = num1 / d;
      const __int128 num2 = (num1 % d) * (s.pow / kStep);
      if ((q1 > s.bound) | (q1 < -s.bound)) {
        *r = 0;
        return true;
      }
      q = q1 * (s.pow / kStep) + RoundQuotient(num2 / d, num2 % d, d, negative);
    }
    *r = static_cast<int64_t>(q);
    return zero | OutOfBounds(q);
  }
  Status Error(int64_t a, int64_t b) const {
    if (b == 0) return DataError("division by zero: {} / 0", DecimalText(a, s.a.scale));
    return Overflow(a, b, '/');
  }
};

struct DecMod : DecimalOpBase {
  using DecimalOpBase::DecimalOpBase;
  bool operator()(int64_t a, int64_t b, int64_t* r) const {
    const __int128 x = static_cast<__int128>(a) * s.ma;
    const __int128 y = static_cast<__int128>(b) * s.mb;
    const __int128 m = x % (y == 0 ? 1 : y);
    *r = static_cast<int64_t>(m);
    return (b == 0) | OutOfBounds(m);
  }
  Status Error(int64_t a, int64_t b) const {
    if (b == 0) return DataError("division by zero: {} % 0", DecimalText(a, s.a.scale));
    return Overflow(a, b, '%');
  }
};

struct NegDecimal : Stateless {
  using Stateless::Stateless;
  bool operator()(int64_t a, int64_t* r) const { return __builtin_sub_overflow(int64_t{0}, a, r); }
  Status Error(int64_t) const { return DataError("numeric field overflow"); }
};

// ---- TIMESTAMP / INTERVAL -----------------------------------------------------------------

inline bool NegateInterval(const Interval& a, Interval* r) {
  return __builtin_sub_overflow(0, a.months, &r->months) |
         __builtin_sub_overflow(0, a.days, &r->days) |
         __builtin_sub_overflow(int64_t{0}, a.micros, &r->micros);
}

template <bool kSub>
struct IntervalAddSub : Stateless {
  using Stateless::Stateless;
  bool operator()(Interval a, Interval b, Interval* r) const {
    if constexpr (kSub) {
      return __builtin_sub_overflow(a.months, b.months, &r->months) |
             __builtin_sub_overflow(a.days, b.days, &r->days) |
             __builtin_sub_overflow(a.micros, b.micros, &r->micros);
    } else {
      return __builtin_add_overflow(a.months, b.months, &r->months) |
             __builtin_add_overflow(a.days, b.days, &r->days) |
             __builtin_add_overflow(a.micros, b.micros, &r->micros);
    }
  }
  Status Error(Interval a, Interval b) const {
    return DataError("interval out of range: '{}' {} '{}'", IntervalText(a), kSub ? '-' : '+',
                     IntervalText(b));
  }
};

struct NegInterval : Stateless {
  using Stateless::Stateless;
  bool operator()(Interval a, Interval* r) const { return NegateInterval(a, r); }
  Status Error(Interval a) const {
    return DataError("interval out of range: -'{}'", IntervalText(a));
  }
};

template <bool kSub>
struct TimestampPlusInterval : Stateless {
  using Stateless::Stateless;
  bool operator()(int64_t ts, Interval iv, int64_t* r) const {
    bool bad = false;
    if constexpr (kSub) bad = NegateInterval(iv, &iv);
    return !AddInterval(ts, iv, r) | bad;
  }
  Status Error(int64_t ts, Interval iv) const {
    return DataError("timestamp out of range: '{}' {} '{}'", TimestampText(ts), kSub ? '-' : '+',
                     IntervalText(iv));
  }
};

struct IntervalPlusTimestamp : Stateless {
  using Stateless::Stateless;
  bool operator()(Interval iv, int64_t ts, int64_t* r) const { return !AddInterval(ts, iv, r); }
  Status Error(Interval iv, int64_t ts) const {
    return DataError("timestamp out of range: '{}' + '{}'", IntervalText(iv), TimestampText(ts));
  }
};

/// timestamp - timestamp: days and a time part of the same sign (PostgreSQL's justify_hours).
struct TimestampDiff : Stateless {
  using Stateless::Stateless;
  bool operator()(int64_t a, int64_t b, Interval* r) const {
    int64_t d;
    const bool bad = __builtin_sub_overflow(a, b, &d);
    r->months = 0;
    r->days = static_cast<int32_t>(d / kMicrosPerDay);
    r->micros = d % kMicrosPerDay;
    return bad;
  }
  Status Error(int64_t a, int64_t b) const {
    return DataError("interval out of range: '{}' - '{}'", TimestampText(a), TimestampText(b));
  }
};

template <bool kSwapped>  // false: interval * bigint; true: bigint * interval
struct IntervalTimesInt : Stateless {
  using Stateless::Stateless;
  bool MulOp(Interval a, int64_t f, Interval* r) const {
    int64_t m, d;
    bool bad = __builtin_mul_overflow(int64_t{a.months}, f, &m) |
               __builtin_mul_overflow(int64_t{a.days}, f, &d) |
               __builtin_mul_overflow(a.micros, f, &r->micros);
    bad |= (m != static_cast<int32_t>(m)) | (d != static_cast<int32_t>(d));
    r->months = static_cast<int32_t>(m);
    r->days = static_cast<int32_t>(d);
    return bad;
  }
  bool operator()(Interval a, int64_t f, Interval* r) const requires(!kSwapped) {
    return MulOp(a, f, r);
  }
  bool operator()(int64_t f, Interval a, Interval* r) const requires(kSwapped) {
    return MulOp(a, f, r);
  }
  Status Error(Interval a, int64_t f) const requires(!kSwapped) {
    return DataError("interval out of range: '{}' * {}", IntervalText(a), f);
  }
  Status Error(int64_t f, Interval a) const requires(kSwapped) {
    return DataError("interval out of range: '{}' * {}", IntervalText(a), f);
  }
};

/// interval * factor with PostgreSQL's spill of fractional months into days (30 a month) and
/// of fractional days into micros; returns true on overflow or NaN.
inline bool ScaleInterval(Interval a, double f, Interval* r) {
  auto fits32 = [](double x) { return x > -2147483649.0 && x < 2147483648.0; };
  auto round_micro = [](double x) { return std::rint(x * 1e6) / 1e6; };  // to 1e-6 units
  const double months = a.months * f;
  const double days = a.days * f;
  if (!fits32(months) || !fits32(days)) return true;  // also NaN
  r->months = static_cast<int32_t>(months);
  int64_t out_days = static_cast<int32_t>(days);
  const double month_rem_days = round_micro((months - r->months) * 30.0);
  double sec_rem = round_micro(
      (days - static_cast<double>(out_days) + month_rem_days - std::trunc(month_rem_days)) *
      86400.0);
  if (std::fabs(sec_rem) >= 86400.0) {
    const double whole = std::trunc(sec_rem / 86400.0);
    out_days += static_cast<int64_t>(whole);
    sec_rem -= whole * 86400.0;
  }
  out_days += static_cast<int64_t>(month_rem_days);
  const double micros = std::rint(static_cast<double>(a.micros) * f + sec_rem * 1e6);
  if (!(std::fabs(micros) < 9.2e18) || out_days != static_cast<int32_t>(out_days)) return true;
  r->days = static_cast<int32_t>(out_days);
  r->micros = static_cast<int64_t>(micros);
  return false;
}

template <bool kDiv, bool kSwapped>
struct IntervalTimesDouble : Stateless {
  using Stateless::Stateless;
  bool Op(Interval a, double f, Interval* r) const {
    if constexpr (kDiv) {
      if (f == 0) return true;
      return ScaleInterval(a, 1.0 / f, r);
    } else {
      return ScaleInterval(a, f, r);
    }
  }
  bool operator()(Interval a, double f, Interval* r) const requires(!kSwapped) {
    return Op(a, f, r);
  }
  bool operator()(double f, Interval a, Interval* r) const requires(kSwapped) {
    return Op(a, f, r);
  }
  Status Err(Interval a, double f) const {
    if (kDiv && f == 0) return DataError("division by zero: '{}' / 0", IntervalText(a));
    return DataError("interval out of range: '{}' {} {}", IntervalText(a), kDiv ? '/' : '*',
                     DoubleText(f));
  }
  Status Error(Interval a, double f) const requires(!kSwapped) { return Err(a, f); }
  Status Error(double f, Interval a) const requires(kSwapped) { return Err(a, f); }
};

// ---- resolution ---------------------------------------------------------------------------

ArithOp OpOf(std::string_view name) {
  if (name == "add") return ArithOp::kAdd;
  if (name == "subtract") return ArithOp::kSub;
  if (name == "multiply") return ArithOp::kMul;
  if (name == "divide") return ArithOp::kDiv;
  return ArithOp::kMod;
}

template <typename T>
KernelFn IntKernel(ArithOp op) {
  switch (op) {
    case ArithOp::kAdd:
      return BinaryKernel<T, T, T, AddInt<T>>;
    case ArithOp::kSub:
      return BinaryKernel<T, T, T, SubInt<T>>;
    case ArithOp::kMul:
      return BinaryKernel<T, T, T, MulInt<T>>;
    case ArithOp::kDiv:
      return BinaryKernel<T, T, T, DivInt<T>>;
    case ArithOp::kMod:
      return BinaryKernel<T, T, T, ModInt<T>>;
  }
  return nullptr;
}

KernelFn DoubleKernel(ArithOp op) {
  switch (op) {
    case ArithOp::kAdd:
      return BinaryKernel<double, double, double, DoubleOp<ArithOp::kAdd>>;
    case ArithOp::kSub:
      return BinaryKernel<double, double, double, DoubleOp<ArithOp::kSub>>;
    case ArithOp::kMul:
      return BinaryKernel<double, double, double, DoubleOp<ArithOp::kMul>>;
    case ArithOp::kDiv:
      return BinaryKernel<double, double, double, DoubleOp<ArithOp::kDiv>>;
    case ArithOp::kMod:
      return BinaryKernel<double, double, double, DoubleOp<ArithOp::kMod>>;
  }
  return nullptr;
}

/// Decimal result type and kernel for exact operands ta, tb (at least one DECIMAL).
FunctionBinding BindDecimal(std::string_view name, ArithOp op, DataType ta, DataType tb) {
  const DecimalShape a = ShapeOf(ta), b = ShapeOf(tb);
  auto st = std::make_shared<DecimalArith>();
  st->a = AsScaledInt64(ta);
  st->b = AsScaledInt64(tb);
  KernelFn k = nullptr;
  int p = 0, s = 0;
  switch (op) {
    case ArithOp::kAdd:
    case ArithOp::kSub: {
      s = std::max(a.scale, b.scale);
      p = std::max(a.precision - a.scale, b.precision - b.scale) + s + 1;
      st->ma = PowerOfTen(s - a.scale);
      st->mb = PowerOfTen(s - b.scale);
      const bool aligned = a.scale != b.scale;
      if (op == ArithOp::kAdd)
        k = aligned ? BinaryKernel<int64_t, int64_t, int64_t, DecAdd<true, false>>
                    : BinaryKernel<int64_t, int64_t, int64_t, DecAdd<false, false>>;
      else
        k = aligned ? BinaryKernel<int64_t, int64_t, int64_t, DecAdd<true, true>>
                    : BinaryKernel<int64_t, int64_t, int64_t, DecAdd<false, true>>;
      break;
    }
    case ArithOp::kMul: {
      const int exact = a.scale + b.scale;
      s = std::min(exact, kDecimalPrecisionMax);
      p = a.precision + b.precision;
      st->pow_digits = exact - s;
      st->pow = Pow10Wide(exact - s);
      k = exact > s ? BinaryKernel<int64_t, int64_t, int64_t, DecMul<true>>
                    : BinaryKernel<int64_t, int64_t, int64_t, DecMul<false>>;
      break;
    }
    case ArithOp::kDiv: {
      s = std::min(kDecimalPrecisionMax, std::max({6, a.scale, b.scale}));
      p = kDecimalPrecisionMax;
      st->pow_digits = s - a.scale + b.scale;  // 0..36
      st->pow = Pow10Wide(st->pow_digits);
      k = st->pow_digits <= 19 ? BinaryKernel<int64_t, int64_t, int64_t, DecDiv<false>>
                               : BinaryKernel<int64_t, int64_t, int64_t, DecDiv<true>>;
      break;
    }
    case ArithOp::kMod: {
      s = std::max(a.scale, b.scale);
      p = std::min(a.precision - a.scale, b.precision - b.scale) + s;
      st->ma = PowerOfTen(s - a.scale);
      st->mb = PowerOfTen(s - b.scale);
      k = BinaryKernel<int64_t, int64_t, int64_t, DecMod>;
      break;
    }
  }
  st->result = DecimalOf(p, s);
  st->bound = PowerOfTen(st->result.precision) - 1;
  const DataType result = st->result, ta_phys = st->a, tb_phys = st->b;
  return MakeBinding(name, result, {ta_phys, tb_phys}, k, std::move(st));
}

Result<FunctionBinding> ResolveArith(std::string_view name, const Args& args) {
  if (args.size() != 2) return NoMatch();
  const ArithOp op = OpOf(name);
  DataType ta = EffectiveType(args[0], args[1]);
  DataType tb = EffectiveType(args[1], args[0]);
  const TypeId ts = TypeId::kTimestamp, iv = TypeId::kInterval;
  // Untyped operands of date/time arithmetic take the type that makes an operator exist.
  if (op == ArithOp::kAdd) {
    if (ta.id == ts && IsUntyped(args[1])) tb = DataType::IntervalType();
    if (tb.id == ts && IsUntyped(args[0])) ta = DataType::IntervalType();
  } else if (op == ArithOp::kSub) {
    if (ta.id == ts && IsUntyped(args[1])) {
      const std::string* text = ConstantText(args[1]);
      int64_t unused;
      if (text != nullptr && !ParseTimestamp(*text, &unused)) tb = DataType::IntervalType();
    }
  } else if (op == ArithOp::kMul || op == ArithOp::kDiv) {
    if (ta.id == iv && IsUntyped(args[1])) tb = DataType::Double();
    if (op == ArithOp::kMul && tb.id == iv && IsUntyped(args[0])) ta = DataType::Double();
  }
  if (ta.id == TypeId::kNull && tb.id == TypeId::kNull) ta = tb = DataType::Int64();

  const DataType tsd = DataType::Timestamp(), ivd = DataType::IntervalType();
  if (ta.id == ts || ta.id == iv || tb.id == ts || tb.id == iv) {
    if (op == ArithOp::kAdd) {
      if (ta.id == ts && tb.id == iv)
        return MakeBinding(name, tsd, {tsd, ivd},
                           BinaryKernel<int64_t, Interval, int64_t, TimestampPlusInterval<false>>);
      if (ta.id == iv && tb.id == ts)
        return MakeBinding(name, tsd, {ivd, tsd},
                           BinaryKernel<Interval, int64_t, int64_t, IntervalPlusTimestamp>);
      if (ta.id == iv && tb.id == iv)
        return MakeBinding(name, ivd, {ivd, ivd},
                           BinaryKernel<Interval, Interval, Interval, IntervalAddSub<false>>);
    } else if (op == ArithOp::kSub) {
      if (ta.id == ts && tb.id == iv)
        return MakeBinding(name, tsd, {tsd, ivd},
                           BinaryKernel<int64_t, Interval, int64_t, TimestampPlusInterval<true>>);
      if (ta.id == ts && tb.id == ts)
        return MakeBinding(name, ivd, {tsd, tsd},
                           BinaryKernel<int64_t, int64_t, Interval, TimestampDiff>);
      if (ta.id == iv && tb.id == iv)
        return MakeBinding(name, ivd, {ivd, ivd},
                           BinaryKernel<Interval, Interval, Interval, IntervalAddSub<true>>);
    } else if (op == ArithOp::kMul || op == ArithOp::kDiv) {
      const bool swapped = tb.id == iv;
      const DataType factor = swapped ? ta : tb;
      if (ta.id == ts || tb.id == ts || !factor.is_numeric() || (swapped && op == ArithOp::kDiv))
        return NoMatch();
      const DataType i64 = DataType::Int64(), dbl = DataType::Double();
      if (op == ArithOp::kMul && factor.is_integer()) {
        if (swapped)
          return MakeBinding(name, ivd, {i64, ivd},
                             BinaryKernel<int64_t, Interval, Interval, IntervalTimesInt<true>>);
        return MakeBinding(name, ivd, {ivd, i64},
                           BinaryKernel<Interval, int64_t, Interval, IntervalTimesInt<false>>);
      }
      if (op == ArithOp::kDiv)
        return MakeBinding(
            name, ivd, {ivd, dbl},
            BinaryKernel<Interval, double, Interval, IntervalTimesDouble<true, false>>);
      if (swapped)
        return MakeBinding(
            name, ivd, {dbl, ivd},
            BinaryKernel<double, Interval, Interval, IntervalTimesDouble<false, true>>);
      return MakeBinding(
          name, ivd, {ivd, dbl},
          BinaryKernel<Interval, double, Interval, IntervalTimesDouble<false, false>>);
    }
    return NoMatch();
  }
  if (!ta.is_numeric() || !tb.is_numeric()) return NoMatch();
  if (ta.id == TypeId::kDouble || tb.id == TypeId::kDouble) {
    const DataType d = DataType::Double();
    return MakeBinding(name, d, {d, d}, DoubleKernel(op));
  }
  if (ta.id == TypeId::kDecimal || tb.id == TypeId::kDecimal) return BindDecimal(name, op, ta, tb);
  if (ta.id == TypeId::kInt32 && tb.id == TypeId::kInt32) {
    const DataType i = DataType::Int32();
    return MakeBinding(name, i, {i, i}, IntKernel<int32_t>(op));
  }
  const DataType i = DataType::Int64();
  return MakeBinding(name, i, {i, i}, IntKernel<int64_t>(op));
}

Result<FunctionBinding> ResolveNegate(std::string_view name, const Args& args) {
  if (args.size() != 1) return NoMatch();
  DataType t = args[0].type;
  if (args[0].is_untyped_literal) return NoMatch();
  switch (t.id) {
    case TypeId::kNull:
    case TypeId::kInt64:
      t = DataType::Int64();
      return MakeBinding(name, t, {t}, UnaryKernel<int64_t, int64_t, NegInt<int64_t>>);
    case TypeId::kInt32:
      return MakeBinding(name, t, {t}, UnaryKernel<int32_t, int32_t, NegInt<int32_t>>);
    case TypeId::kDouble:
      return MakeBinding(name, t, {t}, UnaryKernel<double, double, NegDouble>);
    case TypeId::kDecimal:
      return MakeBinding(name, t, {t}, UnaryKernel<int64_t, int64_t, NegDecimal>);
    case TypeId::kInterval:
      return MakeBinding(name, t, {t}, UnaryKernel<Interval, Interval, NegInterval>);
    default:
      return NoMatch();
  }
}

constexpr FunctionDef kFunctions[] = {
    {"add", ResolveArith},     {"subtract", ResolveArith}, {"multiply", ResolveArith},
    {"divide", ResolveArith},  {"modulo", ResolveArith},   {"mod", ResolveArith},
    {"negate", ResolveNegate},
};

}  // namespace

std::span<const FunctionDef> ArithmeticFunctions() { return kFunctions; }

}  // namespace weir::fn
