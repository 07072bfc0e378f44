// Date/time functions: date_trunc(unit, ts), extract(field, ts | interval) and
// date_part(field, ts | interval). The unit/field is a constant resolved at bind time into one
// kernel per unit, so the row loop is straight-line arithmetic.
//
// date_trunc units: microseconds, milliseconds, second, minute, hour, day, week (ISO: Monday),
// month, quarter, year, decade, century (starts at year 1: 1901, 2001), millennium (1001, 2001);
// singular, plural and the usual abbreviations, case-insensitive.
//
// extract fields and result types (PostgreSQL 14+ returns NUMERIC; Weir returns the narrowest
// exact type that prints the same):
//   year quarter month week day dow isodow doy hour minute microsecond isoyear decade century
//   millennium                                -> BIGINT
//   second       -> DECIMAL(8,6)    e.g. 40.500000
//   millisecond  -> DECIMAL(8,3)    e.g. 40500.000 (seconds field, fraction included)
//   epoch        -> DECIMAL(18,6)   seconds since 1970-01-01 00:00:00 (for intervals: total
//                                   seconds, a year as 365.25 days and a month as 30 days)
// date_part returns the same values as DOUBLE (as PostgreSQL's date_part).
// to_timestamp(seconds DOUBLE) -> TIMESTAMP (microsecond-rounded; no time zone).
// Intervals support year quarter month day hour minute second millisecond microsecond epoch
// decade century millennium.
#include <array>
#include <cmath>

#include "expr/functions/kernel.h"
#include "expr/functions/registry.h"
#include "types/datetime.h"

namespace weir::fn {
namespace {

inline int64_t FloorDiv(int64_t a, int64_t b) {  // b > 0
  const int64_t q = a / b;
  return q - ((a % b != 0) & (a < 0));
}
inline int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

// ---- units --------------------------------------------------------------------------------

enum class Unit {
  kMicrosecond,
  kMillisecond,
  kSecond,
  kMinute,
  kHour,
  kDay,
  kWeek,
  kMonth,
  kQuarter,
  kYear,
  kDecade,
  kCentury,
  kMillennium,
  // extract-only fields
  kDow,
  kIsodow,
  kDoy,
  kEpoch,
  kIsoyear,
};

struct UnitName {
  const char* name;
  Unit unit;
};
constexpr UnitName kUnitNames[] = {
    {"microsecond", Unit::kMicrosecond},
    {"microseconds", Unit::kMicrosecond},
    {"us", Unit::kMicrosecond},
    {"usec", Unit::kMicrosecond},
    {"usecs", Unit::kMicrosecond},
    {"millisecond", Unit::kMillisecond},
    {"milliseconds", Unit::kMillisecond},
    {"ms", Unit::kMillisecond},
    {"msec", Unit::kMillisecond},
    {"msecs", Unit::kMillisecond},
    {"second", Unit::kSecond},
    {"seconds", Unit::kSecond},
    {"s", Unit::kSecond},
    {"sec", Unit::kSecond},
    {"secs", Unit::kSecond},
    {"minute", Unit::kMinute},
    {"minutes", Unit::kMinute},
    {"m", Unit::kMinute},
    {"min", Unit::kMinute},
    {"mins", Unit::kMinute},
    {"hour", Unit::kHour},
    {"hours", Unit::kHour},
    {"h", Unit::kHour},
    {"hr", Unit::kHour},
    {"hrs", Unit::kHour},
    {"day", Unit::kDay},
    {"days", Unit::kDay},
    {"d", Unit::kDay},
    {"week", Unit::kWeek},
    {"weeks", Unit::kWeek},
    {"w", Unit::kWeek},
    {"month", Unit::kMonth},
    {"months", Unit::kMonth},
    {"mon", Unit::kMonth},
    {"mons", Unit::kMonth},
    {"quarter", Unit::kQuarter},
    {"qtr", Unit::kQuarter},
    {"year", Unit::kYear},
    {"years", Unit::kYear},
    {"y", Unit::kYear},
    {"yr", Unit::kYear},
    {"yrs", Unit::kYear},
    {"decade", Unit::kDecade},
    {"decades", Unit::kDecade},
    {"dec", Unit::kDecade},
    {"century", Unit::kCentury},
    {"centuries", Unit::kCentury},
    {"c", Unit::kCentury},
    {"cent", Unit::kCentury},
    {"millennium", Unit::kMillennium},
    {"millennia", Unit::kMillennium},
    {"millenniums", Unit::kMillennium},
    {"mil", Unit::kMillennium},
    {"dow", Unit::kDow},
    {"isodow", Unit::kIsodow},
    {"doy", Unit::kDoy},
    {"epoch", Unit::kEpoch},
    {"isoyear", Unit::kIsoyear},
};

bool ParseUnit(std::string_view text, Unit* out) {
  const std::string lower = AsciiLower(text);
  for (const UnitName& u : kUnitNames) {
    if (lower == u.name) {
      *out = u.unit;
      return true;
    }
  }
  return false;
}

// ---- date_trunc ---------------------------------------------------------------------------

struct Civil {
  int64_t days;  // since 1970-01-01
  int64_t y;
  unsigned m, d;
};
inline Civil ToCivil(int64_t us) {
  Civil c;
  c.days = FloorDiv(us, kMicrosPerDay);
  CivilFromDays(c.days, &c.y, &c.m, &c.d);
  return c;
}

template <Unit kUnit>
struct TruncOp : Stateless {
  using Stateless::Stateless;
  static bool Scale(int64_t q, int64_t unit, int64_t* r) {
    return __builtin_mul_overflow(q, unit, r);
  }
  bool operator()(int64_t us, int64_t* r) const {
    if constexpr (kUnit == Unit::kMicrosecond) {
      *r = us;
      return false;
    } else if constexpr (kUnit == Unit::kMillisecond) {
      return Scale(FloorDiv(us, 1000), 1000, r);
    } else if constexpr (kUnit == Unit::kSecond) {
      return Scale(FloorDiv(us, kMicrosPerSecond), kMicrosPerSecond, r);
    } else if constexpr (kUnit == Unit::kMinute) {
      return Scale(FloorDiv(us, kMicrosPerMinute), kMicrosPerMinute, r);
    } else if constexpr (kUnit == Unit::kHour) {
      return Scale(FloorDiv(us, kMicrosPerHour), kMicrosPerHour, r);
    } else if constexpr (kUnit == Unit::kDay) {
      return Scale(FloorDiv(us, kMicrosPerDay), kMicrosPerDay, r);
    } else if constexpr (kUnit == Unit::kWeek) {
      const int64_t days = FloorDiv(us, kMicrosPerDay);
      return Scale(days - FloorMod(days + 3, 7), kMicrosPerDay, r);  // back to Monday
    } else {
      // Calendar units: remember the last [start, next start) range; event streams are
      // mostly ordered, so consecutive rows almost always fall into the same month or year.
      if (us >= lo_ && us < hi_) {
        *r = lo_;
        return false;
      }
      const Civil c = ToCivil(us);
      int64_t y = c.y, ny;
      unsigned m = 1, nm = 1;
      if constexpr (kUnit == Unit::kMonth || kUnit == Unit::kQuarter) {
        m = kUnit == Unit::kMonth ? c.m : (c.m - 1) / 3 * 3 + 1;
        nm = m + (kUnit == Unit::kMonth ? 1 : 3);
        ny = y + (nm > 12);
        nm = nm > 12 ? nm - 12 : nm;
      } else {
        int64_t span = 1;
        if constexpr (kUnit == Unit::kDecade) y = y - FloorMod(y, 10), span = 10;
        if constexpr (kUnit == Unit::kCentury) y = FloorDiv(y - 1, 100) * 100 + 1, span = 100;
        if constexpr (kUnit == Unit::kMillennium) y = FloorDiv(y - 1, 1000) * 1000 + 1, span = 1000;
        ny = y + span;
      }
      if (Scale(DaysFromCivil(y, m, 1), kMicrosPerDay, r)) return true;
      lo_ = *r;
      if (Scale(DaysFromCivil(ny, nm, 1), kMicrosPerDay, &hi_)) hi_ = INT64_MAX;
      return false;
    }
  }
  mutable int64_t lo_ = 1, hi_ = 0;  // cached range of the calendar units (empty at first)
  Status Error(int64_t us) const {
    return DataError("timestamp out of range: date_trunc of '{}'", TimestampText(us));
  }
};

template <Unit kUnit>
KernelFn TruncKernel() {
  return SkipFirstArg<UnaryKernel<int64_t, int64_t, TruncOp<kUnit>>>;
}

// ---- extract ------------------------------------------------------------------------------

/// PostgreSQL numbers years without a year zero: astronomical year 0 is 1 BC, i.e. -1.
inline int64_t DisplayYear(int64_t y) { return y > 0 ? y : y - 1; }

/// Extract from a timestamp as the int64 the result type stores (DECIMAL fields scaled).
template <Unit kField>
inline int64_t ExtractTimestamp(int64_t us) {
  if constexpr (kField == Unit::kEpoch) return us;  // DECIMAL(18,6) seconds == micros
  if constexpr (kField == Unit::kSecond || kField == Unit::kMillisecond ||
                kField == Unit::kMicrosecond)
    return FloorMod(us, kMicrosPerMinute);  // DECIMAL(8,6) s / DECIMAL(8,3) ms / BIGINT us
  if constexpr (kField == Unit::kMinute) return FloorMod(us, kMicrosPerHour) / kMicrosPerMinute;
  if constexpr (kField == Unit::kHour) return FloorMod(us, kMicrosPerDay) / kMicrosPerHour;
  const int64_t days = FloorDiv(us, kMicrosPerDay);
  if constexpr (kField == Unit::kDow) return FloorMod(days + 4, 7);  // 1970-01-01: Thursday
  if constexpr (kField == Unit::kIsodow) return FloorMod(days + 3, 7) + 1;
  if constexpr (kField == Unit::kWeek || kField == Unit::kIsoyear) {
    // The ISO year of a day is the year of the Thursday of its (Monday-based) week.
    const int64_t thursday = days - FloorMod(days + 3, 7) + 3;
    int64_t y;
    unsigned m, d;
    CivilFromDays(thursday, &y, &m, &d);
    if constexpr (kField == Unit::kIsoyear) return DisplayYear(y);
    return (thursday - DaysFromCivil(y, 1, 1)) / 7 + 1;
  }
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if constexpr (kField == Unit::kDay) return d;
  if constexpr (kField == Unit::kMonth) return m;
  if constexpr (kField == Unit::kQuarter) return (m - 1) / 3 + 1;
  if constexpr (kField == Unit::kDoy) return days - DaysFromCivil(y, 1, 1) + 1;
  if constexpr (kField == Unit::kYear) return DisplayYear(y);
  if constexpr (kField == Unit::kDecade) return FloorDiv(y, 10);
  if constexpr (kField == Unit::kCentury) return y > 0 ? (y + 99) / 100 : -((99 - (y - 1)) / 100);
  if constexpr (kField == Unit::kMillennium)
    return y > 0 ? (y + 999) / 1000 : -((999 - (y - 1)) / 1000);
  return 0;
}

constexpr int64_t kMicrosPerYear = 31'557'600'000'000LL;  // 365.25 days
constexpr int64_t kMicrosPerMonth = 30 * kMicrosPerDay;

template <Unit kField>
inline int64_t ExtractInterval(const Interval& v, bool* bad) {
  *bad = false;
  if constexpr (kField == Unit::kYear) return v.months / 12;
  if constexpr (kField == Unit::kMonth) return v.months % 12;
  if constexpr (kField == Unit::kQuarter) return (v.months % 12) / 3 + 1;
  if constexpr (kField == Unit::kDecade) return v.months / 120;
  if constexpr (kField == Unit::kCentury) return v.months / 1200;
  if constexpr (kField == Unit::kMillennium) return v.months / 12000;
  if constexpr (kField == Unit::kDay) return v.days;
  if constexpr (kField == Unit::kHour) return v.micros / kMicrosPerHour;
  if constexpr (kField == Unit::kMinute) return v.micros / kMicrosPerMinute % 60;
  if constexpr (kField == Unit::kSecond || kField == Unit::kMillisecond ||
                kField == Unit::kMicrosecond)
    return v.micros % kMicrosPerMinute;
  if constexpr (kField == Unit::kEpoch) {
    const __int128 us = static_cast<__int128>(v.months / 12) * kMicrosPerYear +
                        static_cast<__int128>(v.months % 12) * kMicrosPerMonth +
                        static_cast<__int128>(v.days) * kMicrosPerDay + v.micros;
    *bad = us > 999'999'999'999'999'999LL || us < -999'999'999'999'999'999LL;
    return static_cast<int64_t>(us);
  }
  return 0;
}

/// Divisor turning the stored int64 into the field's value as a DOUBLE (date_part).
template <Unit kField>
constexpr double DoubleDivisor() {
  if (kField == Unit::kEpoch || kField == Unit::kSecond) return 1e6;
  if (kField == Unit::kMillisecond) return 1e3;
  return 1;
}

/// Fields that depend on the calendar day only: the op remembers the last day it computed.
template <Unit kField>
constexpr bool kPerDay =
    !(kField == Unit::kEpoch || kField == Unit::kSecond || kField == Unit::kMillisecond ||
      kField == Unit::kMicrosecond || kField == Unit::kMinute || kField == Unit::kHour ||
      kField == Unit::kDow || kField == Unit::kIsodow);

template <Unit kField, typename R>
struct ExtractTsOp : Stateless {
  using Stateless::Stateless;
  mutable int64_t day_ = INT64_MIN, value_ = 0;
  bool operator()(int64_t us, R* r) const {
    int64_t v;
    if constexpr (kPerDay<kField>) {
      const int64_t day = FloorDiv(us, kMicrosPerDay);
      if (day != day_) {
        day_ = day;
        value_ = ExtractTimestamp<kField>(us);
      }
      v = value_;
    } else {
      v = ExtractTimestamp<kField>(us);
    }
    if constexpr (std::is_same_v<R, double>) {
      *r = static_cast<double>(v) / DoubleDivisor<kField>();
    } else {
      *r = v;
    }
    return false;
  }
  Status Error(int64_t) const { return Status::OK(); }
};

template <Unit kField, typename R>
struct ExtractIvOp : Stateless {
  using Stateless::Stateless;
  bool operator()(Interval iv, R* r) const {
    bool bad;
    const int64_t v = ExtractInterval<kField>(iv, &bad);
    if constexpr (std::is_same_v<R, double>) {
      *r = static_cast<double>(v) / DoubleDivisor<kField>();
    } else {
      *r = v;
    }
    return bad;
  }
  Status Error(Interval iv) const {
    return DataError("interval out of range: epoch of '{}'", IntervalText(iv));
  }
};

template <Unit kField, typename R>
KernelFn ExtractKernel(bool interval) {
  if (interval) return SkipFirstArg<UnaryKernel<Interval, R, ExtractIvOp<kField, R>>>;
  return SkipFirstArg<UnaryKernel<int64_t, R, ExtractTsOp<kField, R>>>;
}

template <typename R>
KernelFn ExtractKernelFor(Unit u, bool interval) {
  switch (u) {
    case Unit::kMicrosecond:
      return ExtractKernel<Unit::kMicrosecond, R>(interval);
    case Unit::kMillisecond:
      return ExtractKernel<Unit::kMillisecond, R>(interval);
    case Unit::kSecond:
      return ExtractKernel<Unit::kSecond, R>(interval);
    case Unit::kMinute:
      return ExtractKernel<Unit::kMinute, R>(interval);
    case Unit::kHour:
      return ExtractKernel<Unit::kHour, R>(interval);
    case Unit::kDay:
      return ExtractKernel<Unit::kDay, R>(interval);
    case Unit::kMonth:
      return ExtractKernel<Unit::kMonth, R>(interval);
    case Unit::kQuarter:
      return ExtractKernel<Unit::kQuarter, R>(interval);
    case Unit::kYear:
      return ExtractKernel<Unit::kYear, R>(interval);
    case Unit::kDecade:
      return ExtractKernel<Unit::kDecade, R>(interval);
    case Unit::kCentury:
      return ExtractKernel<Unit::kCentury, R>(interval);
    case Unit::kMillennium:
      return ExtractKernel<Unit::kMillennium, R>(interval);
    case Unit::kEpoch:
      return ExtractKernel<Unit::kEpoch, R>(interval);
    // timestamp-only fields
    case Unit::kWeek:
      return SkipFirstArg<UnaryKernel<int64_t, R, ExtractTsOp<Unit::kWeek, R>>>;
    case Unit::kDow:
      return SkipFirstArg<UnaryKernel<int64_t, R, ExtractTsOp<Unit::kDow, R>>>;
    case Unit::kIsodow:
      return SkipFirstArg<UnaryKernel<int64_t, R, ExtractTsOp<Unit::kIsodow, R>>>;
    case Unit::kDoy:
      return SkipFirstArg<UnaryKernel<int64_t, R, ExtractTsOp<Unit::kDoy, R>>>;
    case Unit::kIsoyear:
      return SkipFirstArg<UnaryKernel<int64_t, R, ExtractTsOp<Unit::kIsoyear, R>>>;
  }
  return nullptr;
}

// ---- to_timestamp -------------------------------------------------------------------------

/// to_timestamp(seconds since the epoch) -> TIMESTAMP, rounded to the microsecond.
struct ToTimestampOp : Stateless {
  using Stateless::Stateless;
  bool operator()(double secs, int64_t* r) const {
    const double us = std::nearbyint(secs * 1e6);
    const bool ok = (us >= -9.2e18) & (us <= 9.2e18);  // false for NaN too
    *r = ok ? static_cast<int64_t>(us) : 0;
    return !ok;
  }
  Status Error(double secs) const {
    if (std::isnan(secs)) return DataError("timestamp cannot be NaN");
    return DataError("timestamp out of range: to_timestamp({})", DoubleText(secs));
  }
};

Result<FunctionBinding> ResolveToTimestamp(std::string_view name, const Args& args) {
  if (!SignatureMatches(args, {DataType::Double()})) return NoMatch();
  return MakeBinding(name, DataType::Timestamp(), {DataType::Double()},
                     UnaryKernel<double, int64_t, ToTimestampOp>);
}

// ---- resolution ---------------------------------------------------------------------------

/// Reads the constant unit argument and the TIMESTAMP/INTERVAL operand type.
Status UnitAndOperand(std::string_view fn, const Args& args, bool allow_interval, Unit* unit,
                      DataType* operand) {
  const DataType text = DataType::Varchar();
  if (args.size() != 2 || !ArgMatches(args[0], text)) return NoMatch();
  DataType t = LoneType(args[1]);
  if (IsUntyped(args[1])) t = DataType::Timestamp();
  if (t.id != TypeId::kTimestamp && !(allow_interval && t.id == TypeId::kInterval))
    return NoMatch();
  const std::string* name = ConstantText(args[0]);
  if (name == nullptr) return BindError("{}: the unit must be a constant string", fn);
  if (!ParseUnit(*name, unit))
    return BindError("unit \"{}\" not recognized for type {}", *name, t.ToString());
  *operand = t;
  return Status::OK();
}

Result<FunctionBinding> ResolveDateTrunc(std::string_view name, const Args& args) {
  Unit u;
  DataType t;
  WEIR_RETURN_IF_ERROR(UnitAndOperand(name, args, false, &u, &t));
  KernelFn k = nullptr;
  switch (u) {
    case Unit::kMicrosecond:
      k = TruncKernel<Unit::kMicrosecond>();
      break;
    case Unit::kMillisecond:
      k = TruncKernel<Unit::kMillisecond>();
      break;
    case Unit::kSecond:
      k = TruncKernel<Unit::kSecond>();
      break;
    case Unit::kMinute:
      k = TruncKernel<Unit::kMinute>();
      break;
    case Unit::kHour:
      k = TruncKernel<Unit::kHour>();
      break;
    case Unit::kDay:
      k = TruncKernel<Unit::kDay>();
      break;
    case Unit::kWeek:
      k = TruncKernel<Unit::kWeek>();
      break;
    case Unit::kMonth:
      k = TruncKernel<Unit::kMonth>();
      break;
    case Unit::kQuarter:
      k = TruncKernel<Unit::kQuarter>();
      break;
    case Unit::kYear:
      k = TruncKernel<Unit::kYear>();
      break;
    case Unit::kDecade:
      k = TruncKernel<Unit::kDecade>();
      break;
    case Unit::kCentury:
      k = TruncKernel<Unit::kCentury>();
      break;
    case Unit::kMillennium:
      k = TruncKernel<Unit::kMillennium>();
      break;
    default:
      return BindError("unit \"{}\" not supported for date_trunc", *ConstantText(args[0]));
  }
  return MakeBinding(name, t, {DataType::Varchar(), t}, k);
}

template <bool kDouble>
Result<FunctionBinding> ResolveExtract(std::string_view name, const Args& args) {
  Unit u;
  DataType t;
  WEIR_RETURN_IF_ERROR(UnitAndOperand(name, args, true, &u, &t));
  const bool interval = t.id == TypeId::kInterval;
  if (interval && (u == Unit::kWeek || u == Unit::kDow || u == Unit::kIsodow || u == Unit::kDoy ||
                   u == Unit::kIsoyear))
    return BindError("unit \"{}\" not supported for type INTERVAL", *ConstantText(args[0]));
  DataType result = DataType::Int64();
  if (kDouble)
    result = DataType::Double();
  else if (u == Unit::kSecond)
    result = DataType::Decimal(8, 6);
  else if (u == Unit::kMillisecond)
    result = DataType::Decimal(8, 3);
  else if (u == Unit::kEpoch)
    result = DataType::Decimal(18, 6);
  KernelFn k =
      kDouble ? ExtractKernelFor<double>(u, interval) : ExtractKernelFor<int64_t>(u, interval);
  return MakeBinding(name, result, {DataType::Varchar(), t}, k);
}

constexpr FunctionDef kFunctions[] = {
    {"date_trunc", ResolveDateTrunc},
    {"extract", ResolveExtract<false>},
    {"date_part", ResolveExtract<true>},
    {"to_timestamp", ResolveToTimestamp},
};

}  // namespace

std::span<const FunctionDef> DatetimeFunctions() { return kFunctions; }

}  // namespace weir::fn
