// Internal interface between expr/function.cc (the public registry) and the function families
// in this folder (arithmetic.cc, comparison.cc, ...).
//
// Each family exports a table of FunctionDefs: a lower-case name and a Resolver that, given the
// argument descriptions, either returns a complete FunctionBinding or NoMatch() — in which case
// BindFunction writes the PostgreSQL-style "function f(T) does not exist" / "operator does not
// exist: T + U" message. A resolver returns any other error (kBindError) for problems it can
// name better (an unknown date_trunc unit, a non-constant LIKE escape).
//
// Resolution conventions shared by all families (see src/expr/README.md):
//   - An untyped literal takes the type of the other operand (VARCHAR when there is none); an
//     argument of type NULL likewise. FunctionBinding::arg_types then asks the binder to cast it.
//   - INT operands of mixed-width arithmetic are widened to BIGINT; BIGINT meets DECIMAL without
//     a cast (a BIGINT is read as a DECIMAL with scale 0 by the decimal kernels).
// Thread-safety: the tables are immutable; resolvers are pure.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "expr/function.h"

namespace weir::fn {

using Args = std::vector<ArgInfo>;
using Resolver = Result<FunctionBinding> (*)(std::string_view name, const Args& args);

struct FunctionDef {
  const char* name;
  Resolver resolve;
};

/// The "no signature matches" sentinel (a kBindError with an empty message).
Status NoMatch();
bool IsNoMatch(const Status& st);

std::span<const FunctionDef> ArithmeticFunctions();
std::span<const FunctionDef> ComparisonFunctions();
std::span<const FunctionDef> LogicalFunctions();
std::span<const FunctionDef> StringFunctions();
std::span<const FunctionDef> LikeFunctions();
std::span<const FunctionDef> DatetimeFunctions();
std::span<const FunctionDef> MathFunctions();
std::span<const FunctionDef> ConditionalFunctions();
std::span<const FunctionDef> InFunctions();
std::span<const FunctionDef> DatetimeFormatFunctions();
std::span<const FunctionDef> RegexpFunctions();

/// Builds a binding.
FunctionBinding MakeBinding(std::string_view name, DataType result, std::vector<DataType> arg_types,
                            KernelFn kernel, std::shared_ptr<const void> state = nullptr);

/// The type an argument takes in a binary operation with `other`: an untyped literal or NULL
/// takes the other side's type (VARCHAR for two untyped literals, NULL for two NULLs).
DataType EffectiveType(const ArgInfo& self, const ArgInfo& other);
/// The type of a lone argument: an untyped literal is VARCHAR; NULL stays NULL.
DataType LoneType(const ArgInfo& a);
/// True for an argument with no type of its own (untyped literal or NULL).
inline bool IsUntyped(const ArgInfo& a) {
  return a.is_untyped_literal || a.type.id == TypeId::kNull;
}

/// Decimal view of an exact numeric type: INT (10,0), BIGINT (19,0), DECIMAL(p,s) as is.
struct DecimalShape {
  int precision;
  int scale;
};
DecimalShape ShapeOf(DataType t);
inline DataType DecimalOf(int precision, int scale) {
  if (precision > kDecimalPrecisionMax) precision = kDecimalPrecisionMax;
  return DataType::Decimal(static_cast<uint8_t>(precision), static_cast<uint8_t>(scale));
}

/// Numeric supertype (INT < BIGINT < DECIMAL < DOUBLE); both arguments numeric.
DataType NumericSuperType(DataType a, DataType b);

/// The physical type to cast an exact operand to before a decimal kernel reads it as a scaled
/// int64: INT -> BIGINT, BIGINT and DECIMAL unchanged.
inline DataType AsScaledInt64(DataType t) { return t.id == TypeId::kInt32 ? DataType::Int64() : t; }

/// True when `arg` can be passed where `param` is expected: same type, an untyped literal or
/// NULL, or an implicit numeric widening (INT -> BIGINT, exact -> DOUBLE). DECIMAL parameters
/// match any DECIMAL (the kernels read the scale from the binding).
bool ArgMatches(const ArgInfo& arg, DataType param);
/// ArgMatches for every argument (and equal counts).
bool SignatureMatches(const Args& args, std::initializer_list<DataType> params);

/// Text of a constant VARCHAR argument, or nullptr when the argument is not a non-NULL constant.
const std::string* ConstantText(const ArgInfo& a);

/// Lower-cases ASCII letters.
std::string AsciiLower(std::string_view s);

/// Casts a constant to `to` by running the cast kernel on a one-row column (plan time only).
Result<Value> CastValue(const Value& v, DataType to);
/// One-row column holding `v` (of type `type`; `v` must already have that type or be NULL).
void AppendValue(Column* col, const Value& v);
/// Row `i` of `col` as a Value.
Value ValueAt(const Column& col, int64_t i);

/// BindCast's implementation (cast.cc).
Result<FunctionBinding> ResolveCast(DataType from, DataType to, bool explicit_cast);

/// Kernel that ignores its input and returns a constant NULL column of the output's type.
Status NullKernel(const KernelContext& ctx, const Column* const* args, Column* out);

}  // namespace weir::fn
