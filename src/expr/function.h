// Scalar function registry: resolves a function name and argument types to a vectorized kernel.
//
// Every SQL operator and function is a named function here: arithmetic ("add", "subtract",
// "multiply", "divide", "modulo", "negate"), comparisons ("eq", "ne", "lt", "le", "gt", "ge"),
// logic ("and", "or", "not"), "is_null", "is_not_null", "is_true", "is_false", "like",
// "not_like", "ilike", "in" (first argument the probe, the rest constants), "concat" (also `||`),
// "lower", "upper", "length", "substring", "trim", "ltrim", "rtrim", "split_part", "date_trunc",
// "extract" (first argument the constant field name), "abs", "round", "floor", "ceil", ...
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

/// Resolves CAST(x AS to) for x of type `from`. `explicit_cast` false for implicit casts (only
/// lossless widening and untyped-literal casts are allowed implicitly). A kernel for
/// VARCHAR -> T raises kDataError on invalid text ("invalid input for TIMESTAMP: 'abc'").
Result<FunctionBinding> BindCast(DataType from, DataType to, bool explicit_cast = true);

/// The common supertype two operands are coerced to for comparison/arithmetic/CASE/COALESCE/IN
/// (INT < BIGINT < DECIMAL < DOUBLE; an untyped literal takes the other side's type).
/// Error when there is none ("cannot compare TIMESTAMP with BIGINT").
Result<DataType> CommonSuperType(const ArgInfo& a, const ArgInfo& b);

/// True when `name` is an aggregate function name (count, sum, avg, min, max) — used by the
/// binder to route calls; aggregates are not in this registry.
bool IsAggregateFunctionName(std::string_view name);

}  // namespace weir
