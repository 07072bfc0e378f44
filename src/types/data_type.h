// SQL data types and their physical (in-memory) representation.
//
// | SQL type        | TypeId      | physical value            | notes                              |
// |-----------------|-------------|---------------------------|------------------------------------|
// | BOOLEAN         | kBoolean    | uint8_t (0 / 1)           | one byte a value (not bit-packed)  |
// | INT             | kInt32      | int32_t                   |                                    |
// | BIGINT          | kInt64      | int64_t                   |                                    |
// | DOUBLE          | kDouble     | double                    | IEEE 754 binary64                  |
// | DECIMAL(p,s)    | kDecimal    | int64_t, value * 10^s     | exact, p <= 18                     |
// | VARCHAR         | kVarchar    | int32_t offsets + bytes   | Arrow Utf8 layout, UTF-8           |
// | TIMESTAMP       | kTimestamp  | int64_t µs since epoch    | no time zone                       |
// | INTERVAL        | kInterval   | Interval {months,days,µs} | 16 bytes                           |
//
// Types are resolved at plan time; kernels are chosen per type once, never per row.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace weir {

enum class TypeId : uint8_t {
  kNull = 0,  // type of an untyped NULL literal; never stored in a column
  kBoolean,
  kInt32,
  kInt64,
  kDouble,
  kDecimal,
  kVarchar,
  kTimestamp,
  kInterval,
};

/// A calendar interval: months and days are kept apart from micros, as in PostgreSQL, because
/// their length in micros depends on the timestamp they are added to.
struct Interval {
  int32_t months = 0;
  int32_t days = 0;
  int64_t micros = 0;
  bool operator==(const Interval&) const = default;
  /// Nominal length in µs (a month counted as 30 days), for ordering and window sizes.
  int64_t NominalMicros() const {
    return micros + (int64_t{days} + int64_t{months} * 30) * 86'400'000'000LL;
  }
};
static_assert(sizeof(Interval) == 16);

inline constexpr int kDecimalPrecisionMax = 18;

struct DataType {
  TypeId id = TypeId::kNull;
  uint8_t precision = 0;  // DECIMAL only
  uint8_t scale = 0;      // DECIMAL only

  constexpr DataType() = default;
  constexpr explicit DataType(TypeId i, uint8_t p = 0, uint8_t s = 0)
      : id(i), precision(p), scale(s) {}

  static constexpr DataType Null() { return DataType(TypeId::kNull); }
  static constexpr DataType Boolean() { return DataType(TypeId::kBoolean); }
  static constexpr DataType Int32() { return DataType(TypeId::kInt32); }
  static constexpr DataType Int64() { return DataType(TypeId::kInt64); }
  static constexpr DataType Double() { return DataType(TypeId::kDouble); }
  static constexpr DataType Decimal(uint8_t p, uint8_t s) { return DataType(TypeId::kDecimal, p, s); }
  static constexpr DataType Varchar() { return DataType(TypeId::kVarchar); }
  static constexpr DataType Timestamp() { return DataType(TypeId::kTimestamp); }
  static constexpr DataType IntervalType() { return DataType(TypeId::kInterval); }

  bool operator==(const DataType&) const = default;

  bool is_integer() const { return id == TypeId::kInt32 || id == TypeId::kInt64; }
  bool is_numeric() const { return is_integer() || id == TypeId::kDouble || id == TypeId::kDecimal; }
  bool is_fixed_width() const { return id != TypeId::kVarchar && id != TypeId::kNull; }
  /// Bytes per value in the values buffer (offset width, 4, for VARCHAR; 0 for NULL).
  int byte_width() const;
  /// SQL spelling: "BIGINT", "DECIMAL(10,2)", ...
  std::string ToString() const;
};

/// Parses a SQL type name as written in DDL or CAST: INT, INTEGER, INT4, BIGINT, INT8, DOUBLE,
/// DOUBLE PRECISION, FLOAT8, FLOAT, REAL, DECIMAL/NUMERIC[(p[,s])], VARCHAR[(n)], TEXT, STRING,
/// TIMESTAMP, BOOLEAN/BOOL, INTERVAL (case-insensitive). `args` are the type modifiers.
Result<DataType> DataTypeFromName(std::string_view name, const int* args, int nargs);

/// 10^n for 0 <= n <= 18.
int64_t PowerOfTen(int n);

}  // namespace weir
