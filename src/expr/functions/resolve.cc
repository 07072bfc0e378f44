// Resolution helpers shared by the function families (see registry.h).
#include <algorithm>

#include "expr/functions/kernel.h"
#include "expr/functions/registry.h"

namespace weir::fn {

Status NoMatch() { return Status(StatusCode::kBindError, std::string()); }

bool IsNoMatch(const Status& st) {
  return st.code() == StatusCode::kBindError && st.message().empty();
}

FunctionBinding MakeBinding(std::string_view name, DataType result, std::vector<DataType> arg_types,
                            KernelFn kernel, std::shared_ptr<const void> state) {
  FunctionBinding b;
  b.name = std::string(name);
  b.result_type = result;
  b.arg_types = std::move(arg_types);
  b.kernel = kernel;
  b.state = std::move(state);
  return b;
}

DataType EffectiveType(const ArgInfo& self, const ArgInfo& other) {
  if (!IsUntyped(self)) return self.type;
  if (!IsUntyped(other)) return other.type;
  if (self.is_untyped_literal || other.is_untyped_literal) return DataType::Varchar();
  return DataType::Null();
}

DataType LoneType(const ArgInfo& a) { return a.is_untyped_literal ? DataType::Varchar() : a.type; }

DecimalShape ShapeOf(DataType t) {
  switch (t.id) {
    case TypeId::kInt32:
      return {10, 0};
    case TypeId::kInt64:
      return {19, 0};
    default:
      return {t.precision, t.scale};
  }
}

DataType NumericSuperType(DataType a, DataType b) {
  if (a.id == TypeId::kDouble || b.id == TypeId::kDouble) return DataType::Double();
  if (a.id == TypeId::kDecimal || b.id == TypeId::kDecimal) {
    const DecimalShape x = ShapeOf(a), y = ShapeOf(b);
    const int s = std::max(x.scale, y.scale);
    return DecimalOf(std::max(x.precision - x.scale, y.precision - y.scale) + s, s);
  }
  if (a.id == TypeId::kInt32 && b.id == TypeId::kInt32) return DataType::Int32();
  return DataType::Int64();
}

bool ArgMatches(const ArgInfo& arg, DataType param) {
  if (IsUntyped(arg)) return true;
  const DataType t = arg.type;
  if (t.id == param.id) return true;
  if (param.id == TypeId::kInt64) return t.id == TypeId::kInt32;
  if (param.id == TypeId::kDouble) return t.is_numeric();
  return false;
}

bool SignatureMatches(const Args& args, std::initializer_list<DataType> params) {
  if (args.size() != params.size()) return false;
  size_t k = 0;
  for (DataType p : params)
    if (!ArgMatches(args[k++], p)) return false;
  return true;
}

const std::string* ConstantText(const ArgInfo& a) {
  if (a.constant == nullptr || a.constant->is_null) return nullptr;
  if (a.type.id != TypeId::kVarchar && !a.is_untyped_literal) return nullptr;
  return &a.constant->s;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return out;
}

void AppendValue(Column* col, const Value& v) {
  if (v.is_null) {
    col->AppendNull();
    return;
  }
  switch (col->type().id) {
    case TypeId::kBoolean:
      col->Append<uint8_t>(v.b ? 1 : 0);
      break;
    case TypeId::kInt32:
      col->Append<int32_t>(static_cast<int32_t>(v.i));
      break;
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kTimestamp:
      col->Append<int64_t>(v.i);
      break;
    case TypeId::kDouble:
      col->Append<double>(v.d);
      break;
    case TypeId::kInterval:
      col->Append<Interval>(v.iv);
      break;
    case TypeId::kVarchar:
      col->AppendString(v.s);
      break;
    case TypeId::kNull:
      col->AppendNull();
      break;
  }
}

Value ValueAt(const Column& col, int64_t i) {
  const DataType t = col.type();
  if (!col.IsValid(i)) return Value::Null(t);
  switch (t.id) {
    case TypeId::kBoolean:
      return Value::Boolean(col.Get<uint8_t>(i) != 0);
    case TypeId::kInt32:
      return Value::Int32(col.Get<int32_t>(i));
    case TypeId::kInt64:
      return Value::Int64(col.Get<int64_t>(i));
    case TypeId::kDecimal:
      return Value::Decimal(col.Get<int64_t>(i), t.precision, t.scale);
    case TypeId::kTimestamp:
      return Value::Timestamp(col.Get<int64_t>(i));
    case TypeId::kDouble:
      return Value::Double(col.Get<double>(i));
    case TypeId::kInterval:
      return Value::IntervalValue(col.Get<Interval>(i));
    case TypeId::kVarchar:
      return Value::Varchar(std::string(col.GetString(i)));
    case TypeId::kNull:
      break;
  }
  return Value::Null(t);
}

Result<Value> CastValue(const Value& v, DataType to) {
  if (v.is_null) return Value::Null(to);
  DataType from = v.type.id == TypeId::kNull ? DataType::Varchar() : v.type;
  WEIR_ASSIGN_OR_RETURN(FunctionBinding b, ResolveCast(from, to, /*explicit_cast=*/true));
  Column in(from);
  Value typed = v;
  typed.type = from;
  AppendValue(&in, typed);
  in.MakeConstant(1);
  Column out(to);
  const Column* args[] = {&in};
  KernelContext ctx;
  ctx.rows = 1;
  ctx.state = b.state.get();
  WEIR_RETURN_IF_ERROR(b.kernel(ctx, args, &out));
  return ValueAt(out, 0);
}

Status NullKernel(const KernelContext& ctx, const Column* const* /*args*/, Column* out) {
  out->ResetEmpty();
  out->AppendNull();
  out->MakeConstant(ctx.rows);
  return Status::OK();
}

}  // namespace weir::fn
