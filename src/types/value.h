// Value: one typed scalar (a SQL literal, a folded constant, an option value).
// Used at plan time and in tests, never per row on the hot path.
#pragma once

#include <cstdint>
#include <string>

#include "types/data_type.h"

namespace weir {

struct Value {
  DataType type;           // kNull type for an untyped NULL
  bool is_null = true;
  bool b = false;          // kBoolean
  int64_t i = 0;           // kInt32, kInt64, kDecimal (scaled), kTimestamp (µs)
  double d = 0;            // kDouble
  Interval iv;             // kInterval
  std::string s;           // kVarchar

  static Value Null(DataType t = DataType::Null()) { Value v; v.type = t; return v; }
  static Value Boolean(bool x) { Value v; v.type = DataType::Boolean(); v.is_null = false; v.b = x; return v; }
  static Value Int32(int32_t x) { Value v; v.type = DataType::Int32(); v.is_null = false; v.i = x; return v; }
  static Value Int64(int64_t x) { Value v; v.type = DataType::Int64(); v.is_null = false; v.i = x; return v; }
  static Value Double(double x) { Value v; v.type = DataType::Double(); v.is_null = false; v.d = x; return v; }
  static Value Decimal(int64_t scaled, uint8_t p, uint8_t s) {
    Value v; v.type = DataType::Decimal(p, s); v.is_null = false; v.i = scaled; return v;
  }
  static Value Varchar(std::string x) { Value v; v.type = DataType::Varchar(); v.is_null = false; v.s = std::move(x); return v; }
  static Value Timestamp(int64_t us) { Value v; v.type = DataType::Timestamp(); v.is_null = false; v.i = us; return v; }
  static Value IntervalValue(Interval x) { Value v; v.type = DataType::IntervalType(); v.is_null = false; v.iv = x; return v; }

  /// SQL-literal-like text: NULL, true, 42, 'abc', TIMESTAMP '...', INTERVAL '...'.
  std::string ToString() const;
};

}  // namespace weir
