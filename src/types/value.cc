#include "types/value.h"

#include "types/datetime.h"

namespace weir {

std::string Value::ToString() const {
  if (is_null) return "NULL";
  char buf[80];
  switch (type.id) {
    case TypeId::kNull: return "NULL";
    case TypeId::kBoolean: return b ? "true" : "false";
    case TypeId::kInt32:
    case TypeId::kInt64: return std::to_string(i);
    case TypeId::kDouble: return std::string(buf, FormatDouble(d, buf));
    case TypeId::kDecimal: return std::string(buf, FormatDecimal(i, type.scale, buf));
    case TypeId::kVarchar: {
      std::string out = "'";
      for (char c : s) {
        if (c == '\'') out += '\'';
        out += c;
      }
      return out + "'";
    }
    case TypeId::kTimestamp: return "TIMESTAMP '" + std::string(buf, FormatTimestamp(i, buf)) + "'";
    case TypeId::kInterval: return "INTERVAL '" + std::string(buf, FormatInterval(iv, buf)) + "'";
  }
  return "?";
}

}  // namespace weir
