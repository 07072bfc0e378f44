// Bound expressions: the binder's output, typed and resolved, ready to compile into an
// ExprEvaluator. Column references are indices into the input batch of the plan node that owns
// the expression. Immutable once built (shared between plan copies); not thread-safe to mutate.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "expr/function.h"
#include "types/value.h"

namespace weir {

enum class ExprKind : uint8_t {
  kColumnRef,  // input column `column`
  kLiteral,    // `value`
  kCall,       // scalar function or cast: `fn` applied to `args`
  kCase,       // args = [when1, then1, when2, then2, ..., else]; `has_else`
  kCoalesce,   // first non-NULL of args, evaluated lazily
  kAggregate,  // binder-internal placeholder for aggregate call `column` (never evaluated)
};

struct Expr;
using ExprPtr = std::shared_ptr<const Expr>;

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  DataType type;
  int column = -1;
  std::string name;  // column name (kColumnRef) or function name (kCall)
  Value value;
  bool untyped_literal = false;  // a quoted string literal whose type is not yet fixed
  std::vector<ExprPtr> args;
  bool has_else = false;
  FunctionBinding fn;
  int location = -1;  // byte offset of the expression in the statement, -1 if unknown

  bool is_constant() const { return kind == ExprKind::kLiteral; }
  /// SQL-like text for EXPLAIN: `(delay > 60)`, `lower(origin)`, `$2` for unnamed columns.
  std::string ToString() const;
};

ExprPtr MakeColumnRef(int column, DataType type, std::string name);
ExprPtr MakeLiteral(Value v, bool untyped = false);
ExprPtr MakeCall(FunctionBinding fn, std::vector<ExprPtr> args, int location = -1);

/// Calls `f(expr)` for every node, parents first.
void VisitExpr(const ExprPtr& e, const std::function<void(const Expr&)>& f);
/// True when no function in `e` is non-deterministic (proctime(), …).
bool IsDeterministic(const Expr& e);
/// True when `e` reads no input column and is deterministic.
bool IsConstantExpr(const Expr& e);
/// Returns a copy of `e` with column refs renumbered: column c becomes mapping[c]
/// (mapping[c] must be >= 0 for every referenced column).
ExprPtr RemapColumns(const ExprPtr& e, const std::vector<int>& mapping);
/// Returns `e` with every column ref c replaced by replacements[c] (filter push-down through a
/// projection).
ExprPtr SubstituteColumns(const ExprPtr& e, const std::vector<ExprPtr>& replacements);
/// Appends the conjuncts of `e` (the operands of nested `and` calls, left to right) to `out`.
void SplitConjuncts(const ExprPtr& e, std::vector<ExprPtr>* out);
/// Marks in `used` (sized to the input width) every column `e` reads.
void CollectColumns(const Expr& e, std::vector<bool>* used);

/// Evaluates a constant expression (no column refs) to a Value at plan time.
Result<Value> EvaluateConstant(const Expr& e);
/// Folds every constant sub-expression of `e` into a literal. Errors from evaluating a constant
/// (e.g. 1/0) are returned, as PostgreSQL reports them at plan time.
Result<ExprPtr> FoldConstants(const ExprPtr& e);

/// Row i of `c` as a Value.
Value ColumnValue(const Column& c, int64_t i);
/// Appends `v` (which must have the column's type, or be NULL) to `c`.
void AppendValue(Column* c, const Value& v);

}  // namespace weir
