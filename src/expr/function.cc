// The public face of the scalar function registry (expr/function.h): name lookup, the
// PostgreSQL-style "does not exist" messages, casts and common supertypes. The functions
// themselves live in expr/functions/, one family a file.
#include "expr/function.h"

#include <unordered_map>

#include "expr/functions/registry.h"

namespace weir {
namespace {

using Table = std::unordered_map<std::string_view, fn::Resolver>;

const Table& Registry() {
  static const Table* table = [] {
    auto* t = new Table();
    for (auto family :
         {fn::ArithmeticFunctions(), fn::ComparisonFunctions(), fn::LogicalFunctions(),
          fn::StringFunctions(), fn::LikeFunctions(), fn::DatetimeFunctions(), fn::MathFunctions(),
          fn::ConditionalFunctions(), fn::InFunctions(), fn::DatetimeFormatFunctions(),
          fn::RegexpFunctions()}) {
      for (const fn::FunctionDef& def : family) {
        const bool inserted = t->emplace(def.name, def.resolve).second;
        WEIR_CHECK(inserted);
      }
    }
    return t;
  }();
  return *table;
}

/// Operator spelling of operator-named functions, for error messages.
const char* OperatorSymbol(std::string_view name) {
  static constexpr std::pair<std::string_view, const char*> kOps[] = {
      {"add", "+"},
      {"subtract", "-"},
      {"multiply", "*"},
      {"divide", "/"},
      {"modulo", "%"},
      {"negate", "-"},
      {"eq", "="},
      {"ne", "<>"},
      {"lt", "<"},
      {"le", "<="},
      {"gt", ">"},
      {"ge", ">="},
      {"concat_op", "||"},
      {"like", "LIKE"},
      {"not_like", "NOT LIKE"},
      {"ilike", "ILIKE"},
      {"not_ilike", "NOT ILIKE"},
  };
  for (const auto& [fn_name, symbol] : kOps)
    if (fn_name == name) return symbol;
  return nullptr;
}

std::string TypeName(const ArgInfo& a) { return a.type.ToString(); }

Status NoSuchFunction(std::string_view name, const std::vector<ArgInfo>& args) {
  const char* op = OperatorSymbol(name);
  if (op != nullptr && args.size() == 2)
    return BindError("operator does not exist: {} {} {}", TypeName(args[0]), op, TypeName(args[1]));
  if (op != nullptr && args.size() == 1)
    return BindError("operator does not exist: {} {}", op, TypeName(args[0]));
  std::string list;
  for (size_t k = 0; k < args.size(); ++k) {
    if (k) list += ", ";
    list += TypeName(args[k]);
  }
  return BindError("function {}({}) does not exist", name, list);
}

}  // namespace

Result<FunctionBinding> BindFunction(std::string_view name, const std::vector<ArgInfo>& args) {
  const Table& table = Registry();
  const auto it = table.find(name);
  if (it == table.end()) return NoSuchFunction(name, args);
  Result<FunctionBinding> r = it->second(name, args);
  if (!r.ok() && fn::IsNoMatch(r.status())) return NoSuchFunction(name, args);
  return r;
}

Result<FunctionBinding> BindCast(DataType from, DataType to, bool explicit_cast) {
  return fn::ResolveCast(from, to, explicit_cast);
}

Result<DataType> CommonSuperType(const ArgInfo& a, const ArgInfo& b) {
  if (fn::IsUntyped(a) && fn::IsUntyped(b))
    return (a.is_untyped_literal || b.is_untyped_literal) ? DataType::Varchar() : DataType::Null();
  if (fn::IsUntyped(a)) return b.type;
  if (fn::IsUntyped(b)) return a.type;
  if (a.type == b.type) return a.type;
  if (a.type.is_numeric() && b.type.is_numeric()) return fn::NumericSuperType(a.type, b.type);
  return BindError("cannot compare {} with {}", a.type.ToString(), b.type.ToString());
}

bool IsAggregateFunctionName(std::string_view name) {
  return name == "count" || name == "sum" || name == "avg" || name == "min" || name == "max";
}

}  // namespace weir
