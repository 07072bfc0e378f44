// Scalar function registry: resolves a function name and argument types to a vectorized kernel.
//
// Every SQL operator and function is a named function here: arithmetic ("add", "subtract",
// "multiply", "divide", "modulo"/"mod", "negate"), comparisons ("eq", "ne", "lt", "le", "gt",
// "ge"), logic ("and", "or" with two or more arguments, "not"), "is_null", "is_not_null",
// "is_true", "is_false", "is_not_true", "is_not_false", "is_distinct_from",
// "is_not_distinct_from", "like", "not_like", "ilike", "not_ilike" (optional third argument:
// the escape), "like_escape", "in" (first argument the probe, the rest constants), "concat"
// (NULLs skipped), "concat_op" (`||`, NULL if any argument is), "lower", "upper", "length",
// "char_length", "octet_length", "substring"/"substr", "trim"/"btrim", "ltrim", "rtrim",
// "split_part", "replace", "left", "right", "strpos", "position" (string first), "starts_with",
// "date_trunc" / "extract" / "date_part" (first argument the constant unit or field name),
// "to_timestamp", "abs", "round", "floor", "ceil", "trunc", "sign", "sqrt", "power", "exp",
// "ln", "log10", "coalesce", "greatest", "least", "nullif". The full list with the semantics
// choices (DECIMAL result types, extract result types, rounding) is in src/expr/README.md;
// the implementations are in expr/functions/, one family a file.
//
// Resolution happens once at plan time (binder). It picks a kernel specialised for the exact
// argument types, decides the result type and the implicit casts the binder must insert
// (`FunctionBinding::arg_types`), and may precompute per-call-site state from constant
// arguments (a compiled LIKE pattern, a date_trunc unit). Kernels then run per batch with no
// per-row type dispatch, allocation or formatting.
//
// Kernel contract:
//   - `args[k]` has `ctx.rows` logical rows and type `arg_types[k]`; any arg may be a constant
//     column (Column::is_constant()).
//   - `out` is an empty column of `result_type` owned by the caller; the kernel fills exactly
//     `ctx.rows` rows (or makes it a constant column when all args are constant).
//   - NULL in -> NULL out unless the function says otherwise (and/or/is_null/concat...).
//   - Errors (overflow, division by zero, invalid cast text) are raised only for rows that are
//     valid and active (`ctx.active == nullptr` or `ctx.active[i] != 0`); inactive rows may hold
//     any value. Errors are kDataError with a message naming the problem and a sample value.
// Thread-safety: the registry is immutable after static initialization; kernels are reentrant.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "batch/column.h"
#include "common/status.h"
#include "types/value.h"

namespace weir {

struct KernelContext {
  int64_t rows = 0;
  const uint8_t* active = nullptr;  // byte mask, nullptr = every row active
  const void* state = nullptr;      // FunctionBinding::state.get()
};

using KernelFn = Status (*)(const KernelContext& ctx, const Column* const* args, Column* out);

struct FunctionBinding {
  std::string name;
  DataType result_type;
  /// Types the arguments must have when the kernel runs; the binder casts args that differ.
  std::vector<DataType> arg_types;
  KernelFn kernel = nullptr;
  /// Per-call-site state built from constant arguments (may be null).
  std::shared_ptr<const void> state;
  /// False for functions that must not be constant-folded (none yet; e.g. random()).
  bool deterministic = true;
};

/// What the binder knows about an argument at plan time.
struct ArgInfo {
  DataType type;
  /// Non-null when the argument is a constant (a literal or a folded expression).
  const Value* constant = nullptr;
  /// True for an untyped string literal ('2001-01-01'), which may be implicitly cast to the
  /// other operand's type (TIMESTAMP, INTERVAL, numeric...), as PostgreSQL does for 'unknown'.
  bool is_untyped_literal = false;
};

/// Resolves `name` (lower-case) for `args`. Errors (kBindError): unknown function ("function
/// foo(BIGINT) does not exist"), no matching signature ("operator does not exist: VARCHAR +
/// BIGINT"), a constant argument that must be constant but is not, an invalid constant
/// (unknown date_trunc unit).
Result<FunctionBinding> BindFunction(std::string_view name, const std::vector<ArgInfo>& args);

/// Resolves CAST(x AS to) for x of type `from`. `explicit_cast` false for implicit casts, which
/// allow numeric widening (INT -> BIGINT -> DECIMAL -> DOUBLE), NULL -> any, VARCHAR -> any
/// (requested by BindFunction only for untyped literals) and any -> VARCHAR (text operands of
/// concat and ||). A kernel for VARCHAR -> T raises kDataError on invalid text
/// ('invalid input syntax for type TIMESTAMP: "abc"'); numeric casts are range-checked.
/// Errors (kBindError): "cannot cast type TIMESTAMP to BIGINT", "... implicitly; use CAST".
Result<FunctionBinding> BindCast(DataType from, DataType to, bool explicit_cast = true);

/// The common supertype two operands are coerced to for comparison/arithmetic/CASE/COALESCE/IN
/// (INT < BIGINT < DECIMAL < DOUBLE; an untyped literal takes the other side's type).
/// Error when there is none ("cannot compare TIMESTAMP with BIGINT").
Result<DataType> CommonSuperType(const ArgInfo& a, const ArgInfo& b);

/// True when `name` is an aggregate function name (count, sum, avg, min, max) — used by the
/// binder to route calls; aggregates are not in this registry.
bool IsAggregateFunctionName(std::string_view name);

}  // namespace weir
