// Name and type resolution of the aggregate functions; the accumulators themselves live in
// count_sum_avg.cc and min_max.cc (see aggregate_kernel.h for the shared row loop).
#include "exec/aggregate/aggregate_function.h"

#include <cctype>

#include "exec/aggregate/aggregate_kernel.h"

namespace weir {
namespace {

enum class AggregateKind { kCountStar, kCount, kSum, kAvg, kMin, kMax };

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != static_cast<unsigned char>(b[i])) {
      return false;
    }
  }
  return true;
}

Result<AggregateKind> KindOf(std::string_view name) {
  static constexpr struct {
    std::string_view name;
    AggregateKind kind;
  } kKinds[] = {{"count_star", AggregateKind::kCountStar},
                {"count", AggregateKind::kCount},
                {"sum", AggregateKind::kSum},
                {"avg", AggregateKind::kAvg},
                {"min", AggregateKind::kMin},
                {"max", AggregateKind::kMax}};
  for (const auto& k : kKinds) {
    if (EqualsIgnoreCase(name, k.name)) return k.kind;
  }
  return BindError("aggregate function {}() does not exist", name);
}

bool IsOrderable(TypeId id) { return id != TypeId::kNull; }

Status NoSuchFunction(std::string_view name, DataType arg) {
  return BindError("function {}({}) does not exist", name, arg.ToString());
}

}  // namespace

Result<DataType> AggregateResultType(std::string_view name, DataType arg) {
  WEIR_ASSIGN_OR_RETURN(AggregateKind kind, KindOf(name));
  switch (kind) {
    case AggregateKind::kCountStar:
    case AggregateKind::kCount:
      return DataType::Int64();
    case AggregateKind::kSum:
      switch (arg.id) {
        case TypeId::kInt32:
        case TypeId::kInt64:
          return DataType::Int64();
        case TypeId::kDecimal:
          return DataType::Decimal(kDecimalPrecisionMax, arg.scale);
        case TypeId::kDouble:
          return DataType::Double();
        default:
          return NoSuchFunction(name, arg);
      }
    case AggregateKind::kAvg:
      switch (arg.id) {
        case TypeId::kInt32:
        case TypeId::kInt64:
        case TypeId::kDouble:
          return DataType::Double();
        case TypeId::kDecimal:
          return DataType::Decimal(kDecimalPrecisionMax, arg.scale > 6 ? arg.scale : uint8_t{6});
        default:
          return NoSuchFunction(name, arg);
      }
    case AggregateKind::kMin:
    case AggregateKind::kMax:
      if (!IsOrderable(arg.id)) return NoSuchFunction(name, arg);
      return arg;
  }
  return Internal("unhandled aggregate {}", name);
}

Result<std::unique_ptr<AggregateFunction>> MakeAggregateFunction(std::string_view name,
                                                                 DataType arg, bool retractable) {
  WEIR_ASSIGN_OR_RETURN(AggregateKind kind, KindOf(name));
  std::unique_ptr<AggregateFunction> fn;
  switch (kind) {
    case AggregateKind::kCountStar:
      fn = agg::MakeCountStar();
      break;
    case AggregateKind::kCount:
      fn = agg::MakeCount(arg);
      break;
    case AggregateKind::kSum:
      fn = agg::MakeSum(arg, retractable);
      break;
    case AggregateKind::kAvg:
      fn = agg::MakeAvg(arg, retractable);
      break;
    case AggregateKind::kMin:
      fn = agg::MakeMinMax(false, arg, retractable);
      break;
    case AggregateKind::kMax:
      fn = agg::MakeMinMax(true, arg, retractable);
      break;
  }
  if (fn == nullptr) return NoSuchFunction(name, arg);
  WEIR_DCHECK(fn->result_type() == AggregateResultType(name, arg).value());
  return fn;
}

}  // namespace weir
