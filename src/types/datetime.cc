#include "types/datetime.h"

#include <charconv>
#include <cmath>
#include <cstring>

namespace weir {

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

namespace {

inline bool Digits(const char* p, int n, int* out) {
  int v = 0;
  for (int i = 0; i < n; ++i) {
    unsigned c = static_cast<unsigned char>(p[i]) - '0';
    if (c > 9) return false;
    v = v * 10 + static_cast<int>(c);
  }
  *out = v;
  return true;
}

inline unsigned DaysInMonth(int64_t y, unsigned m) {
  static constexpr unsigned kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return kDays[m - 1];
}

inline void Put2(char* p, unsigned v) {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

}  // namespace

bool ParseTimestamp(std::string_view s, int64_t* out_us) {
  // Trim surrounding blanks.
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.size() < 10) return false;
  const char* p = s.data();
  int y, mo, d;
  if (!Digits(p, 4, &y) || p[4] != '-' || !Digits(p + 5, 2, &mo) || p[7] != '-' ||
      !Digits(p + 8, 2, &d))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || static_cast<unsigned>(d) > DaysInMonth(y, mo)) return false;
  int64_t us = DaysFromCivil(y, mo, d) * kMicrosPerDay;
  size_t i = 10;
  if (i < s.size()) {
    if ((p[i] != ' ' && p[i] != 'T') || s.size() < i + 6) return false;
    ++i;
    int hh, mm, ss = 0;
    if (!Digits(p + i, 2, &hh) || p[i + 2] != ':' || !Digits(p + i + 3, 2, &mm)) return false;
    i += 5;
    if (i < s.size()) {
      if (p[i] != ':' || s.size() < i + 3 || !Digits(p + i + 1, 2, &ss)) return false;
      i += 3;
    }
    if (hh > 23 || mm > 59 || ss > 59) return false;
    us += hh * kMicrosPerHour + mm * kMicrosPerMinute + ss * kMicrosPerSecond;
    if (i < s.size()) {
      if (p[i] != '.') return false;
      ++i;
      int64_t frac = 0;
      int n = 0;
      for (; i < s.size(); ++i, ++n) {
        unsigned c = static_cast<unsigned char>(p[i]) - '0';
        if (c > 9) return false;
        if (n < 6) frac = frac * 10 + c;
      }
      if (n == 0) return false;
      for (int k = n; k < 6; ++k) frac *= 10;
      us += frac;
    }
  }
  *out_us = us;
  return true;
}

size_t FormatTimestamp(int64_t us, char* buf) {
  int64_t days = us >= 0 ? us / kMicrosPerDay : -((-us + kMicrosPerDay - 1) / kMicrosPerDay);
  int64_t rem = us - days * kMicrosPerDay;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  size_t n = 0;
  if (y >= 0 && y <= 9999) {
    buf[0] = static_cast<char>('0' + y / 1000);
    buf[1] = static_cast<char>('0' + y / 100 % 10);
    buf[2] = static_cast<char>('0' + y / 10 % 10);
    buf[3] = static_cast<char>('0' + y % 10);
    n = 4;
  } else {
    auto r = std::to_chars(buf, buf + 12, y);
    n = static_cast<size_t>(r.ptr - buf);
  }
  char* p = buf + n;
  p[0] = '-';
  Put2(p + 1, m);
  p[3] = '-';
  Put2(p + 4, d);
  p[6] = ' ';
  unsigned secs = static_cast<unsigned>(rem / kMicrosPerSecond);
  unsigned frac = static_cast<unsigned>(rem % kMicrosPerSecond);
  Put2(p + 7, secs / 3600);
  p[9] = ':';
  Put2(p + 10, secs / 60 % 60);
  p[12] = ':';
  Put2(p + 13, secs % 60);
  n += 15;
  if (frac != 0) {
    char* f = buf + n;
    f[0] = '.';
    int digits = 6;
    while (frac % 10 == 0) {
      frac /= 10;
      --digits;
    }
    for (int k = digits; k >= 1; --k) {
      f[k] = static_cast<char>('0' + frac % 10);
      frac /= 10;
    }
    n += 1 + static_cast<size_t>(digits);
  }
  return n;
}

bool AddInterval(int64_t ts_us, const Interval& iv, int64_t* out_us) {
  int64_t t = ts_us;
  if (iv.months != 0) {
    int64_t days = t >= 0 ? t / kMicrosPerDay : -((-t + kMicrosPerDay - 1) / kMicrosPerDay);
    int64_t tod = t - days * kMicrosPerDay;
    int64_t y;
    unsigned m, d;
    CivilFromDays(days, &y, &m, &d);
    int64_t total = y * 12 + (m - 1) + iv.months;
    int64_t ny = total >= 0 ? total / 12 : -((-total + 11) / 12);
    unsigned nm = static_cast<unsigned>(total - ny * 12) + 1;
    unsigned nd = d > DaysInMonth(ny, nm) ? DaysInMonth(ny, nm) : d;
    t = DaysFromCivil(ny, nm, nd) * kMicrosPerDay + tod;
  }
  int64_t delta;
  if (__builtin_mul_overflow(int64_t{iv.days}, kMicrosPerDay, &delta)) return false;
  if (__builtin_add_overflow(delta, iv.micros, &delta)) return false;
  return !__builtin_add_overflow(t, delta, out_us);
}

namespace {

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

// Adds `amount` of `unit` to `iv`. Fractions of months/days spill into smaller units.
bool AddUnit(double amount, std::string_view unit, Interval* iv) {
  // Bound every component so the conversions below cannot overflow (±1e6 years is far beyond
  // any meaningful interval; PostgreSQL's own limit is ±178 million years in months).
  if (!(std::fabs(amount) <= 1e12)) return false;
  auto any = [&](std::initializer_list<std::string_view> names) {
    for (auto n : names)
      if (IEquals(unit, n)) return true;
    return false;
  };
  auto add_micros = [&](double us) {
    double r = std::nearbyint(us);
    if (!(std::fabs(r) < 9.2e18)) return false;
    return !__builtin_add_overflow(iv->micros, static_cast<int64_t>(r), &iv->micros);
  };
  if (any({"microsecond", "microseconds", "us", "usec", "usecs"})) return add_micros(amount);
  if (any({"millisecond", "milliseconds", "ms", "msec", "msecs"})) return add_micros(amount * 1e3);
  if (any({"second", "seconds", "s", "sec", "secs"})) return add_micros(amount * 1e6);
  if (any({"minute", "minutes", "m", "min", "mins"})) return add_micros(amount * 6e7);
  if (any({"hour", "hours", "h", "hr", "hrs"})) return add_micros(amount * 3.6e9);
  if (any({"day", "days", "d"})) {
    double whole = std::trunc(amount);
    if (std::fabs(whole + iv->days) > 2e9) return false;
    iv->days += static_cast<int32_t>(whole);
    return add_micros((amount - whole) * 8.64e10);
  }
  if (any({"week", "weeks", "w"})) return AddUnit(amount * 7, "day", iv);
  if (any({"month", "months", "mon", "mons"})) {
    double whole = std::trunc(amount);
    if (std::fabs(whole + iv->months) > 2e9) return false;
    iv->months += static_cast<int32_t>(whole);
    return AddUnit((amount - whole) * 30, "day", iv);
  }
  if (any({"year", "years", "y", "yr", "yrs"})) return AddUnit(amount * 12, "month", iv);
  return false;
}

// "HH:MM[:SS[.ffffff]]", optionally signed.
bool ParseClock(std::string_view s, Interval* iv) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  int64_t parts[3] = {0, 0, 0};
  int n = 0;
  double frac = 0;
  size_t i = 0;
  while (i <= s.size() && n < 3) {
    size_t j = i;
    int64_t v = 0;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') {
      if (j - i >= 9) return false;  // bounded so the arithmetic below cannot overflow
      v = v * 10 + (s[j++] - '0');
    }
    if (j == i) return false;
    parts[n++] = v;
    if (j == s.size()) {
      i = j;
      break;
    }
    if (s[j] == ':') {
      i = j + 1;
      continue;
    }
    if (s[j] == '.' && n == 3) {
      double f = 0, scale = 0.1;
      for (size_t k = j + 1; k < s.size(); ++k, scale /= 10) {
        if (s[k] < '0' || s[k] > '9') return false;
        f += (s[k] - '0') * scale;
      }
      frac = f;
      i = s.size();
      break;
    }
    return false;
  }
  if (n < 2 || i != s.size()) return false;
  int64_t us = parts[0] * kMicrosPerHour + parts[1] * kMicrosPerMinute +
               parts[2] * kMicrosPerSecond + static_cast<int64_t>(std::nearbyint(frac * 1e6));
  return !__builtin_add_overflow(iv->micros, neg ? -us : us, &iv->micros);
}

}  // namespace

bool ParseInterval(std::string_view s, std::string_view unit, Interval* out) {
  Interval iv;
  s = TrimSpaces(s);
  if (s.empty()) return false;
  if (!unit.empty()) {
    // INTERVAL '1' HOUR: the text is a number (or a clock for ... TO SECOND forms).
    double v;
    auto r = std::from_chars(s.data(), s.data() + s.size(), v);
    if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return false;
    if (!AddUnit(v, unit, &iv)) return false;
    *out = iv;
    return true;
  }
  bool any = false;
  while (!s.empty()) {
    s = TrimSpaces(s);
    if (s.empty()) break;
    size_t sp = s.find(' ');
    std::string_view tok = s.substr(0, sp);
    if (tok.find(':') != std::string_view::npos) {
      if (!ParseClock(tok, &iv)) return false;
      any = true;
      s = sp == std::string_view::npos ? std::string_view() : s.substr(sp);
      continue;
    }
    // number possibly glued to unit: "5min", "10s"
    size_t k = 0;
    if (k < tok.size() && (tok[k] == '-' || tok[k] == '+')) ++k;
    while (k < tok.size() && ((tok[k] >= '0' && tok[k] <= '9') || tok[k] == '.')) ++k;
    if (k == 0) return false;
    double v;
    const char* numstart = tok.data() + (tok[0] == '+' ? 1 : 0);
    auto r = std::from_chars(numstart, tok.data() + k, v);
    if (r.ec != std::errc() || r.ptr != tok.data() + k) return false;
    std::string_view u = tok.substr(k);
    std::string_view rest = sp == std::string_view::npos ? std::string_view() : s.substr(sp);
    if (u.empty()) {
      rest = TrimSpaces(rest);
      if (rest.empty()) {
        u = "second";  // PostgreSQL reads a bare number as seconds
      } else {
        size_t sp2 = rest.find(' ');
        u = rest.substr(0, sp2);
        rest = sp2 == std::string_view::npos ? std::string_view() : rest.substr(sp2);
      }
    }
    if (!AddUnit(v, u, &iv)) return false;
    any = true;
    s = rest;
  }
  if (!any) return false;
  *out = iv;
  return true;
}

size_t FormatInterval(const Interval& iv, char* buf) {
  char* p = buf;
  auto put = [&](int64_t v, const char* singular, const char* plural) {
    if (p != buf) *p++ = ' ';
    p = std::to_chars(p, p + 24, v).ptr;
    *p++ = ' ';
    const char* u = v == 1 ? singular : plural;  // PostgreSQL: "1 day", "-1 days"
    size_t l = std::strlen(u);
    std::memcpy(p, u, l);
    p += l;
  };
  int32_t years = iv.months / 12, mons = iv.months % 12;
  if (years) put(years, "year", "years");
  if (mons) put(mons, "mon", "mons");
  if (iv.days) put(iv.days, "day", "days");
  if (iv.micros != 0 || p == buf) {
    if (p != buf) *p++ = ' ';
    uint64_t us = iv.micros < 0 ? static_cast<uint64_t>(-(iv.micros + 1)) + 1
                                : static_cast<uint64_t>(iv.micros);
    if (iv.micros < 0) *p++ = '-';
    uint64_t secs = us / 1'000'000, frac = us % 1'000'000;
    uint64_t hours = secs / 3600;
    if (hours < 10) *p++ = '0';
    p = std::to_chars(p, p + 24, hours).ptr;
    *p++ = ':';
    Put2(p, static_cast<unsigned>(secs / 60 % 60));
    p[2] = ':';
    Put2(p + 3, static_cast<unsigned>(secs % 60));
    p += 5;
    if (frac) {
      *p++ = '.';
      int digits = 6;
      while (frac % 10 == 0) {
        frac /= 10;
        --digits;
      }
      for (int k = digits - 1; k >= 0; --k) {
        p[k] = static_cast<char>('0' + frac % 10);
        frac /= 10;
      }
      p += digits;
    }
  }
  return static_cast<size_t>(p - buf);
}

bool ParseDecimal(std::string_view s, int precision, int scale, int64_t* out) {
  s = TrimSpaces(s);
  if (s.empty()) return false;
  bool neg = false;
  size_t i = 0;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    i = 1;
  }
  unsigned __int128 v = 0;
  int int_digits = 0, frac_digits = 0;
  bool round_up = false, seen_digit = false;
  for (; i < s.size() && s[i] != '.'; ++i) {
    unsigned c = static_cast<unsigned char>(s[i]) - '0';
    if (c > 9) return false;
    v = v * 10 + c;
    seen_digit = true;
    if (v != 0) ++int_digits;
    if (int_digits > 38) return false;
  }
  if (i < s.size()) {
    ++i;  // '.'
    for (; i < s.size(); ++i) {
      unsigned c = static_cast<unsigned char>(s[i]) - '0';
      if (c > 9) return false;
      seen_digit = true;
      if (frac_digits < scale) {
        v = v * 10 + c;
        ++frac_digits;
      } else if (frac_digits == scale) {
        round_up = c >= 5;
        ++frac_digits;
      }
    }
  }
  if (!seen_digit) return false;
  for (int k = frac_digits; k < scale; ++k) v *= 10;
  if (round_up) v += 1;
  if (int_digits > precision - scale) return false;
  if (v > static_cast<unsigned __int128>(INT64_MAX)) return false;
  *out = neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
  return true;
}

size_t FormatDecimal(int64_t value, int scale, char* buf) {
  char* p = buf;
  uint64_t u = value < 0 ? static_cast<uint64_t>(-(value + 1)) + 1 : static_cast<uint64_t>(value);
  if (value < 0) *p++ = '-';
  if (scale == 0) return static_cast<size_t>(std::to_chars(p, p + 21, u).ptr - buf);
  uint64_t pow = static_cast<uint64_t>(PowerOfTen(scale));
  p = std::to_chars(p, p + 21, u / pow).ptr;
  *p++ = '.';
  uint64_t frac = u % pow;
  for (int k = scale - 1; k >= 0; --k) {
    p[k] = static_cast<char>('0' + frac % 10);
    frac /= 10;
  }
  return static_cast<size_t>(p + scale - buf);
}

size_t FormatDouble(double v, char* buf) {
  if (std::isnan(v)) {
    std::memcpy(buf, "NaN", 3);
    return 3;
  }
  if (std::isinf(v)) {
    if (v > 0) {
      std::memcpy(buf, "Infinity", 8);
      return 8;
    }
    std::memcpy(buf, "-Infinity", 9);
    return 9;
  }
  auto r = std::to_chars(buf, buf + kDoubleTextMax, v);
  return static_cast<size_t>(r.ptr - buf);
}

}  // namespace weir
