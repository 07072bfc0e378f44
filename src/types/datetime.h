// Text <-> value conversions for TIMESTAMP, INTERVAL and DECIMAL, shared by decoders, encoders,
// CAST and SQL literals. All functions are pure, allocation-free and thread-safe.
//
// Timestamp text: 'YYYY-MM-DD[ |T]HH:MM[:SS[.ffffff]]' or 'YYYY-MM-DD' (proleptic Gregorian,
// no time zone); printed as 'YYYY-MM-DD HH:MM:SS' plus '.ffffff' trimmed of trailing zeros
// only when the fraction is non-zero.
// Day arithmetic uses the days-from-civil algorithm described by H. Hinnant,
// "chrono-Compatible Low-Level Date Algorithms".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "types/data_type.h"

namespace weir {

inline constexpr int64_t kMicrosPerSecond = 1'000'000;
inline constexpr int64_t kMicrosPerMinute = 60 * kMicrosPerSecond;
inline constexpr int64_t kMicrosPerHour = 60 * kMicrosPerMinute;
inline constexpr int64_t kMicrosPerDay = 24 * kMicrosPerHour;

/// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
/// Inverse of DaysFromCivil.
void CivilFromDays(int64_t days, int64_t* y, unsigned* m, unsigned* d);

/// Parses timestamp text into µs since epoch. Returns false on any malformed input.
bool ParseTimestamp(std::string_view s, int64_t* out_us);
/// Buffer size sufficient for FormatTimestamp.
inline constexpr size_t kTimestampTextMax = 32;
/// Writes the canonical text of `us` into `buf` (>= kTimestampTextMax bytes); returns length.
size_t FormatTimestamp(int64_t us, char* buf);

/// Adds an interval to a timestamp (months with end-of-month clamping, as PostgreSQL).
/// Returns false on overflow.
bool AddInterval(int64_t ts_us, const Interval& iv, int64_t* out_us);

/// Parses interval text: '90 minutes', '1 hour 30 minutes', '1 day', '2 seconds', '1.5 hours',
/// '01:30:00', and a bare number when `unit` (HOUR, MINUTE, ...) is given as for
/// INTERVAL '1' HOUR. Units are case-insensitive and may be plural or abbreviated (s, ms, us,
/// min, h, d, mon, y).
bool ParseInterval(std::string_view s, std::string_view unit, Interval* out);
/// Writes PostgreSQL-style text ("1 day 02:00:00", "3 mons", "00:05:00").
size_t FormatInterval(const Interval& iv, char* buf);
inline constexpr size_t kIntervalTextMax = 64;

/// Parses a decimal literal ("-12.345", "7", "1e3" is rejected) to an int64 scaled by 10^scale,
/// rounding half away from zero. Returns false on malformed text or if it exceeds `precision`.
bool ParseDecimal(std::string_view s, int precision, int scale, int64_t* out);
inline constexpr size_t kDecimalTextMax = 24;
/// Writes `value / 10^scale` with exactly `scale` fractional digits.
size_t FormatDecimal(int64_t value, int scale, char* buf);

/// Shortest text that round-trips `v` (std::to_chars); "NaN", "Infinity", "-Infinity".
inline constexpr size_t kDoubleTextMax = 32;
size_t FormatDouble(double v, char* buf);

}  // namespace weir
