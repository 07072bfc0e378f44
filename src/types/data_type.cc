#include "types/data_type.h"

#include <algorithm>
#include <cctype>

namespace weir {

int DataType::byte_width() const {
  switch (id) {
    case TypeId::kNull: return 0;
    case TypeId::kBoolean: return 1;
    case TypeId::kInt32: return 4;
    case TypeId::kVarchar: return 4;
    case TypeId::kInt64:
    case TypeId::kDouble:
    case TypeId::kDecimal:
    case TypeId::kTimestamp: return 8;
    case TypeId::kInterval: return 16;
  }
  return 0;
}

std::string DataType::ToString() const {
  switch (id) {
    case TypeId::kNull: return "NULL";
    case TypeId::kBoolean: return "BOOLEAN";
    case TypeId::kInt32: return "INT";
    case TypeId::kInt64: return "BIGINT";
    case TypeId::kDouble: return "DOUBLE";
    case TypeId::kDecimal: return fmt::format("DECIMAL({},{})", precision, scale);
    case TypeId::kVarchar: return "VARCHAR";
    case TypeId::kTimestamp: return "TIMESTAMP";
    case TypeId::kInterval: return "INTERVAL";
  }
  return "?";
}

int64_t PowerOfTen(int n) {
  static constexpr int64_t kPow[19] = {1LL,
                                       10LL,
                                       100LL,
                                       1000LL,
                                       10000LL,
                                       100000LL,
                                       1000000LL,
                                       10000000LL,
                                       100000000LL,
                                       1000000000LL,
                                       10000000000LL,
                                       100000000000LL,
                                       1000000000000LL,
                                       10000000000000LL,
                                       100000000000000LL,
                                       1000000000000000LL,
                                       10000000000000000LL,
                                       100000000000000000LL,
                                       1000000000000000000LL};
  WEIR_CHECK(n >= 0 && n <= 18);
  return kPow[n];
}

Result<DataType> DataTypeFromName(std::string_view raw, const int* args, int nargs) {
  std::string name(raw);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  // libpg_query spells built-in types with a pg_catalog prefix.
  if (name.rfind("pg_catalog.", 0) == 0) name = name.substr(11);
  if (name == "boolean" || name == "bool") return DataType::Boolean();
  if (name == "int" || name == "integer" || name == "int4" || name == "smallint" ||
      name == "int2")
    return DataType::Int32();
  if (name == "bigint" || name == "int8") return DataType::Int64();
  if (name == "double" || name == "double precision" || name == "float8" || name == "float" ||
      name == "real" || name == "float4")
    return DataType::Double();
  if (name == "varchar" || name == "text" || name == "string" || name == "character varying" ||
      name == "char" || name == "bpchar")
    return DataType::Varchar();
  if (name == "timestamp" || name == "timestamp without time zone") return DataType::Timestamp();
  if (name == "interval") return DataType::IntervalType();
  if (name == "decimal" || name == "numeric") {
    int p = nargs >= 1 ? args[0] : kDecimalPrecisionMax;
    int s = nargs >= 2 ? args[1] : (nargs >= 1 ? 0 : 3);
    if (p < 1 || p > kDecimalPrecisionMax)
      return NotSupported("DECIMAL precision {} is outside 1..{}", p, kDecimalPrecisionMax);
    if (s < 0 || s > p) return InvalidArgument("DECIMAL scale {} is outside 0..{}", s, p);
    return DataType::Decimal(static_cast<uint8_t>(p), static_cast<uint8_t>(s));
  }
  return NotSupported("type \"{}\" is not supported", raw);
}

}  // namespace weir
