// CAST kernels (BindCast). One kernel per (from, to) pair; DECIMAL scales and bounds are bound
// into the state.
//
// Numeric conversions are range-checked ("INT out of range", "numeric field overflow").
// DOUBLE -> integer rounds to nearest, ties to even (PostgreSQL's rint); DECIMAL -> integer and
// DECIMAL -> DECIMAL with fewer digits round half away from zero; DOUBLE -> DECIMAL rounds the
// shortest decimal text of the double half away from zero (so 1.005 -> 1.01 at scale 2).
// To VARCHAR: canonical text ('true'/'false', shortest round-trip DOUBLE, DECIMAL with exactly
// `scale` digits, 'YYYY-MM-DD HH:MM:SS[.ffffff]', PostgreSQL-style intervals).
// From VARCHAR: surrounding spaces are ignored; invalid text is a kDataError
// 'invalid input syntax for type BIGINT: "abc"'.
// Implicit casts (explicit_cast = false) — see README: widening numeric, NULL -> any,
// VARCHAR -> any (untyped literals), any -> VARCHAR (text operands of concat and ||).
#include <charconv>
#include <cmath>
#include <limits>

#include "expr/functions/kernel.h"
#include "expr/functions/registry.h"
#include "types/datetime.h"

namespace weir::fn {
namespace {

/// Per-call-site constants of a cast.
struct CastState {
  DataType from, to;
  int64_t mult = 1;   // integer -> DECIMAL, DECIMAL up-scaling
  int drop = 0;       // DECIMAL down-scaling / DECIMAL -> integer: digits removed
  int64_t bound = 0;  // 10^precision - 1 of a DECIMAL result
  double pow = 1;     // 10^scale as double
};

const CastState& StateOf(const void* p) { return *static_cast<const CastState*>(p); }

struct CastOpBase {
  CastState s;
  explicit CastOpBase(const void* st) : s(StateOf(st)) {}
  bool OutOfBounds(int64_t r) const { return (r > s.bound) | (r < -s.bound); }
};

inline int64_t DivRoundHalfAway(int64_t v, int k) {
  if (k > 18) return 0;
  const int64_t p = PowerOfTen(k);
  const int64_t q = v / p, r = v % p;
  return q + ((r < 0 ? -2 * r : 2 * r) >= p ? (v < 0 ? -1 : 1) : 0);
}

template <typename To>
inline bool FitsInt(int64_t v) {
  return v >= std::numeric_limits<To>::min() && v <= std::numeric_limits<To>::max();
}

// ---- numeric <-> numeric ------------------------------------------------------------------

template <typename From, typename To>
struct IntToInt : Stateless {
  using Stateless::Stateless;
  bool operator()(From a, To* r) const {
    *r = static_cast<To>(a);
    return !FitsInt<To>(a);
  }
  Status Error(From a) const { return DataError("{} out of range: {}", IntTypeName<To>(), a); }
};

template <typename From>
struct IntToDouble : Stateless {
  using Stateless::Stateless;
  bool operator()(From a, double* r) const {
    *r = static_cast<double>(a);
    return false;
  }
  Status Error(From) const { return Status::OK(); }
};

template <typename From>
struct IntToDecimal : CastOpBase {
  using CastOpBase::CastOpBase;
  bool operator()(From a, int64_t* r) const {
    return __builtin_mul_overflow(static_cast<int64_t>(a), s.mult, r) | OutOfBounds(*r);
  }
  Status Error(From a) const {
    return DataError("numeric field overflow: {} does not fit {}", a, s.to.ToString());
  }
};

template <typename To>
struct DoubleToInt : Stateless {
  using Stateless::Stateless;
  bool operator()(double a, To* r) const {
    const double x = std::nearbyint(a);
    constexpr double lo = static_cast<double>(std::numeric_limits<To>::min());
    constexpr double hi = -lo;  // 2^31 or 2^63, exclusive
    const bool ok = (x >= lo) & (x < hi);
    *r = ok ? static_cast<To>(x) : To{0};
    return !ok;
  }
  Status Error(double a) const {
    return DataError("{} out of range: {}", IntTypeName<To>(), DoubleText(a));
  }
};

struct DoubleToDecimal : CastOpBase {
  using CastOpBase::CastOpBase;
  bool operator()(double a, int64_t* r) const {
    const double scaled = a * s.pow;
    if (!(std::fabs(scaled) < 9.2e18)) {  // also NaN and infinities
      *r = 0;
      return true;
    }
    const double frac = scaled - std::floor(scaled);
    if (__builtin_expect(std::fabs(frac - 0.5) < 1e-6, 0)) {
      // Near a tie: round the decimal text the user sees, not the binary value.
      char buf[128];
      const auto res = std::to_chars(buf, buf + sizeof(buf), a, std::chars_format::fixed);
      if (res.ec != std::errc() ||
          !ParseDecimal(std::string_view(buf, static_cast<size_t>(res.ptr - buf)),
                        kDecimalPrecisionMax, s.to.scale, r)) {
        *r = 0;
        return true;
      }
      return OutOfBounds(*r);
    }
    *r = static_cast<int64_t>(std::round(scaled));
    return OutOfBounds(*r);
  }
  Status Error(double a) const {
    if (std::isnan(a)) return DataError("cannot convert NaN to {}", s.to.ToString());
    return DataError("numeric field overflow: {} does not fit {}", DoubleText(a), s.to.ToString());
  }
};

template <typename To>
struct DecimalToInt : CastOpBase {
  using CastOpBase::CastOpBase;
  bool operator()(int64_t a, To* r) const {
    const int64_t v = s.drop > 0 ? DivRoundHalfAway(a, s.drop) : a;
    *r = static_cast<To>(v);
    return !FitsInt<To>(v);
  }
  Status Error(int64_t a) const {
    return DataError("{} out of range: {}", IntTypeName<To>(), DecimalText(a, s.from.scale));
  }
};

struct DecimalToDouble : CastOpBase {
  using CastOpBase::CastOpBase;
  bool operator()(int64_t a, double* r) const {
    *r = static_cast<double>(a) / s.pow;
    return false;
  }
  Status Error(int64_t) const { return Status::OK(); }
};

template <bool kUp>
struct DecimalRescale : CastOpBase {
  using CastOpBase::CastOpBase;
  bool operator()(int64_t a, int64_t* r) const {
    bool ovf = false;
    if constexpr (kUp)
      ovf = __builtin_mul_overflow(a, s.mult, r);
    else
      *r = DivRoundHalfAway(a, s.drop);
    return ovf | OutOfBounds(*r);
  }
  Status Error(int64_t a) const {
    return DataError("numeric field overflow: {} does not fit {}", DecimalText(a, s.from.scale),
                     s.to.ToString());
  }
};

template <typename From>
struct IntToBool : Stateless {
  using Stateless::Stateless;
  bool operator()(From a, uint8_t* r) const {
    *r = a != 0;
    return false;
  }
  Status Error(From) const { return Status::OK(); }
};

template <typename To>
struct BoolToInt : Stateless {
  using Stateless::Stateless;
  bool operator()(uint8_t a, To* r) const {
    *r = a != 0;
    return false;
  }
  Status Error(uint8_t) const { return Status::OK(); }
};

// ---- anything -> VARCHAR ------------------------------------------------------------------

template <TypeId kFrom, typename T>
struct FormatOp : CastOpBase {
  using CastOpBase::CastOpBase;
  static constexpr size_t kMax = std::is_same_v<T, Interval> ? kIntervalTextMax : 32;
  static int64_t BytesHint(const ArgReader*, const Column* const*, int64_t rows) {
    // Typical text widths; the writer grows past them when needed.
    constexpr int64_t kWidth = kFrom == TypeId::kBoolean     ? 5
                               : kFrom == TypeId::kTimestamp ? 26
                               : kFrom == TypeId::kInterval  ? 24
                                                             : 20;
    return rows * kWidth;
  }
  bool operator()(const ArgReader* a, int64_t i, VarcharWriter* w) const {
    char* p = w->Reserve(kMax);
    size_t n = 0;
    const T v = a[0].Get<T>(i);
    if constexpr (std::is_same_v<T, uint8_t>) {
      n = v ? 4 : 5;
      std::memcpy(p, v ? "true" : "false", n);
    } else if constexpr (std::is_same_v<T, double>) {
      n = FormatDouble(v, p);
    } else if constexpr (std::is_same_v<T, Interval>) {
      n = FormatInterval(v, p);
    } else if constexpr (kFrom == TypeId::kDecimal) {
      n = FormatDecimal(v, s.from.scale, p);
    } else if constexpr (kFrom == TypeId::kTimestamp) {
      n = FormatTimestamp(v, p);
    } else {
      n = static_cast<size_t>(std::to_chars(p, p + kMax, v).ptr - p);
    }
    w->Commit(n);
    return true;
  }
  Status Error(const ArgReader*, int64_t) const { return Status::OK(); }
};

// ---- VARCHAR -> anything ------------------------------------------------------------------

inline std::string_view Trim(std::string_view s) {
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

/// The text for an error message, shortened when long.
std::string Sample(std::string_view s) {
  if (s.size() <= 64) return std::string(s);
  return std::string(s.substr(0, 61)) + "...";
}

/// Parses an optionally signed decimal integer; *overflow set when it is well formed but does
/// not fit int64.
inline bool ParseInt64(std::string_view s, int64_t* out, bool* overflow) {
  *overflow = false;
  s = Trim(s);
  if (s.empty()) return false;
  bool neg = false;
  size_t i = 0;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == s.size()) return false;
  uint64_t v = 0;
  bool ovf = false;
  if (s.size() - i <= 19) {  // at most 19 digits cannot overflow uint64: no checks
    for (; i < s.size(); ++i) {
      const unsigned d = static_cast<unsigned char>(s[i]) - '0';
      if (d > 9) return false;
      v = v * 10 + d;
    }
  } else {
    for (; i < s.size(); ++i) {
      const unsigned d = static_cast<unsigned char>(s[i]) - '0';
      if (d > 9) return false;
      ovf |= __builtin_mul_overflow(v, uint64_t{10}, &v);
      ovf |= __builtin_add_overflow(v, uint64_t{d}, &v);
    }
  }
  *overflow = ovf;
  const uint64_t limit = neg ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (*overflow || v > limit) {
    *overflow = true;
    return false;
  }
  *out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return true;
}

bool IEquals(std::string_view a, std::string_view b) { return AsciiLower(a) == b; }

bool ParseBool(std::string_view s, uint8_t* out) {
  s = Trim(s);
  if (s.empty() || s.size() > 5) return false;
  char buf[5];
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
  const std::string_view l(buf, s.size());
  if (l == "t" || l == "true" || l == "y" || l == "yes" || l == "on" || l == "1") {
    *out = 1;
    return true;
  }
  if (l == "f" || l == "false" || l == "n" || l == "no" || l == "off" || l == "0") {
    *out = 0;
    return true;
  }
  return false;
}

bool ParseDouble(std::string_view s, double* out) {
  s = Trim(s);
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return true;
  if (r.ec == std::errc::result_out_of_range) return false;
  std::string_view t = s;
  const bool neg = t[0] == '-';
  if (neg) t.remove_prefix(1);
  if (IEquals(t, "nan")) {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  if (IEquals(t, "infinity") || IEquals(t, "inf")) {
    *out = neg ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
    return true;
  }
  return false;
}

/// Well-formed decimal text (sign, digits, at most one point, at least one digit)?
bool DecimalSyntaxOk(std::string_view s) {
  s = Trim(s);
  size_t i = (!s.empty() && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  bool digit = false, point = false;
  for (; i < s.size(); ++i) {
    if (s[i] == '.' && !point)
      point = true;
    else if (s[i] >= '0' && s[i] <= '9')
      digit = true;
    else
      return false;
  }
  return digit;
}

template <TypeId kTo, typename R>
struct ParseOp : CastOpBase {
  using CastOpBase::CastOpBase;
  bool operator()(const ArgReader* a, int64_t i, R* r) const {
    const std::string_view text = a[0].Str(i);
    if constexpr (kTo == TypeId::kBoolean) {
      return ParseBool(text, r);
    } else if constexpr (kTo == TypeId::kInt32 || kTo == TypeId::kInt64) {
      int64_t v;
      bool overflow;
      if (!ParseInt64(text, &v, &overflow) || !FitsInt<R>(v)) return false;
      *r = static_cast<R>(v);
      return true;
    } else if constexpr (kTo == TypeId::kDouble) {
      return ParseDouble(text, r);
    } else if constexpr (kTo == TypeId::kDecimal) {
      return ParseDecimal(text, s.to.precision, s.to.scale, r);
    } else if constexpr (kTo == TypeId::kTimestamp) {
      return ParseTimestamp(text, r);
    } else {
      static_assert(kTo == TypeId::kInterval);
      return ParseInterval(text, "", r);
    }
  }
  Status Error(const ArgReader* a, int64_t i) const {
    const std::string_view text = a[0].Str(i);
    const std::string type = s.to.ToString();
    if (s.to.is_integer()) {
      int64_t v;
      bool overflow;
      if (ParseInt64(text, &v, &overflow) || overflow)
        return DataError("value \"{}\" is out of range for type {}", Sample(text), type);
    }
    if (s.to.id == TypeId::kDecimal && DecimalSyntaxOk(text))
      return DataError("numeric field overflow: \"{}\" does not fit {}", Sample(text), type);
    if (s.to.id == TypeId::kDouble) {
      const std::string_view t = Trim(text);
      double unused;
      if (std::from_chars(t.data(), t.data() + t.size(), unused).ec ==
          std::errc::result_out_of_range)
        return DataError("\"{}\" is out of range for type DOUBLE", Sample(text));
    }
    return DataError("invalid input syntax for type {}: \"{}\"", type, Sample(text));
  }
};

// ---- binding ------------------------------------------------------------------------------

Status CopyKernel(const KernelContext& ctx, const Column* const* args, Column* out) {
  out->CopyFrom(*args[0]);
  if (out->is_constant()) out->SetConstantLength(ctx.rows);
  return Status::OK();
}

bool ImplicitAllowed(DataType from, DataType to) {
  if (from.id == TypeId::kNull || from.id == TypeId::kVarchar || to.id == TypeId::kVarchar)
    return true;
  if (from.id == to.id) return true;
  auto rank = [](TypeId id) {
    switch (id) {
      case TypeId::kInt32:
        return 1;
      case TypeId::kInt64:
        return 2;
      case TypeId::kDecimal:
        return 3;
      case TypeId::kDouble:
        return 4;
      default:
        return 0;
    }
  };
  return rank(from.id) != 0 && rank(to.id) != 0 && rank(from.id) < rank(to.id);
}

template <typename From>
KernelFn FromIntKernel(DataType to) {
  switch (to.id) {
    case TypeId::kBoolean:
      return UnaryKernel<From, uint8_t, IntToBool<From>>;
    case TypeId::kInt32:
      return UnaryKernel<From, int32_t, IntToInt<From, int32_t>>;
    case TypeId::kInt64:
      return UnaryKernel<From, int64_t, IntToInt<From, int64_t>>;
    case TypeId::kDouble:
      return UnaryKernel<From, double, IntToDouble<From>>;
    case TypeId::kDecimal:
      return UnaryKernel<From, int64_t, IntToDecimal<From>>;
    case TypeId::kVarchar:
      return StringKernel<FormatOp<TypeId::kInt64, From>, 1>;
    default:
      return nullptr;
  }
}

KernelFn CastKernel(DataType from, DataType to, CastState* st) {
  if (from.id == TypeId::kNull) return NullKernel;
  if (from == to) return CopyKernel;
  st->bound = to.id == TypeId::kDecimal ? PowerOfTen(to.precision) - 1 : 0;
  st->pow = from.id == TypeId::kDecimal ? static_cast<double>(PowerOfTen(from.scale))
                                        : static_cast<double>(PowerOfTen(to.scale));
  switch (from.id) {
    case TypeId::kBoolean:
      if (to.id == TypeId::kInt32) return UnaryKernel<uint8_t, int32_t, BoolToInt<int32_t>>;
      if (to.id == TypeId::kInt64) return UnaryKernel<uint8_t, int64_t, BoolToInt<int64_t>>;
      if (to.id == TypeId::kVarchar) return StringKernel<FormatOp<TypeId::kBoolean, uint8_t>, 1>;
      return nullptr;
    case TypeId::kInt32:
      st->mult = PowerOfTen(to.scale);
      return FromIntKernel<int32_t>(to);
    case TypeId::kInt64:
      st->mult = PowerOfTen(to.scale);
      return FromIntKernel<int64_t>(to);
    case TypeId::kDouble:
      switch (to.id) {
        case TypeId::kInt32:
          return UnaryKernel<double, int32_t, DoubleToInt<int32_t>>;
        case TypeId::kInt64:
          return UnaryKernel<double, int64_t, DoubleToInt<int64_t>>;
        case TypeId::kDecimal:
          return UnaryKernel<double, int64_t, DoubleToDecimal>;
        case TypeId::kVarchar:
          return StringKernel<FormatOp<TypeId::kDouble, double>, 1>;
        default:
          return nullptr;
      }
    case TypeId::kDecimal:
      switch (to.id) {
        case TypeId::kInt32:
          st->drop = from.scale;
          return UnaryKernel<int64_t, int32_t, DecimalToInt<int32_t>>;
        case TypeId::kInt64:
          st->drop = from.scale;
          return UnaryKernel<int64_t, int64_t, DecimalToInt<int64_t>>;
        case TypeId::kDouble:
          return UnaryKernel<int64_t, double, DecimalToDouble>;
        case TypeId::kDecimal:
          if (to.scale >= from.scale) {
            st->mult = PowerOfTen(to.scale - from.scale);
            return UnaryKernel<int64_t, int64_t, DecimalRescale<true>>;
          }
          st->drop = from.scale - to.scale;
          return UnaryKernel<int64_t, int64_t, DecimalRescale<false>>;
        case TypeId::kVarchar:
          return StringKernel<FormatOp<TypeId::kDecimal, int64_t>, 1>;
        default:
          return nullptr;
      }
    case TypeId::kTimestamp:
      return to.id == TypeId::kVarchar ? StringKernel<FormatOp<TypeId::kTimestamp, int64_t>, 1>
                                       : nullptr;
    case TypeId::kInterval:
      return to.id == TypeId::kVarchar ? StringKernel<FormatOp<TypeId::kInterval, Interval>, 1>
                                       : nullptr;
    case TypeId::kVarchar:
      switch (to.id) {
        case TypeId::kBoolean:
          return RowKernel<uint8_t, ParseOp<TypeId::kBoolean, uint8_t>, 1>;
        case TypeId::kInt32:
          return RowKernel<int32_t, ParseOp<TypeId::kInt32, int32_t>, 1>;
        case TypeId::kInt64:
          return RowKernel<int64_t, ParseOp<TypeId::kInt64, int64_t>, 1>;
        case TypeId::kDecimal:
          return RowKernel<int64_t, ParseOp<TypeId::kDecimal, int64_t>, 1>;
        case TypeId::kTimestamp:
          return RowKernel<int64_t, ParseOp<TypeId::kTimestamp, int64_t>, 1>;
        case TypeId::kDouble:
          return RowKernel<double, ParseOp<TypeId::kDouble, double>, 1>;
        case TypeId::kInterval:
          return RowKernel<Interval, ParseOp<TypeId::kInterval, Interval>, 1>;
        default:
          return nullptr;
      }
    case TypeId::kNull:
      break;
  }
  return nullptr;
}

}  // namespace

Result<FunctionBinding> ResolveCast(DataType from, DataType to, bool explicit_cast) {
  if (to.id == TypeId::kNull)
    return BindError("cannot cast type {} to {}", from.ToString(), to.ToString());
  if (to.id == TypeId::kDecimal &&
      (to.precision < 1 || to.precision > kDecimalPrecisionMax || to.scale > to.precision))
    return BindError("invalid type {}", to.ToString());
  auto st = std::make_shared<CastState>();
  st->from = from;
  st->to = to;
  KernelFn k = CastKernel(from, to, st.get());
  if (k == nullptr) return BindError("cannot cast type {} to {}", from.ToString(), to.ToString());
  if (!explicit_cast && !ImplicitAllowed(from, to))
    return BindError("cannot cast type {} to {} implicitly; use CAST", from.ToString(),
                     to.ToString());
  return MakeBinding("cast", to, {from}, k, std::move(st));
}

}  // namespace weir::fn
