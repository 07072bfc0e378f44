// Timestamp formatting and the processing-time clock:
//
//   to_char(ts TIMESTAMP, fmt VARCHAR)     -> VARCHAR  PostgreSQL template patterns
//   date_format(ts TIMESTAMP, fmt VARCHAR) -> VARCHAR  Flink's, Java SimpleDateFormat letters
//   proctime()                             -> TIMESTAMP the wall clock (Env::NowMicros), read
//                                             once per batch: every row of a batch gets the same
//                                             value (not deterministic: never constant-folded)
//
// The format must be a constant: it is compiled at bind time into a list of tokens (a field
// with its width / case style, or a literal run), so the row loop only splits the timestamp
// into civil fields (cached per day: event streams are mostly ordered) and writes digits
// straight into the output buffer. No allocation, parsing or virtual call per row.
//
// to_char patterns (PostgreSQL 15, "Template Patterns for Date/Time Formatting"; numeric ones
// in upper or lower case): YYYY YYY YY Y, MM, DD, DDD, D (1 = Sunday), ID (1 = Monday), Q,
// HH HH12 (01-12) HH24, MI, SS, MS, US, SSSS / SSSSS (seconds past midnight), AM PM am pm,
// MONTH Month month / DAY Day day (blank-padded to 9), MON Mon mon / DY Dy dy; the FM prefix
// suppresses padding of the next pattern; "quoted text" is copied (\" is a quote); any other
// character is copied. Note that as in PostgreSQL, HH is the 12-hour clock and mm is the
// month: Flink's 'HH:mm' is to_char's 'HH24:MI'.
// date_format letters (java.text.SimpleDateFormat): y (yy: 2 digits, else the year padded to
// the count), M (1-2: number, MMM: Jul, MMMM: July), d, D (day of year), H (0-23), h (1-12),
// m, s, S (milliseconds), a (AM/PM), E (EEE: Wed, EEEE: Wednesday), u (1 = Monday); a letter
// repeated n times pads a number to n digits; 'quoted text' is copied ('' is a quote); other
// ASCII letters are a bind error, other characters are copied.
#include <array>

#include "common/env.h"
#include "expr/functions/kernel.h"
#include "expr/functions/registry.h"
#include "types/datetime.h"

namespace weir::fn {
namespace {

inline int64_t FloorDiv(int64_t a, int64_t b) {  // b > 0
  const int64_t q = a / b;
  return q - ((a % b != 0) & (a < 0));
}

enum class F : uint8_t {
  kLiteral,
  kYear,       // width = minimum digits (4 for YYYY); `mod` keeps the last digits (YYY, YY, Y)
  kMonth,
  kDay,
  kDayOfYear,
  kDowSunday1,  // 1..7, Sunday = 1 (to_char D)
  kDowMonday1,  // 1..7, Monday = 1 (to_char ID, Java u)
  kQuarter,
  kHour24,
  kHour12,
  kMinute,
  kSecond,
  kMilli,
  kMicro,
  kSecondOfDay,
  kMeridiem,  // AM / PM (case from `style`)
  kMonthName,
  kMonthAbbrev,
  kDayName,
  kDayAbbrev,
};

enum class Style : uint8_t { kUpper, kCapital, kLower };

struct Token {
  F field = F::kLiteral;
  uint8_t width = 0;   // minimum digits (numbers) or blank-padded length (names); 0 = none
  Style style = Style::kUpper;
  int32_t mod = 0;     // years: keep the last digits (10, 100, 1000), 0 = all
  uint32_t lit_begin = 0, lit_len = 0;  // literal text in TimeFormat::literals
};

/// A compiled format: the per-call-site state of to_char / date_format.
struct TimeFormat {
  std::vector<Token> tokens;
  std::string literals;
  size_t bytes_max = 0;  // longest possible output row
};

constexpr std::array<const char*, 12> kMonthNames = {"January", "February", "March",     "April",
                                                     "May",     "June",     "July",      "August",
                                                     "September", "October", "November", "December"};
constexpr std::array<const char*, 7> kDayNames = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                  "Thursday", "Friday", "Saturday"};

void AddLiteral(TimeFormat* f, std::string_view text) {
  if (text.empty()) return;
  if (!f->tokens.empty() && f->tokens.back().field == F::kLiteral &&
      f->tokens.back().lit_begin + f->tokens.back().lit_len == f->literals.size()) {
    f->tokens.back().lit_len += static_cast<uint32_t>(text.size());
  } else {
    Token t;
    t.lit_begin = static_cast<uint32_t>(f->literals.size());
    t.lit_len = static_cast<uint32_t>(text.size());
    f->tokens.push_back(t);
  }
  f->literals.append(text);
}

size_t TokenBytesMax(const Token& t) {
  switch (t.field) {
    case F::kLiteral: return t.lit_len;
    case F::kYear: return t.width > 7 ? t.width : 7;  // sign + 6 digits (year 294276)
    case F::kMonthName:
    case F::kDayName: return t.width > 9 ? t.width : 9;
    case F::kMonthAbbrev:
    case F::kDayAbbrev:
    case F::kMeridiem: return 3;
    default: return t.width > 6 ? t.width : 6;  // SSSSS (5) and US (6) are the longest numbers
  }
}

void Finish(TimeFormat* f) {
  f->bytes_max = 0;
  for (const Token& t : f->tokens) f->bytes_max += TokenBytesMax(t);
}

Style StyleOf(std::string_view word) {
  const bool first_upper = word[0] >= 'A' && word[0] <= 'Z';
  const bool second_upper = word.size() > 1 && word[1] >= 'A' && word[1] <= 'Z';
  return first_upper ? (second_upper ? Style::kUpper : Style::kCapital) : Style::kLower;
}

bool StartsWithNoCase(std::string_view s, size_t pos, std::string_view word) {
  if (s.size() - pos < word.size()) return false;
  for (size_t k = 0; k < word.size(); ++k) {
    char c = s[pos + k];
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (c != word[k]) return false;
  }
  return true;
}

/// PostgreSQL template patterns (see the file comment).
TimeFormat CompilePostgres(std::string_view s) {
  struct Pattern {
    const char* word;  // upper case
    F field;
    uint8_t width;
    int32_t mod;
  };
  // Longest first where one is a prefix of another.
  static constexpr Pattern kPatterns[] = {
      {"HH24", F::kHour24, 2, 0},   {"HH12", F::kHour12, 2, 0},     {"HH", F::kHour12, 2, 0},
      {"MI", F::kMinute, 2, 0},     {"SSSSS", F::kSecondOfDay, 0, 0}, {"SSSS", F::kSecondOfDay, 0, 0},
      {"SS", F::kSecond, 2, 0},     {"MS", F::kMilli, 3, 0},        {"US", F::kMicro, 6, 0},
      {"YYYY", F::kYear, 4, 0},     {"YYY", F::kYear, 3, 1000},     {"YY", F::kYear, 2, 100},
      {"Y", F::kYear, 1, 10},       {"MONTH", F::kMonthName, 9, 0}, {"MON", F::kMonthAbbrev, 0, 0},
      {"MM", F::kMonth, 2, 0},      {"DDD", F::kDayOfYear, 3, 0},   {"DAY", F::kDayName, 9, 0},
      {"DY", F::kDayAbbrev, 0, 0},  {"DD", F::kDay, 2, 0},          {"D", F::kDowSunday1, 0, 0},
      {"ID", F::kDowMonday1, 0, 0}, {"Q", F::kQuarter, 0, 0},       {"AM", F::kMeridiem, 0, 0},
      {"PM", F::kMeridiem, 0, 0},
  };
  TimeFormat f;
  size_t i = 0;
  bool fill_mode = false;
  while (i < s.size()) {
    if (s[i] == '"') {  // quoted literal
      std::string lit;
      ++i;
      while (i < s.size() && s[i] != '"') {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        lit.push_back(s[i++]);
      }
      ++i;  // closing quote (if any)
      AddLiteral(&f, lit);
      continue;
    }
    if (StartsWithNoCase(s, i, "FM")) {
      fill_mode = true;
      i += 2;
      continue;
    }
    const Pattern* hit = nullptr;
    for (const Pattern& p : kPatterns) {
      if (StartsWithNoCase(s, i, p.word)) {
        hit = &p;
        break;
      }
    }
    if (hit == nullptr) {
      AddLiteral(&f, s.substr(i, 1));
      ++i;
      fill_mode = false;
      continue;
    }
    const std::string_view word = s.substr(i, std::char_traits<char>::length(hit->word));
    Token t;
    t.field = hit->field;
    t.width = fill_mode ? 0 : hit->width;
    t.mod = hit->mod;
    t.style = StyleOf(word);
    f.tokens.push_back(t);
    i += word.size();
    fill_mode = false;
  }
  Finish(&f);
  return f;
}

/// Java SimpleDateFormat letters (see the file comment). Sets *bad to the offending letter.
TimeFormat CompileJava(std::string_view s, char* bad) {
  TimeFormat f;
  *bad = 0;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == '\'') {
      if (i + 1 < s.size() && s[i + 1] == '\'') {  // '' is a quote
        AddLiteral(&f, "'");
        i += 2;
        continue;
      }
      std::string lit;
      ++i;
      while (i < s.size()) {
        if (s[i] == '\'') {
          if (i + 1 < s.size() && s[i + 1] == '\'') {
            lit.push_back('\'');
            i += 2;
            continue;
          }
          break;
        }
        lit.push_back(s[i++]);
      }
      ++i;
      AddLiteral(&f, lit);
      continue;
    }
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!letter) {
      AddLiteral(&f, s.substr(i, 1));
      ++i;
      continue;
    }
    size_t n = 1;
    while (i + n < s.size() && s[i + n] == c) ++n;
    i += n;
    const uint8_t width = static_cast<uint8_t>(n > 9 ? 9 : n);
    Token t;
    t.width = width;
    t.style = Style::kCapital;
    switch (c) {
      case 'y':
        t.field = F::kYear;
        if (n == 2) t.mod = 100;
        break;
      case 'M':
        t.field = n >= 4 ? F::kMonthName : n == 3 ? F::kMonthAbbrev : F::kMonth;
        if (n >= 3) t.width = 0;
        break;
      case 'd': t.field = F::kDay; break;
      case 'D': t.field = F::kDayOfYear; break;
      case 'H': t.field = F::kHour24; break;
      case 'h': t.field = F::kHour12; break;
      case 'm': t.field = F::kMinute; break;
      case 's': t.field = F::kSecond; break;
      case 'S': t.field = F::kMilli; break;
      case 'u': t.field = F::kDowMonday1; break;
      case 'a':
        t.field = F::kMeridiem;
        t.style = Style::kUpper;
        t.width = 0;
        break;
      case 'E':
        t.field = n >= 4 ? F::kDayName : F::kDayAbbrev;
        t.width = 0;
        break;
      default:
        *bad = c;
        return f;
    }
    f.tokens.push_back(t);
  }
  Finish(&f);
  return f;
}

// ---- the kernel ---------------------------------------------------------------------------

/// Writes `v` (>= 0) with at least `width` digits; returns the bytes written.
inline size_t WriteNumber(char* p, int64_t v, int width) {
  char tmp[24];
  int n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v > 0);
  while (n < width) tmp[n++] = '0';
  for (int k = 0; k < n; ++k) p[k] = tmp[n - 1 - k];
  return static_cast<size_t>(n);
}

inline size_t WriteName(char* p, const char* name, size_t take, Style style, size_t pad_to) {
  size_t n = 0;
  for (; name[n] != 0 && n < take; ++n) {
    char c = name[n];
    if (style == Style::kUpper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (style == Style::kLower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    p[n] = c;
  }
  for (; n < pad_to; ++n) p[n] = ' ';
  return n;
}

struct FormatOp {
  explicit FormatOp(const void* state) : fmt(static_cast<const TimeFormat*>(state)) {}
  const TimeFormat* fmt;
  // Civil fields of the last day formatted (event streams are mostly ordered).
  mutable int64_t day_ = INT64_MIN;
  mutable int64_t year_ = 0, doy_ = 0, dow_ = 0;  // dow_: 0 = Sunday
  mutable unsigned month_ = 0, mday_ = 0;

  static int64_t BytesHint(const ArgReader*, const Column* const*, int64_t rows) {
    return rows * 20;
  }
  bool operator()(const ArgReader* a, int64_t i, VarcharWriter* w) const {
    const int64_t us = a[0].Get<int64_t>(i);
    const int64_t day = FloorDiv(us, kMicrosPerDay);
    if (day != day_) {
      day_ = day;
      CivilFromDays(day, &year_, &month_, &mday_);
      doy_ = day - DaysFromCivil(year_, 1, 1) + 1;
      dow_ = ((day + 4) % 7 + 7) % 7;  // 1970-01-01 was a Thursday
    }
    const int64_t in_day = us - day * kMicrosPerDay;
    const int64_t secs = in_day / kMicrosPerSecond;
    const int64_t hour = secs / 3600;
    char* const start = w->Reserve(fmt->bytes_max);
    char* p = start;
    for (const Token& t : fmt->tokens) {
      switch (t.field) {
        case F::kLiteral:
          CopyBytes(p, fmt->literals.data() + t.lit_begin, t.lit_len);
          p += t.lit_len;
          break;
        case F::kYear: {
          int64_t y = year_ > 0 ? year_ : 1 - year_;  // years before 1 AD print as BC magnitudes
          if (t.mod != 0) y %= t.mod;
          if (year_ <= 0 && t.mod == 0) *p++ = '-';
          p += WriteNumber(p, y, t.width);
          break;
        }
        case F::kMonth: p += WriteNumber(p, month_, t.width); break;
        case F::kDay: p += WriteNumber(p, mday_, t.width); break;
        case F::kDayOfYear: p += WriteNumber(p, doy_, t.width); break;
        case F::kDowSunday1: p += WriteNumber(p, dow_ + 1, t.width); break;
        case F::kDowMonday1: p += WriteNumber(p, dow_ == 0 ? 7 : dow_, t.width); break;
        case F::kQuarter: p += WriteNumber(p, (month_ - 1) / 3 + 1, t.width); break;
        case F::kHour24: p += WriteNumber(p, hour, t.width); break;
        case F::kHour12: p += WriteNumber(p, hour % 12 == 0 ? 12 : hour % 12, t.width); break;
        case F::kMinute: p += WriteNumber(p, secs / 60 % 60, t.width); break;
        case F::kSecond: p += WriteNumber(p, secs % 60, t.width); break;
        case F::kMilli: p += WriteNumber(p, in_day / 1000 % 1000, t.width); break;
        case F::kMicro: p += WriteNumber(p, in_day % 1'000'000, t.width); break;
        case F::kSecondOfDay: p += WriteNumber(p, secs, t.width); break;
        case F::kMeridiem: p += WriteName(p, hour < 12 ? "AM" : "PM", 2, t.style, 0); break;
        case F::kMonthName: p += WriteName(p, kMonthNames[month_ - 1], 9, t.style, t.width); break;
        case F::kMonthAbbrev: p += WriteName(p, kMonthNames[month_ - 1], 3, t.style, 0); break;
        case F::kDayName: p += WriteName(p, kDayNames[static_cast<size_t>(dow_)], 9, t.style, t.width); break;
        case F::kDayAbbrev: p += WriteName(p, kDayNames[static_cast<size_t>(dow_)], 3, t.style, 0); break;
      }
    }
    w->Commit(static_cast<size_t>(p - start));
    return true;
  }
  Status Error(const ArgReader*, int64_t) const { return Status::OK(); }
};

template <bool kJava>
Result<FunctionBinding> ResolveFormat(std::string_view name, const Args& args) {
  if (args.size() != 2 || !ArgMatches(args[1], DataType::Varchar())) return NoMatch();
  if (!(args[0].type.id == TypeId::kTimestamp || IsUntyped(args[0]))) return NoMatch();
  const std::string* text = ConstantText(args[1]);
  if (text == nullptr) return BindError("{}: the format must be a constant string", name);
  auto f = std::make_shared<TimeFormat>();
  if constexpr (kJava) {
    char bad = 0;
    *f = CompileJava(*text, &bad);
    if (bad != 0) return BindError("date_format: illegal pattern character '{}' in \"{}\"", bad, *text);
  } else {
    *f = CompilePostgres(*text);
  }
  return MakeBinding(name, DataType::Varchar(), {DataType::Timestamp(), DataType::Varchar()},
                     StringKernel<FormatOp, 2>, std::move(f));
}

// ---- proctime -----------------------------------------------------------------------------

Status ProctimeKernel(const KernelContext& ctx, const Column* const*, Column* out) {
  out->ResetEmpty();
  out->Append<int64_t>(Env::Default()->NowMicros());
  out->MakeConstant(ctx.rows);
  return Status::OK();
}

Result<FunctionBinding> ResolveProctime(std::string_view name, const Args& args) {
  if (!args.empty()) return NoMatch();
  FunctionBinding b = MakeBinding(name, DataType::Timestamp(), {}, ProctimeKernel);
  b.deterministic = false;
  return b;
}

constexpr FunctionDef kFunctions[] = {
    {"to_char", ResolveFormat<false>},
    {"date_format", ResolveFormat<true>},
    {"proctime", ResolveProctime},
};

}  // namespace

std::span<const FunctionDef> DatetimeFormatFunctions() { return kFunctions; }

}  // namespace weir::fn
