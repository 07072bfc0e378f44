#include "expr/expr.h"

#include <functional>
#include <unordered_map>

#include "expr/evaluator.h"

namespace weir {

namespace {

const char* InfixOperator(std::string_view fn) {
  static const std::unordered_map<std::string_view, const char*> kOps = {
      {"add", "+"},   {"subtract", "-"}, {"multiply", "*"}, {"divide", "/"},     {"modulo", "%"},
      {"eq", "="},    {"ne", "<>"},      {"lt", "<"},       {"le", "<="},        {"gt", ">"},
      {"ge", ">="},   {"and", "AND"},    {"or", "OR"},      {"concat_op", "||"}, {"like", "LIKE"},
      {"not_like", "NOT LIKE"}, {"ilike", "ILIKE"}};
  auto it = kOps.find(fn);
  return it == kOps.end() ? nullptr : it->second;
}

}  // namespace

std::string Expr::ToString() const {
  switch (kind) {
    case ExprKind::kColumnRef:
      return name.empty() ? fmt::format("${}", column) : name;
    case ExprKind::kLiteral:
      return value.ToString();
    case ExprKind::kCall: {
      if (fn.name == "cast")
        return fmt::format("CAST({} AS {})", args[0]->ToString(), type.ToString());
      if (const char* op = InfixOperator(fn.name); op && args.size() == 2)
        return fmt::format("({} {} {})", args[0]->ToString(), op, args[1]->ToString());
      if (fn.name == "not") return fmt::format("(NOT {})", args[0]->ToString());
      if (fn.name == "negate") return fmt::format("(- {})", args[0]->ToString());
      if (fn.name == "is_null") return fmt::format("({} IS NULL)", args[0]->ToString());
      if (fn.name == "is_not_null") return fmt::format("({} IS NOT NULL)", args[0]->ToString());
      std::string out = fn.name + "(";
      for (size_t i = 0; i < args.size(); ++i) {
        if (i) out += ", ";
        out += args[i]->ToString();
      }
      return out + ")";
    }
    case ExprKind::kCase: {
      std::string out = "CASE";
      size_t pairs = (args.size() - (has_else ? 1 : 0)) / 2;
      for (size_t k = 0; k < pairs; ++k)
        out += fmt::format(" WHEN {} THEN {}", args[2 * k]->ToString(), args[2 * k + 1]->ToString());
      if (has_else) out += " ELSE " + args.back()->ToString();
      return out + " END";
    }
    case ExprKind::kAggregate:
      return name;
    case ExprKind::kCoalesce: {
      std::string out = "coalesce(";
      for (size_t i = 0; i < args.size(); ++i) {
        if (i) out += ", ";
        out += args[i]->ToString();
      }
      return out + ")";
    }
  }
  return "?";
}

ExprPtr MakeColumnRef(int column, DataType type, std::string name) {
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kColumnRef;
  e->column = column;
  e->type = type;
  e->name = std::move(name);
  return e;
}

ExprPtr MakeLiteral(Value v, bool untyped) {
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kLiteral;
  e->type = v.type;
  e->value = std::move(v);
  e->untyped_literal = untyped;
  return e;
}

ExprPtr MakeCall(FunctionBinding fn, std::vector<ExprPtr> args, int location) {
  auto e = std::make_shared<Expr>();
  e->kind = ExprKind::kCall;
  e->type = fn.result_type;
  e->name = fn.name;
  e->fn = std::move(fn);
  e->args = std::move(args);
  e->location = location;
  return e;
}

void VisitExpr(const ExprPtr& e, const std::function<void(const Expr&)>& f) {
  f(*e);
  for (const auto& a : e->args) VisitExpr(a, f);
}

bool IsDeterministic(const Expr& e) {
  if (e.kind == ExprKind::kCall && !e.fn.deterministic) return false;
  for (const auto& a : e.args)
    if (!IsDeterministic(*a)) return false;
  return true;
}

bool IsConstantExpr(const Expr& e) {
  if (e.kind == ExprKind::kColumnRef || e.kind == ExprKind::kAggregate) return false;
  if (e.kind == ExprKind::kCall && !e.fn.deterministic) return false;
  for (const auto& a : e.args)
    if (!IsConstantExpr(*a)) return false;
  return true;
}

ExprPtr RemapColumns(const ExprPtr& e, const std::vector<int>& mapping) {
  if (e->kind == ExprKind::kColumnRef) {
    auto copy = std::make_shared<Expr>(*e);
    WEIR_CHECK(e->column >= 0 && static_cast<size_t>(e->column) < mapping.size() &&
               mapping[static_cast<size_t>(e->column)] >= 0);
    copy->column = mapping[static_cast<size_t>(e->column)];
    return copy;
  }
  if (e->args.empty()) return e;
  auto copy = std::make_shared<Expr>(*e);
  for (auto& a : copy->args) a = RemapColumns(a, mapping);
  return copy;
}

ExprPtr SubstituteColumns(const ExprPtr& e, const std::vector<ExprPtr>& replacements) {
  if (e->kind == ExprKind::kColumnRef) return replacements[static_cast<size_t>(e->column)];
  if (e->args.empty()) return e;
  auto copy = std::make_shared<Expr>(*e);
  for (auto& a : copy->args) a = SubstituteColumns(a, replacements);
  return copy;
}

void SplitConjuncts(const ExprPtr& e, std::vector<ExprPtr>* out) {
  if (e->kind == ExprKind::kCall && e->fn.name == "and" && e->args.size() == 2) {
    SplitConjuncts(e->args[0], out);
    SplitConjuncts(e->args[1], out);
  } else {
    out->push_back(e);
  }
}

void CollectColumns(const Expr& e, std::vector<bool>* used) {
  if (e.kind == ExprKind::kColumnRef) (*used)[static_cast<size_t>(e.column)] = true;
  for (const auto& a : e.args) CollectColumns(*a, used);
}

Result<Value> EvaluateConstant(const Expr& e) {
  if (e.kind == ExprKind::kLiteral) return e.value;
  ExprEvaluator ev(std::make_shared<Expr>(e));
  RecordBatch one;
  one.set_num_rows(1);
  WEIR_ASSIGN_OR_RETURN(const ColumnPtr* col, ev.Evaluate(one));
  Value v = ColumnValue(**col, 0);
  if (v.is_null) v.type = e.type;
  return v;
}

Result<ExprPtr> FoldConstants(const ExprPtr& e) {
  if (e->kind == ExprKind::kLiteral || e->kind == ExprKind::kColumnRef) return e;
  std::shared_ptr<Expr> copy;
  for (size_t i = 0; i < e->args.size(); ++i) {
    WEIR_ASSIGN_OR_RETURN(ExprPtr folded, FoldConstants(e->args[i]));
    if (folded != e->args[i]) {
      if (!copy) copy = std::make_shared<Expr>(*e);
      copy->args[i] = folded;
    }
  }
  ExprPtr current = copy ? ExprPtr(copy) : e;
  // Boolean identities with one constant side: x AND TRUE = x, x AND FALSE = FALSE,
  // x OR FALSE = x, x OR TRUE = TRUE (valid under three-valued logic).
  if (current->kind == ExprKind::kCall && current->args.size() == 2 &&
      (current->fn.name == "and" || current->fn.name == "or")) {
    const bool is_and = current->fn.name == "and";
    for (int side = 0; side < 2; ++side) {
      const Expr& c = *current->args[static_cast<size_t>(side)];
      if (!c.is_constant() || c.value.is_null) continue;
      if (c.value.b == is_and) return current->args[static_cast<size_t>(1 - side)];
      return MakeLiteral(Value::Boolean(!is_and));
    }
  }
  if (!IsConstantExpr(*current)) return current;
  WEIR_ASSIGN_OR_RETURN(Value v, EvaluateConstant(*current));
  v.type = current->type;
  return MakeLiteral(std::move(v));
}

Value ColumnValue(const Column& c, int64_t i) {
  if (!c.IsValid(i)) return Value::Null(c.type());
  Value v;
  v.type = c.type();
  v.is_null = false;
  switch (c.type().id) {
    case TypeId::kNull: v.is_null = true; break;
    case TypeId::kBoolean: v.b = c.Get<uint8_t>(i) != 0; break;
    case TypeId::kInt32: v.i = c.Get<int32_t>(i); break;
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kTimestamp: v.i = c.Get<int64_t>(i); break;
    case TypeId::kDouble: v.d = c.Get<double>(i); break;
    case TypeId::kVarchar: v.s = std::string(c.GetString(i)); break;
    case TypeId::kInterval: v.iv = c.Get<Interval>(i); break;
  }
  return v;
}

void AppendValue(Column* c, const Value& v) {
  if (v.is_null) {
    c->AppendNull();
    return;
  }
  switch (c->type().id) {
    case TypeId::kNull: c->AppendNull(); break;
    case TypeId::kBoolean: c->Append<uint8_t>(v.b ? 1 : 0); break;
    case TypeId::kInt32: c->Append<int32_t>(static_cast<int32_t>(v.i)); break;
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kTimestamp: c->Append<int64_t>(v.i); break;
    case TypeId::kDouble: c->Append<double>(v.d); break;
    case TypeId::kVarchar: c->AppendString(v.s); break;
    case TypeId::kInterval: c->Append<Interval>(v.iv); break;
  }
}

}  // namespace weir
