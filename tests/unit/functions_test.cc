// Scalar function library: resolution, kernels and casts.
//
// Most tests go through Ev(name, args): it binds the call like the binder would (constant
// arguments visible at bind time), casts the arguments to FunctionBinding::arg_types with
// implicit casts, then runs the kernel five ways — all arguments constant, all as columns,
// as columns with NULL rows in between, first argument a column and the rest constants, and
// the reverse — checks the five agree, and returns the result as SQL literal text (or
// "error: <message>").
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "expr/function.h"
#include "expr/functions/registry.h"
#include "types/datetime.h"

namespace weir {
namespace {

// ---- values -------------------------------------------------------------------------------

Value I32(int32_t v) { return Value::Int32(v); }
Value I64(int64_t v) { return Value::Int64(v); }
Value F(double v) { return Value::Double(v); }
Value B(bool v) { return Value::Boolean(v); }
Value S(std::string v) { return Value::Varchar(std::move(v)); }
Value Dec(std::string_view text, int p, int s) {
  int64_t v = 0;
  EXPECT_TRUE(ParseDecimal(text, p, s, &v)) << text;
  return Value::Decimal(v, static_cast<uint8_t>(p), static_cast<uint8_t>(s));
}
Value Ts(std::string_view text) {
  int64_t us = 0;
  EXPECT_TRUE(ParseTimestamp(text, &us)) << text;
  return Value::Timestamp(us);
}
Value Iv(std::string_view text) {
  Interval iv;
  EXPECT_TRUE(ParseInterval(text, "", &iv)) << text;
  return Value::IntervalValue(iv);
}
Value Null(DataType t) { return Value::Null(t); }

/// An argument: a value, possibly an untyped literal.
struct A {
  A(Value v) : v(std::move(v)) {}  // NOLINT(google-explicit-constructor)
  Value v;
  bool untyped = false;
};
A U(std::string text) {
  A a(S(std::move(text)));
  a.untyped = true;
  return a;
}
A UNull() { return A(Value::Null()); }

std::vector<ArgInfo> Infos(const std::vector<A>& args, bool constants) {
  std::vector<ArgInfo> infos;
  for (const A& a : args) {
    ArgInfo info;
    info.type = a.v.type;
    info.constant = constants ? &a.v : nullptr;
    info.is_untyped_literal = a.untyped;
    infos.push_back(info);
  }
  return infos;
}

/// Casts `v` to `to` through BindCast(implicit), as the binder does for arg_types.
Result<Value> ImplicitCast(const Value& v, DataType to) {
  if (v.type == to) return v;
  WEIR_ASSIGN_OR_RETURN(FunctionBinding b, BindCast(v.type, to, /*explicit_cast=*/false));
  Column in(v.type.id == TypeId::kNull ? DataType::Varchar() : v.type);
  fn::AppendValue(&in, v);
  in.MakeConstant(1);
  Column out(to);
  const Column* args[] = {&in};
  KernelContext ctx;
  ctx.rows = 1;
  ctx.state = b.state.get();
  WEIR_RETURN_IF_ERROR(b.kernel(ctx, args, &out));
  return fn::ValueAt(out, 0);
}

std::string Show(const Value& v) { return v.ToString(); }

/// Seed of the randomized tests: WEIR_TEST_SEED when set (to replay a failure), else random;
/// printed with every failure.
unsigned TestSeed() {
  if (const char* env = std::getenv("WEIR_TEST_SEED"))
    return static_cast<unsigned>(std::strtoul(env, nullptr, 10));
  return std::random_device{}();
}

enum class Shape { kConstant, kColumns, kColumnsWithNulls, kFirstColumn, kFirstConstant };

/// Runs a bound function on `vals` laid out as `shape`; returns the text of the row of interest.
std::string Run(const FunctionBinding& b, const std::vector<Value>& vals, Shape shape) {
  const int64_t rows = shape == Shape::kConstant ? 1 : 4;
  const int64_t row = shape == Shape::kColumnsWithNulls ? 3 : rows - 1;
  std::vector<Column> cols;
  cols.reserve(vals.size());
  for (size_t k = 0; k < vals.size(); ++k) {
    cols.emplace_back(b.arg_types[k]);
    Column& c = cols.back();
    bool constant = shape == Shape::kConstant || (shape == Shape::kFirstColumn && k > 0) ||
                    (shape == Shape::kFirstConstant && k == 0);
    if (constant) {
      fn::AppendValue(&c, vals[k]);
      c.MakeConstant(rows);
    } else {
      for (int64_t i = 0; i < rows; ++i) {
        if (shape == Shape::kColumnsWithNulls && i % 2 == 0)
          c.AppendNull();
        else
          fn::AppendValue(&c, vals[k]);
      }
    }
  }
  std::vector<const Column*> ptrs;
  for (const Column& c : cols) ptrs.push_back(&c);
  Column out(b.result_type);
  KernelContext ctx;
  ctx.rows = rows;
  ctx.state = b.state.get();
  Status st = b.kernel(ctx, ptrs.data(), &out);
  if (!st.ok()) return "error: " + st.message();
  EXPECT_EQ(out.length(), rows);
  EXPECT_EQ(out.type(), b.result_type);
  if (shape == Shape::kConstant || vals.empty()) {
    EXPECT_TRUE(out.is_constant()) << b.name;
  }
  return Show(fn::ValueAt(out, row));
}

std::string EvImpl(std::string_view name, const std::vector<A>& args, bool constants) {
  const std::vector<ArgInfo> infos = Infos(args, constants);
  Result<FunctionBinding> b = BindFunction(name, infos);
  if (!b.ok()) return "bind error: " + b.status().message();
  EXPECT_EQ(b->arg_types.size(), args.size());
  std::vector<Value> vals;
  for (size_t k = 0; k < args.size(); ++k) {
    Result<Value> v = ImplicitCast(args[k].v, b->arg_types[k]);
    if (!v.ok()) return "cast error: " + v.status().message();
    vals.push_back(*v);
  }
  const std::string first = Run(*b, vals, Shape::kConstant);
  for (Shape s :
       {Shape::kColumns, Shape::kColumnsWithNulls, Shape::kFirstColumn, Shape::kFirstConstant}) {
    EXPECT_EQ(Run(*b, vals, s), first) << name << " shape " << static_cast<int>(s);
  }
  return first;
}

/// name(args) with constant arguments visible at bind time.
std::string Ev(std::string_view name, const std::vector<A>& args) {
  return EvImpl(name, args, true);
}
/// name(args) bound without knowing any argument value (non-constant patterns, units...).
std::string EvDyn(std::string_view name, const std::vector<A>& args) {
  return EvImpl(name, args, false);
}

/// Result type of name(args), or the bind error.
std::string TypeOf(std::string_view name, const std::vector<A>& args) {
  Result<FunctionBinding> b = BindFunction(name, Infos(args, true));
  if (!b.ok()) return "bind error: " + b.status().message();
  return b->result_type.ToString();
}

std::string Cast(const Value& v, DataType to) {
  Result<Value> r = fn::CastValue(v, to);
  if (!r.ok()) return "error: " + r.status().message();
  EXPECT_EQ(r->type, to);
  return Show(*r);
}

// ---- arithmetic ---------------------------------------------------------------------------

TEST(Arithmetic, Integers) {
  EXPECT_EQ(Ev("add", {I32(1), I32(2)}), "3");
  EXPECT_EQ(TypeOf("add", {I32(1), I32(2)}), "INT");
  EXPECT_EQ(TypeOf("add", {I32(1), I64(2)}), "BIGINT");
  EXPECT_EQ(Ev("subtract", {I64(1), I32(2)}), "-1");
  EXPECT_EQ(Ev("multiply", {I64(-4), I64(5)}), "-20");
  EXPECT_EQ(Ev("divide", {I64(7), I64(2)}), "3");
  EXPECT_EQ(Ev("divide", {I64(-7), I64(2)}), "-3");  // truncates toward zero
  EXPECT_EQ(Ev("modulo", {I64(-7), I64(2)}), "-1");  // sign of the dividend
  EXPECT_EQ(Ev("modulo", {I64(7), I64(-2)}), "1");
  EXPECT_EQ(Ev("mod", {I32(7), I32(3)}), "1");
  EXPECT_EQ(Ev("negate", {I64(5)}), "-5");
  EXPECT_EQ(Ev("add", {I64(1), Null(DataType::Int64())}), "NULL");
}

TEST(Arithmetic, IntegerOverflowAndDivisionByZero) {
  const int64_t max = INT64_MAX, min = INT64_MIN;
  EXPECT_EQ(Ev("add", {I64(max), I64(1)}), "error: BIGINT out of range: 9223372036854775807 + 1");
  EXPECT_EQ(Ev("subtract", {I64(min), I64(1)}),
            "error: BIGINT out of range: -9223372036854775808 - 1");
  EXPECT_EQ(Ev("multiply", {I64(max / 2 + 1), I64(2)}),
            "error: BIGINT out of range: 4611686018427387904 * 2");
  EXPECT_EQ(Ev("divide", {I64(min), I64(-1)}),
            "error: BIGINT out of range: -9223372036854775808 / -1");
  EXPECT_EQ(Ev("modulo", {I64(min), I64(-1)}), "0");
  EXPECT_EQ(Ev("negate", {I64(min)}), "error: BIGINT out of range: -(-9223372036854775808)");
  EXPECT_EQ(Ev("add", {I32(INT32_MAX), I32(1)}), "error: INT out of range: 2147483647 + 1");
  EXPECT_EQ(Ev("divide", {I32(INT32_MIN), I32(-1)}), "error: INT out of range: -2147483648 / -1");
  EXPECT_EQ(Ev("divide", {I64(10), I64(0)}), "error: division by zero: 10 / 0");
  EXPECT_EQ(Ev("modulo", {I32(10), I32(0)}), "error: division by zero: 10 % 0");
  EXPECT_EQ(Ev("add", {I64(max - 1), I64(1)}), "9223372036854775807");
}

TEST(Arithmetic, Double) {
  EXPECT_EQ(Ev("add", {F(0.1), F(0.2)}), "0.30000000000000004");
  EXPECT_EQ(Ev("divide", {F(1), F(4)}), "0.25");
  EXPECT_EQ(Ev("divide", {F(1), F(0)}), "error: division by zero: 1 / 0");
  EXPECT_EQ(Ev("multiply", {F(1e308), F(10)}), "error: value out of range: overflow: 1e+308 * 10");
  EXPECT_EQ(TypeOf("add", {I64(1), F(0.5)}), "DOUBLE");
  EXPECT_EQ(Ev("add", {I64(1), F(0.5)}), "1.5");
  EXPECT_EQ(TypeOf("add", {Dec("1.5", 2, 1), F(0.5)}), "DOUBLE");
  EXPECT_EQ(Ev("negate", {F(2.5)}), "-2.5");
}

TEST(Arithmetic, DecimalExact) {
  EXPECT_EQ(Ev("add", {Dec("0.1", 2, 1), Dec("0.2", 2, 1)}), "0.3");
  EXPECT_EQ(TypeOf("add", {Dec("0.1", 2, 1), Dec("0.2", 2, 1)}), "DECIMAL(3,1)");
  EXPECT_EQ(Ev("add", {Dec("1.25", 10, 2), Dec("0.0001", 10, 4)}), "1.2501");
  EXPECT_EQ(TypeOf("add", {Dec("1.25", 10, 2), Dec("0.0001", 10, 4)}), "DECIMAL(13,4)");
  EXPECT_EQ(Ev("subtract", {Dec("1.25", 10, 2), Dec("0.0001", 10, 4)}), "1.2499");
  EXPECT_EQ(Ev("multiply", {Dec("1.5", 2, 1), Dec("1.5", 2, 1)}), "2.25");
  EXPECT_EQ(TypeOf("multiply", {Dec("1.5", 2, 1), Dec("1.5", 2, 1)}), "DECIMAL(4,2)");
  EXPECT_EQ(Ev("add", {I64(5), Dec("0.5", 2, 1)}), "5.5");
  EXPECT_EQ(TypeOf("add", {I64(5), Dec("0.5", 2, 1)}), "DECIMAL(18,1)");
  EXPECT_EQ(TypeOf("add", {I32(5), Dec("0.5", 2, 1)}), "DECIMAL(12,1)");
  EXPECT_EQ(Ev("multiply", {I32(3), Dec("0.25", 3, 2)}), "0.75");
  EXPECT_EQ(Ev("modulo", {Dec("7.5", 3, 1), Dec("2", 1, 0)}), "1.5");
  EXPECT_EQ(Ev("modulo", {Dec("-7.5", 3, 1), I64(2)}), "-1.5");
  EXPECT_EQ(Ev("negate", {Dec("1.50", 5, 2)}), "-1.50");
}

TEST(Arithmetic, DecimalDivision) {
  EXPECT_EQ(TypeOf("divide", {Dec("1.00", 5, 2), I64(3)}), "DECIMAL(18,6)");
  EXPECT_EQ(Ev("divide", {Dec("1.00", 5, 2), I64(3)}), "0.333333");
  EXPECT_EQ(Ev("divide", {Dec("2.00", 5, 2), I64(3)}), "0.666667");  // half away from zero
  EXPECT_EQ(Ev("divide", {Dec("-2.00", 5, 2), I64(3)}), "-0.666667");
  EXPECT_EQ(Ev("divide", {I64(10), Dec("4.0", 2, 1)}), "2.500000");
  EXPECT_EQ(TypeOf("divide", {Dec("1", 18, 8), Dec("3", 18, 10)}), "DECIMAL(18,10)");
  EXPECT_EQ(Ev("divide", {Dec("1", 18, 8), Dec("3", 18, 10)}), "0.3333333333");
  // A scale of 18 on the divisor needs the two-step (10^36) long division.
  EXPECT_EQ(Ev("divide", {Dec("5", 18, 0), Dec("0.000000000000000002", 18, 18)}),
            "error: numeric field overflow: 5 / 0.000000000000000002 does not fit DECIMAL(18,18)");
  EXPECT_EQ(Ev("divide", {Dec("0.5", 2, 1), Dec("0.25", 3, 2)}), "2.000000");
  // Dividend scaled by 10^20 and more: two-step long division.
  EXPECT_EQ(Ev("divide", {Dec("1", 18, 0), Dec("3", 18, 10)}), "0.3333333333");
  EXPECT_EQ(Ev("divide", {Dec("-2", 18, 0), Dec("3", 18, 10)}), "-0.6666666667");
  EXPECT_EQ(Ev("divide", {Dec("123", 18, 0), Dec("7", 18, 10)}), "17.5714285714");
  EXPECT_EQ(Ev("divide", {Dec("12345", 18, 0), Dec("0.0000000007", 18, 10)}),
            "error: numeric field overflow: 12345 / 0.0000000007 does not fit DECIMAL(18,10)");
  EXPECT_EQ(Ev("divide", {Dec("1.5", 2, 1), Dec("0", 1, 0)}), "error: division by zero: 1.5 / 0");
}

TEST(Arithmetic, DecimalOverflow) {
  EXPECT_EQ(Ev("add", {Dec("999999999999999999", 18, 0), Dec("1", 18, 0)}),
            "error: numeric field overflow: 999999999999999999 + 1 does not fit DECIMAL(18,0)");
  EXPECT_EQ(
      Ev("multiply", {Dec("999999999.99", 11, 2), Dec("999999999.99", 11, 2)}),
      "error: numeric field overflow: 999999999.99 * 999999999.99 does not fit DECIMAL(18,4)");
  // multiply caps the scale at 18 and rounds the exact product.
  EXPECT_EQ(TypeOf("multiply", {Dec("0.5", 10, 10), Dec("0.5", 10, 10)}), "DECIMAL(18,18)");
  EXPECT_EQ(Ev("multiply", {Dec("0.0000000005", 10, 10), Dec("0.0000000001", 10, 10)}),
            "0.000000000000000000");
  EXPECT_EQ(Ev("multiply", {Dec("0.0000000015", 10, 10), Dec("0.0000000010", 10, 10)}),
            "0.000000000000000002");  // 1.5e-18 rounds half away from zero
  EXPECT_EQ(Ev("multiply", {Dec("-0.0000000015", 10, 10), Dec("0.0000000010", 10, 10)}),
            "-0.000000000000000002");
  EXPECT_EQ(Ev("multiply", {Dec("0.0000000015", 10, 10), Dec("0.0000000100", 10, 10)}),
            "0.000000000000000015");
}

TEST(Arithmetic, UntypedLiteralsAndErrors) {
  EXPECT_EQ(Ev("add", {I64(1), U("5")}), "6");
  EXPECT_EQ(Ev("add", {U("5"), I32(1)}), "6");
  EXPECT_EQ(Ev("add", {I64(1), U("x")}), "cast error: invalid input syntax for type BIGINT: \"x\"");
  EXPECT_EQ(Ev("add", {S("a"), I64(1)}), "bind error: operator does not exist: VARCHAR + BIGINT");
  EXPECT_EQ(Ev("negate", {S("a")}), "bind error: operator does not exist: - VARCHAR");
  EXPECT_EQ(Ev("add", {B(true), B(true)}),
            "bind error: operator does not exist: BOOLEAN + BOOLEAN");
  EXPECT_EQ(Ev("add", {I64(1), UNull()}), "NULL");
  EXPECT_EQ(TypeOf("add", {I64(1), UNull()}), "BIGINT");
  EXPECT_EQ(Ev("add", {I64(1), I64(2), I64(3)}),
            "bind error: function add(BIGINT, BIGINT, BIGINT) does not exist");
}

TEST(Arithmetic, TimestampInterval) {
  EXPECT_EQ(Ev("add", {Ts("2001-01-31 10:00:00"), Iv("1 month")}),
            "TIMESTAMP '2001-02-28 10:00:00'");
  EXPECT_EQ(Ev("add", {Iv("1 hour"), Ts("2001-01-01")}), "TIMESTAMP '2001-01-01 01:00:00'");
  EXPECT_EQ(Ev("subtract", {Ts("2001-03-01"), Iv("1 day")}), "TIMESTAMP '2001-02-28 00:00:00'");
  EXPECT_EQ(Ev("subtract", {Ts("2001-01-02 01:00:00"), Ts("2001-01-01")}),
            "INTERVAL '1 day 01:00:00'");
  EXPECT_EQ(Ev("subtract", {Ts("2001-01-01"), Ts("2001-01-02 01:00:00")}),
            "INTERVAL '-1 days -01:00:00'");
  EXPECT_EQ(Ev("add", {Iv("1 day"), Iv("2 hours")}), "INTERVAL '1 day 02:00:00'");
  EXPECT_EQ(Ev("subtract", {Iv("1 day"), Iv("2 hours")}), "INTERVAL '1 day -02:00:00'");
  EXPECT_EQ(Ev("multiply", {Iv("1 day"), I64(3)}), "INTERVAL '3 days'");
  EXPECT_EQ(Ev("multiply", {I32(2), Iv("1 hour")}), "INTERVAL '02:00:00'");
  EXPECT_EQ(Ev("multiply", {Iv("1 day"), F(1.5)}), "INTERVAL '1 day 12:00:00'");
  EXPECT_EQ(Ev("multiply", {Iv("1 month"), F(0.5)}), "INTERVAL '15 days'");
  EXPECT_EQ(Ev("divide", {Iv("1 hour"), I64(4)}), "INTERVAL '00:15:00'");
  EXPECT_EQ(Ev("divide", {Iv("1 hour"), I64(0)}), "error: division by zero: '01:00:00' / 0");
  EXPECT_EQ(Ev("negate", {Iv("1 day 2 hours")}), "INTERVAL '-1 days -02:00:00'");
  // Untyped literals next to a timestamp.
  EXPECT_EQ(Ev("add", {Ts("2001-01-01"), U("1 hour")}), "TIMESTAMP '2001-01-01 01:00:00'");
  EXPECT_EQ(Ev("subtract", {Ts("2001-01-01"), U("1 hour")}), "TIMESTAMP '2000-12-31 23:00:00'");
  EXPECT_EQ(Ev("subtract", {Ts("2001-01-02"), U("2001-01-01")}), "INTERVAL '1 day'");
  EXPECT_EQ(Ev("add", {Ts("2001-01-01"), Ts("2001-01-01")}),
            "bind error: operator does not exist: TIMESTAMP + TIMESTAMP");
  EXPECT_EQ(Ev("multiply", {Ts("2001-01-01"), I64(2)}),
            "bind error: operator does not exist: TIMESTAMP * BIGINT");
  EXPECT_EQ(Ev("add", {Value::Timestamp(INT64_MAX - 10), Iv("1 day")}).substr(0, 29),
            "error: timestamp out of range");
}

// ---- comparisons --------------------------------------------------------------------------

TEST(Comparison, AllTypes) {
  EXPECT_EQ(Ev("lt", {I32(1), I64(2)}), "true");
  EXPECT_EQ(TypeOf("lt", {I32(1), I64(2)}), "BOOLEAN");
  EXPECT_EQ(Ev("ge", {I32(2), I32(2)}), "true");
  EXPECT_EQ(Ev("ne", {I64(2), I64(2)}), "false");
  EXPECT_EQ(Ev("eq", {Dec("1.10", 5, 2), Dec("1.1", 5, 1)}), "true");
  EXPECT_EQ(Ev("gt", {I64(2), Dec("1.99", 5, 2)}), "true");
  EXPECT_EQ(Ev("lt", {I64(INT64_MAX), Dec("0.01", 2, 2)}), "false");  // no overflow: 128-bit
  EXPECT_EQ(Ev("eq", {F(0.5), Dec("0.5", 2, 1)}), "true");
  EXPECT_EQ(Ev("eq", {F(NAN), F(NAN)}), "true");  // PostgreSQL: NaN = NaN
  EXPECT_EQ(Ev("gt", {F(NAN), F(1e308)}), "true");
  EXPECT_EQ(Ev("lt", {F(-INFINITY), F(1)}), "true");
  EXPECT_EQ(Ev("lt", {S("abc"), S("abd")}), "true");
  EXPECT_EQ(Ev("lt", {S("a"), S("ab")}), "true");
  EXPECT_EQ(Ev("eq", {S(""), S("")}), "true");
  EXPECT_EQ(Ev("gt", {S("é"), S("z")}), "true");  // bytewise
  EXPECT_EQ(Ev("lt", {B(false), B(true)}), "true");
  EXPECT_EQ(Ev("eq", {Iv("1 month"), Iv("30 days")}), "true");
  EXPECT_EQ(Ev("gt", {Iv("1 day"), Iv("23 hours")}), "true");
  EXPECT_EQ(Ev("le", {Ts("2001-01-01"), Ts("2001-01-01 00:00:00.000001")}), "true");
  EXPECT_EQ(Ev("eq", {Ts("2001-01-01"), U("2001-01-01 00:00:00")}), "true");
  EXPECT_EQ(Ev("eq", {I64(1), Null(DataType::Int64())}), "NULL");
  EXPECT_EQ(Ev("eq", {UNull(), UNull()}), "NULL");
  EXPECT_EQ(Ev("eq", {Ts("2001-01-01"), I64(1)}),
            "bind error: operator does not exist: TIMESTAMP = BIGINT");
  EXPECT_EQ(Ev("lt", {S("1"), I64(1)}), "bind error: operator does not exist: VARCHAR < BIGINT");
}

// ---- logic --------------------------------------------------------------------------------

TEST(Logic, ThreeValued) {
  const Value t = B(true), f = B(false), n = Null(DataType::Boolean());
  EXPECT_EQ(Ev("and", {t, t}), "true");
  EXPECT_EQ(Ev("and", {t, f}), "false");
  EXPECT_EQ(Ev("and", {f, n}), "false");
  EXPECT_EQ(Ev("and", {n, f}), "false");
  EXPECT_EQ(Ev("and", {t, n}), "NULL");
  EXPECT_EQ(Ev("and", {n, n}), "NULL");
  EXPECT_EQ(Ev("or", {f, f}), "false");
  EXPECT_EQ(Ev("or", {t, n}), "true");
  EXPECT_EQ(Ev("or", {n, t}), "true");
  EXPECT_EQ(Ev("or", {f, n}), "NULL");
  EXPECT_EQ(Ev("and", {t, t, f}), "false");
  EXPECT_EQ(Ev("or", {f, n, t}), "true");
  EXPECT_EQ(Ev("not", {t}), "false");
  EXPECT_EQ(Ev("not", {n}), "NULL");
  EXPECT_EQ(Ev("and", {t, UNull()}), "NULL");
  EXPECT_EQ(Ev("and", {t, I64(1)}),
            "bind error: argument of AND must be type BOOLEAN, not type BIGINT");
  EXPECT_EQ(Ev("not", {S("x")}),
            "bind error: argument of NOT must be type BOOLEAN, not type VARCHAR");
}

TEST(Logic, IsTests) {
  const Value t = B(true), f = B(false), n = Null(DataType::Boolean());
  EXPECT_EQ(Ev("is_null", {Null(DataType::Varchar())}), "true");
  EXPECT_EQ(Ev("is_null", {S("")}), "false");
  EXPECT_EQ(Ev("is_not_null", {I64(0)}), "true");
  EXPECT_EQ(Ev("is_not_null", {UNull()}), "false");
  EXPECT_EQ(Ev("is_true", {n}), "false");
  EXPECT_EQ(Ev("is_true", {t}), "true");
  EXPECT_EQ(Ev("is_false", {f}), "true");
  EXPECT_EQ(Ev("is_not_true", {n}), "true");
  EXPECT_EQ(Ev("is_not_false", {f}), "false");
  EXPECT_EQ(Ev("is_not_false", {n}), "true");
}

TEST(Logic, In) {
  EXPECT_EQ(Ev("in", {I64(2), I64(1), I64(2), I64(3)}), "true");
  EXPECT_EQ(Ev("in", {I64(5), I64(1), I64(2)}), "false");
  EXPECT_EQ(Ev("in", {I64(5), I64(1), Null(DataType::Int64())}), "NULL");
  EXPECT_EQ(Ev("in", {I64(1), I64(1), UNull()}), "true");
  EXPECT_EQ(Ev("in", {Null(DataType::Int64()), I64(1)}), "NULL");
  EXPECT_EQ(Ev("in", {I32(2), I64(2)}), "true");
  EXPECT_EQ(Ev("in", {I64(2), Dec("2.0", 2, 1)}), "true");
  EXPECT_EQ(Ev("in", {Dec("1.5", 2, 1), Dec("1.50", 3, 2), I64(7)}), "true");
  EXPECT_EQ(Ev("in", {S("b"), U("a"), U("b")}), "true");
  EXPECT_EQ(Ev("in", {S("c"), S("a"), S("b")}), "false");
  EXPECT_EQ(Ev("in", {F(NAN), F(1), F(NAN)}), "true");
  EXPECT_EQ(Ev("in", {Ts("2001-01-01"), U("2001-01-01 00:00:00"), U("2002-01-01")}), "true");
  EXPECT_EQ(Ev("in", {Iv("1 month"), Iv("30 days")}), "true");
  EXPECT_EQ(Ev("in", {I64(1), U("x")}),
            "bind error: IN list item 'x': invalid input syntax for type BIGINT: \"x\"");
  EXPECT_EQ(Ev("in", {Ts("2001-01-01"), I64(1)}),
            "bind error: function in(TIMESTAMP, BIGINT) does not exist");
  // Beyond the linear-scan size: binary search.
  std::vector<A> many = {I64(77)};
  for (int i = 0; i < 40; ++i) many.push_back(I64(i * 7 % 41 * 3));
  EXPECT_EQ(Ev("in", many), "false");
  many[0] = A(I64(117));
  EXPECT_EQ(Ev("in", many), "true");
  Result<FunctionBinding> dyn = BindFunction("in", Infos({I64(1), I64(2)}, false));
  EXPECT_FALSE(dyn.ok());
}

// ---- LIKE ---------------------------------------------------------------------------------

TEST(Like, Shapes) {
  for (auto* ev : {&Ev, &EvDyn}) {
    EXPECT_EQ((*ev)("like", {S("abc"), S("a%")}), "true");
    EXPECT_EQ((*ev)("like", {S("abc"), S("b%")}), "false");
    EXPECT_EQ((*ev)("like", {S("abc"), S("%c")}), "true");
    EXPECT_EQ((*ev)("like", {S("abc"), S("%b%")}), "true");
    EXPECT_EQ((*ev)("like", {S("abc"), S("%x%")}), "false");
    EXPECT_EQ((*ev)("like", {S("abc"), S("abc")}), "true");
    EXPECT_EQ((*ev)("like", {S("abc"), S("ab")}), "false");
    EXPECT_EQ((*ev)("like", {S(""), S("%")}), "true");
    EXPECT_EQ((*ev)("like", {S(""), S("_")}), "false");
    EXPECT_EQ((*ev)("like", {S("ab"), S("%%%")}), "true");
    EXPECT_EQ((*ev)("like", {S("abc"), S("a_c")}), "true");
    EXPECT_EQ((*ev)("like", {S("ac"), S("a_c")}), "false");
    EXPECT_EQ((*ev)("like", {S("héllo"), S("h_llo")}), "true");  // '_' is one character
    EXPECT_EQ((*ev)("like", {S("héllo"), S("h__llo")}), "false");
    EXPECT_EQ((*ev)("like", {S("mississippi"), S("m%iss%pi")}), "true");
    EXPECT_EQ((*ev)("like", {S("mississippi"), S("m%iss%ppx")}), "false");
    EXPECT_EQ((*ev)("like", {S("abcabd"), S("%ab_")}), "true");
    EXPECT_EQ((*ev)("like", {S("aaab"), S("%a_b")}), "true");
    EXPECT_EQ((*ev)("not_like", {S("abc"), S("a%")}), "false");
    EXPECT_EQ((*ev)("like", {Null(DataType::Varchar()), S("%")}), "NULL");
    EXPECT_EQ((*ev)("ilike", {S("ABC"), S("a%")}), "true");
    EXPECT_EQ((*ev)("ilike", {S("xAbCx"), S("%aBc%")}), "true");
    EXPECT_EQ((*ev)("ilike", {S("ABC"), S("a_C")}), "true");
    EXPECT_EQ((*ev)("not_ilike", {S("ABC"), S("abc")}), "false");
  }
}

TEST(Like, Escapes) {
  for (auto* ev : {&Ev, &EvDyn}) {
    EXPECT_EQ((*ev)("like", {S("a%c"), S("a\\%c")}), "true");
    EXPECT_EQ((*ev)("like", {S("abc"), S("a\\%c")}), "false");
    EXPECT_EQ((*ev)("like", {S("a_c"), S("a#_c"), S("#")}), "true");
    EXPECT_EQ((*ev)("like", {S("abc"), S("a#_c"), S("#")}), "false");
    EXPECT_EQ((*ev)("like", {S("a\\c"), S("a\\c"), S("")}), "true");  // no escape character
    EXPECT_EQ((*ev)("like", {S("100%"), S("%\\%")}), "true");
  }
  EXPECT_EQ(Ev("like", {S("abc"), S("ab\\")}),
            "bind error: LIKE pattern must not end with escape character: \"ab\\\"");
  EXPECT_EQ(EvDyn("like", {S("abc"), S("ab\\")}),
            "error: LIKE pattern must not end with escape character: \"ab\\\"");
  EXPECT_EQ(Ev("like", {S("abc"), S("a"), S("##")}),
            "bind error: invalid escape string: \"##\" (must be empty or one character)");
  EXPECT_EQ(Ev("like", {I64(1), S("1")}),
            "bind error: operator does not exist: BIGINT LIKE VARCHAR");
  // s LIKE p ESCAPE e arrives as like(s, like_escape(p, e)).
  EXPECT_EQ(Ev("like_escape", {S("a#_c%"), S("#")}), "'a\\_c%'");
  EXPECT_EQ(Ev("like_escape", {S("a\\b##"), S("#")}), "'a\\\\b\\#'");
  EXPECT_EQ(Ev("like_escape", {S("a\\b"), S("")}), "'a\\\\b'");
  EXPECT_EQ(Ev("like_escape", {S("ab#"), S("#")}),
            "error: LIKE pattern must not end with escape character: \"ab#\"");
}

/// Reference LIKE (ASCII, no escape): plain recursion.
bool RefLike(std::string_view s, std::string_view p) {
  if (p.empty()) return s.empty();
  if (p[0] == '%') return RefLike(s, p.substr(1)) || (!s.empty() && RefLike(s.substr(1), p));
  if (s.empty()) return false;
  return (p[0] == '_' || p[0] == s[0]) && RefLike(s.substr(1), p.substr(1));
}

TEST(Like, RandomizedAgainstReference) {
  const unsigned seed = TestSeed();
  SCOPED_TRACE("WEIR_TEST_SEED=" + std::to_string(seed));
  std::mt19937 rng(seed);
  auto gen = [&](const char* alphabet, int max_len) {
    std::string s;
    const int len = static_cast<int>(rng() % static_cast<unsigned>(max_len + 1));
    const size_t n = std::strlen(alphabet);
    for (int i = 0; i < len; ++i) s.push_back(alphabet[rng() % n]);
    return s;
  };
  // One batch of strings per pattern, through both the compiled and the per-row matcher.
  const int64_t rows = 64;
  for (int iter = 0; iter < 300; ++iter) {
    const std::string pattern = gen("ab%_", 6);
    Column strings(DataType::Varchar());
    std::vector<std::string> values;
    for (int64_t i = 0; i < rows; ++i) {
      values.push_back(gen("ab", 8));
      strings.AppendString(values.back());
    }
    Column pat(DataType::Varchar());
    pat.AppendString(pattern);
    pat.MakeConstant(rows);
    const Value pv = S(pattern);
    for (bool constant : {true, false}) {
      std::vector<ArgInfo> infos = {ArgInfo{DataType::Varchar(), nullptr, false},
                                    ArgInfo{DataType::Varchar(), constant ? &pv : nullptr, false}};
      Result<FunctionBinding> b = BindFunction("like", infos);
      ASSERT_TRUE(b.ok());
      const Column* args[] = {&strings, &pat};
      Column out(DataType::Boolean());
      KernelContext ctx;
      ctx.rows = rows;
      ctx.state = b->state.get();
      ASSERT_TRUE(b->kernel(ctx, args, &out).ok());
      for (int64_t i = 0; i < rows; ++i)
        ASSERT_EQ(out.Get<uint8_t>(i) != 0, RefLike(values[static_cast<size_t>(i)], pattern))
            << "'" << values[static_cast<size_t>(i)] << "' LIKE '" << pattern
            << "' constant=" << constant;
    }
  }
}

// ---- strings ------------------------------------------------------------------------------

TEST(Strings, Concat) {
  EXPECT_EQ(Ev("concat", {S("a"), Null(DataType::Varchar()), S("b")}), "'ab'");
  EXPECT_EQ(Ev("concat", {Null(DataType::Varchar())}), "''");
  EXPECT_EQ(Ev("concat", {S("a"), I64(1), B(true)}), "'a1true'");
  EXPECT_EQ(Ev("concat_op", {S("a"), S("b")}), "'ab'");
  EXPECT_EQ(Ev("concat_op", {S("a"), Null(DataType::Varchar())}), "NULL");
  EXPECT_EQ(Ev("concat_op", {S("x="), F(0.5)}), "'x=0.5'");
  EXPECT_EQ(Ev("concat_op", {Ts("2001-01-01"), U("!")}), "'2001-01-01 00:00:00!'");
  EXPECT_EQ(Ev("concat_op", {I64(1), I64(2)}),
            "bind error: operator does not exist: BIGINT || BIGINT");
}

TEST(Strings, CaseAndLength) {
  EXPECT_EQ(Ev("lower", {S("HeLLo ÄÖ 123")}), "'hello ÄÖ 123'");
  EXPECT_EQ(Ev("upper", {S("héllo")}), "'HéLLO'");
  EXPECT_EQ(Ev("upper", {U("abc")}), "'ABC'");
  EXPECT_EQ(Ev("lower", {Null(DataType::Varchar())}), "NULL");
  EXPECT_EQ(Ev("lower", {I64(1)}), "bind error: function lower(BIGINT) does not exist");
  EXPECT_EQ(Ev("length", {S("héllo")}), "5");
  EXPECT_EQ(TypeOf("length", {S("héllo")}), "INT");
  EXPECT_EQ(Ev("char_length", {S("日本語")}), "3");
  EXPECT_EQ(Ev("octet_length", {S("héllo")}), "6");
  EXPECT_EQ(Ev("length", {S("")}), "0");
}

TEST(Strings, Substring) {
  EXPECT_EQ(Ev("substring", {S("hello"), I64(2), I64(3)}), "'ell'");
  EXPECT_EQ(Ev("substring", {S("hello"), I32(0), I32(3)}), "'he'");  // PostgreSQL semantics
  EXPECT_EQ(Ev("substring", {S("hello"), I64(-1), I64(3)}), "'h'");
  EXPECT_EQ(Ev("substring", {S("hello"), I64(-5), I64(3)}), "''");
  EXPECT_EQ(Ev("substring", {S("hello"), I64(-1)}), "'hello'");
  EXPECT_EQ(Ev("substring", {S("hello"), I64(4)}), "'lo'");
  EXPECT_EQ(Ev("substring", {S("hello"), I64(10)}), "''");
  EXPECT_EQ(Ev("substring", {S("héllo"), I64(2), I64(2)}), "'él'");
  EXPECT_EQ(Ev("substr", {S("日本語テキスト"), I64(3)}), "'語テキスト'");
  EXPECT_EQ(Ev("substring", {S("hello"), I64(2), I64(INT64_MAX)}), "'ello'");
  EXPECT_EQ(Ev("substring", {S("abc"), I64(2), I64(-1)}),
            "error: negative substring length not allowed: -1");
  EXPECT_EQ(Ev("substring", {S("abc"), Null(DataType::Int64()), I64(-1)}), "NULL");
}

TEST(Strings, TrimSplitReplacePosition) {
  EXPECT_EQ(Ev("trim", {S("  a b  ")}), "'a b'");
  EXPECT_EQ(Ev("btrim", {S("  a b  ")}), "'a b'");
  EXPECT_EQ(Ev("ltrim", {S("  a  ")}), "'a  '");
  EXPECT_EQ(Ev("rtrim", {S("  a  ")}), "'  a'");
  EXPECT_EQ(Ev("trim", {S("    ")}), "''");
  EXPECT_EQ(Ev("btrim", {S("xyxaxyx"), S("xy")}), "'a'");
  EXPECT_EQ(EvDyn("btrim", {S("xyxaxyx"), S("xy")}), "'a'");
  EXPECT_EQ(Ev("ltrim", {S("ééaé"), S("é")}), "'aé'");
  EXPECT_EQ(Ev("rtrim", {S("ééaé"), S("é")}), "'ééa'");
  EXPECT_EQ(EvDyn("btrim", {S("éxaéx"), S("xé")}), "'a'");
  EXPECT_EQ(Ev("split_part", {S("a,b,c"), S(","), I64(2)}), "'b'");
  EXPECT_EQ(Ev("split_part", {S("a,b,c"), S(","), I64(4)}), "''");
  EXPECT_EQ(Ev("split_part", {S("a,b,c"), S(","), I64(-1)}), "'c'");
  EXPECT_EQ(Ev("split_part", {S("a,b,c"), S(","), I64(-3)}), "'a'");
  EXPECT_EQ(Ev("split_part", {S("a,b,c"), S(","), I64(-4)}), "''");
  EXPECT_EQ(Ev("split_part", {S("a::b"), S("::"), I32(2)}), "'b'");
  EXPECT_EQ(Ev("split_part", {S("abc"), S(""), I64(1)}), "'abc'");
  EXPECT_EQ(Ev("split_part", {S("abc"), S(""), I64(2)}), "''");
  EXPECT_EQ(Ev("split_part", {S("a,b"), S(","), I64(0)}), "error: field position must not be zero");
  EXPECT_EQ(Ev("replace", {S("abcabc"), S("b"), S("XX")}), "'aXXcaXXc'");
  EXPECT_EQ(Ev("replace", {S("abc"), S(""), S("x")}), "'abc'");
  EXPECT_EQ(Ev("replace", {S("aaa"), S("a"), S("")}), "''");
  EXPECT_EQ(Ev("strpos", {S("héllo"), S("l")}), "3");
  EXPECT_EQ(Ev("position", {S("héllo"), S("z")}), "0");
  EXPECT_EQ(Ev("strpos", {S("abc"), S("")}), "1");
  EXPECT_EQ(Ev("starts_with", {S("abc"), S("ab")}), "true");
  EXPECT_EQ(Ev("left", {S("héllo"), I64(2)}), "'hé'");
  EXPECT_EQ(Ev("left", {S("héllo"), I64(-2)}), "'hél'");
  EXPECT_EQ(Ev("left", {S("abc"), I64(-5)}), "''");
  EXPECT_EQ(Ev("right", {S("héllo"), I32(4)}), "'éllo'");
  EXPECT_EQ(Ev("right", {S("héllo"), I64(-4)}), "'o'");
  EXPECT_EQ(Ev("right", {S("abc"), I64(10)}), "'abc'");
}

TEST(Strings, ManyArguments) {
  // More arguments than the kernels' inline reader array.
  std::vector<A> args;
  std::string want;
  for (int i = 0; i < 12; ++i) {
    if (i % 5 == 4) {
      args.push_back(Null(DataType::Varchar()));
    } else {
      args.push_back(S(std::to_string(i)));
      want += std::to_string(i);
    }
  }
  EXPECT_EQ(Ev("concat", args), "'" + want + "'");
  EXPECT_EQ(Ev("concat_op", args), "NULL");
  std::vector<A> nums;
  for (int i = 0; i < 11; ++i) nums.push_back(I64((i * 7) % 11));
  EXPECT_EQ(Ev("greatest", nums), "10");
  EXPECT_EQ(Ev("least", nums), "0");
}

/// A VARCHAR kernel over a real batch: mixed lengths, NULL rows, output offsets.
TEST(Strings, BatchWithNulls) {
  Column s(DataType::Varchar());
  const std::vector<std::optional<std::string>> in = {"hello",       std::nullopt,          "",
                                                      "héllo wörld", std::string(300, 'x'), "ab"};
  for (const auto& v : in) {
    if (v)
      s.AppendString(*v);
    else
      s.AppendNull();
  }
  const int64_t rows = static_cast<int64_t>(in.size());
  Value two = I64(2), three = I64(3);
  Result<FunctionBinding> b =
      BindFunction("substring", {ArgInfo{DataType::Varchar()}, ArgInfo{DataType::Int64(), &two},
                                 ArgInfo{DataType::Int64(), &three}});
  ASSERT_TRUE(b.ok());
  Column c2(DataType::Int64()), c3(DataType::Int64());
  c2.Append<int64_t>(2);
  c2.MakeConstant(rows);
  c3.Append<int64_t>(3);
  c3.MakeConstant(rows);
  const Column* args[] = {&s, &c2, &c3};
  Column out(DataType::Varchar());
  KernelContext ctx;
  ctx.rows = rows;
  ASSERT_TRUE(b->kernel(ctx, args, &out).ok());
  const std::vector<std::string> want = {"ell", "NULL", "", "éll", "xxx", "b"};
  for (int64_t i = 0; i < rows; ++i) EXPECT_EQ(out.ValueToString(i), want[static_cast<size_t>(i)]);
  // lower over the same batch keeps the NULLs.
  Result<FunctionBinding> lo = BindFunction("upper", {ArgInfo{DataType::Varchar()}});
  ASSERT_TRUE(lo.ok());
  Column up(DataType::Varchar());
  const Column* largs[] = {&s};
  ASSERT_TRUE(lo->kernel(ctx, largs, &up).ok());
  EXPECT_EQ(up.ValueToString(3), "HéLLO WöRLD");
  EXPECT_TRUE(up.IsNull(1));
}

// ---- date/time ----------------------------------------------------------------------------

std::string Trunc(std::string unit, std::string ts) { return Ev("date_trunc", {S(unit), Ts(ts)}); }
std::string Extract(std::string field, A v) { return Ev("extract", {S(field), v}); }

TEST(Datetime, DateTrunc) {
  const std::string t = "2001-02-16 20:38:40.123456";
  EXPECT_EQ(Trunc("microseconds", t), "TIMESTAMP '2001-02-16 20:38:40.123456'");
  EXPECT_EQ(Trunc("milliseconds", t), "TIMESTAMP '2001-02-16 20:38:40.123'");
  EXPECT_EQ(Trunc("second", t), "TIMESTAMP '2001-02-16 20:38:40'");
  EXPECT_EQ(Trunc("minute", t), "TIMESTAMP '2001-02-16 20:38:00'");
  EXPECT_EQ(Trunc("hour", t), "TIMESTAMP '2001-02-16 20:00:00'");
  EXPECT_EQ(Trunc("HOUR", t), "TIMESTAMP '2001-02-16 20:00:00'");
  EXPECT_EQ(Trunc("day", t), "TIMESTAMP '2001-02-16 00:00:00'");
  EXPECT_EQ(Trunc("week", t), "TIMESTAMP '2001-02-12 00:00:00'");  // Friday -> Monday
  EXPECT_EQ(Trunc("week", "2001-02-12 00:00:00"), "TIMESTAMP '2001-02-12 00:00:00'");
  EXPECT_EQ(Trunc("week", "2001-02-18 23:59:59"), "TIMESTAMP '2001-02-12 00:00:00'");  // Sunday
  EXPECT_EQ(Trunc("month", t), "TIMESTAMP '2001-02-01 00:00:00'");
  EXPECT_EQ(Trunc("quarter", "2001-05-16"), "TIMESTAMP '2001-04-01 00:00:00'");
  EXPECT_EQ(Trunc("year", t), "TIMESTAMP '2001-01-01 00:00:00'");
  EXPECT_EQ(Trunc("decade", "2009-12-31"), "TIMESTAMP '2000-01-01 00:00:00'");
  EXPECT_EQ(Trunc("century", "2000-12-31"), "TIMESTAMP '1901-01-01 00:00:00'");
  EXPECT_EQ(Trunc("century", "2001-01-01"), "TIMESTAMP '2001-01-01 00:00:00'");
  EXPECT_EQ(Trunc("millennium", "2000-06-01"), "TIMESTAMP '1001-01-01 00:00:00'");
  // Before the epoch: floor, not truncation toward zero.
  EXPECT_EQ(Trunc("hour", "1969-12-31 23:30:00"), "TIMESTAMP '1969-12-31 23:00:00'");
  EXPECT_EQ(Trunc("day", "1969-12-31 23:59:59.5"), "TIMESTAMP '1969-12-31 00:00:00'");
  EXPECT_EQ(Trunc("week", "1970-01-01"), "TIMESTAMP '1969-12-29 00:00:00'");
  EXPECT_EQ(Ev("date_trunc", {S("hour"), U("2001-02-16 20:38:40")}),
            "TIMESTAMP '2001-02-16 20:00:00'");
  EXPECT_EQ(Ev("date_trunc", {S("hour"), Null(DataType::Timestamp())}), "NULL");
  EXPECT_EQ(Trunc("fortnight", t),
            "bind error: unit \"fortnight\" not recognized for type TIMESTAMP");
  EXPECT_EQ(Trunc("dow", t), "bind error: unit \"dow\" not supported for date_trunc");
  EXPECT_EQ(EvDyn("date_trunc", {S("hour"), Ts(t)}),
            "bind error: date_trunc: the unit must be a constant string");
  EXPECT_EQ(Ev("date_trunc", {S("hour"), I64(1)}),
            "bind error: function date_trunc(VARCHAR, BIGINT) does not exist");
}

TEST(Datetime, ExtractTimestamp) {
  // The examples of PostgreSQL's documentation (9.9.1), PostgreSQL 14 output.
  const Value t = Ts("2001-02-16 20:38:40");
  EXPECT_EQ(Extract("century", Ts("2000-12-16 12:21:13")), "20");
  EXPECT_EQ(Extract("century", t), "21");
  EXPECT_EQ(Extract("day", t), "16");
  EXPECT_EQ(Extract("decade", t), "200");
  EXPECT_EQ(Extract("dow", t), "5");
  EXPECT_EQ(Extract("doy", t), "47");
  EXPECT_EQ(Extract("epoch", Ts("2001-02-16 20:38:40.12")), "982355920.120000");
  EXPECT_EQ(Extract("hour", t), "20");
  EXPECT_EQ(Extract("isodow", Ts("2001-02-18 20:38:40")), "7");
  EXPECT_EQ(Extract("isoyear", Ts("2006-01-01")), "2005");
  EXPECT_EQ(Extract("isoyear", Ts("2006-01-02")), "2006");
  EXPECT_EQ(Extract("microseconds", Ts("2001-02-16 00:00:28.5")), "28500000");
  EXPECT_EQ(Extract("millennium", t), "3");
  EXPECT_EQ(Extract("milliseconds", Ts("2001-02-16 00:00:28.5")), "28500.000");
  EXPECT_EQ(Extract("minute", t), "38");
  EXPECT_EQ(Extract("month", t), "2");
  EXPECT_EQ(Extract("quarter", t), "1");
  EXPECT_EQ(Extract("second", t), "40.000000");
  EXPECT_EQ(Extract("second", Ts("2001-02-16 20:38:40.5")), "40.500000");
  EXPECT_EQ(Extract("week", t), "7");
  EXPECT_EQ(Extract("week", Ts("2005-01-01")), "53");
  EXPECT_EQ(Extract("week", Ts("2008-12-29")), "1");
  EXPECT_EQ(Extract("year", t), "2001");
  EXPECT_EQ(Extract("YEAR", Ts("1969-12-31 23:59:59.5")), "1969");
  EXPECT_EQ(Extract("second", Ts("1969-12-31 23:59:59.5")), "59.500000");
  EXPECT_EQ(Extract("epoch", Ts("1969-12-31 23:59:59.5")), "-0.500000");
  EXPECT_EQ(TypeOf("extract", {S("year"), t}), "BIGINT");
  EXPECT_EQ(TypeOf("extract", {S("second"), t}), "DECIMAL(8,6)");
  EXPECT_EQ(TypeOf("extract", {S("epoch"), t}), "DECIMAL(18,6)");
  EXPECT_EQ(TypeOf("date_part", {S("year"), t}), "DOUBLE");
  EXPECT_EQ(Ev("date_part", {S("second"), Ts("2001-02-16 20:38:40.5")}), "40.5");
  EXPECT_EQ(Ev("date_part", {S("epoch"), Ts("2001-02-16 20:38:40.12")}), "982355920.12");
  EXPECT_EQ(Extract("fortnight", t),
            "bind error: unit \"fortnight\" not recognized for type TIMESTAMP");
}

TEST(Datetime, ToTimestamp) {
  EXPECT_EQ(Ev("to_timestamp", {F(982355920.5)}), "TIMESTAMP '2001-02-16 20:38:40.5'");
  EXPECT_EQ(Ev("to_timestamp", {I64(0)}), "TIMESTAMP '1970-01-01 00:00:00'");
  EXPECT_EQ(Ev("to_timestamp", {F(NAN)}), "error: timestamp cannot be NaN");
  EXPECT_EQ(Ev("to_timestamp", {F(1e300)}), "error: timestamp out of range: to_timestamp(1e+300)");
}

// to_char: PostgreSQL 15's template patterns (outputs as PostgreSQL prints them).
std::string ToChar(std::string ts, std::string fmt) { return Ev("to_char", {Ts(ts), S(fmt)}); }

TEST(Datetime, ToChar) {
  const std::string t = "2015-07-15 13:04:05.123456";  // a Wednesday, day 196
  EXPECT_EQ(ToChar(t, "YYYY-MM-DD"), "'2015-07-15'");
  EXPECT_EQ(ToChar(t, "HH24:MI:SS"), "'13:04:05'");
  EXPECT_EQ(ToChar(t, "HH:MI"), "'01:04'");  // HH is the 12-hour clock
  EXPECT_EQ(ToChar(t, "HH12 AM pm"), "'01 PM pm'");
  EXPECT_EQ(ToChar("2015-07-15 00:30:00", "HH12 HH24 AM"), "'12 00 AM'");
  EXPECT_EQ(ToChar(t, "hh24:mi:ss.ms.us"), "'13:04:05.123.123456'");  // lower case works too
  EXPECT_EQ(ToChar(t, "HH:mm"), "'01:07'");  // mm is the month, as in PostgreSQL
  EXPECT_EQ(ToChar(t, "YYY YY Y DDD D ID Q SSSS"), "'015 15 5 196 4 3 3 47045'");
  EXPECT_EQ(ToChar(t, "Month|MONTH|month|Mon|MON|mon"), "'July     |JULY     |july     |Jul|JUL|jul'");
  EXPECT_EQ(ToChar(t, "FMMonth FMDD FMMM FMHH24"), "'July 15 7 13'");
  EXPECT_EQ(ToChar(t, "Day|Dy|DY|day"), "'Wednesday|Wed|WED|wednesday'");
  EXPECT_EQ(ToChar(t, "\"quoted YYYY \\\" text\" YYYY, at T!"), "'quoted YYYY \" text 2015, at T!'");
  EXPECT_EQ(ToChar("0099-01-02 03:04:05", "YYYY-MM-DD"), "'0099-01-02'");
  EXPECT_EQ(ToChar("1969-12-31 23:59:59.999999", "YYYY-MM-DD HH24:MI:SS.US"),
            "'1969-12-31 23:59:59.999999'");
  EXPECT_EQ(ToChar(t, ""), "''");
  EXPECT_EQ(Ev("to_char", {Null(DataType::Timestamp()), S("YYYY")}), "NULL");
  EXPECT_EQ(Ev("to_char", {U("2015-07-15 13:04:05"), S("YYYY")}), "'2015'");
  EXPECT_EQ(TypeOf("to_char", {Ts(t), S("YYYY")}), "VARCHAR");
  EXPECT_EQ(EvDyn("to_char", {Ts(t), S("YYYY")}),
            "bind error: to_char: the format must be a constant string");
  EXPECT_EQ(Ev("to_char", {I64(1), S("YYYY")}),
            "bind error: function to_char(BIGINT, VARCHAR) does not exist");
}

// date_format: Flink's DATE_FORMAT with java.text.SimpleDateFormat letters.
TEST(Datetime, DateFormat) {
  const Value t = Ts("2015-07-05 03:04:05.123456");  // a Sunday, day 186
  EXPECT_EQ(Ev("date_format", {t, S("yyyy-MM-dd")}), "'2015-07-05'");
  EXPECT_EQ(Ev("date_format", {t, S("HH:mm")}), "'03:04'");
  EXPECT_EQ(Ev("date_format", {t, S("yyyy-MM-dd HH:mm:ss.SSS")}), "'2015-07-05 03:04:05.123'");
  EXPECT_EQ(Ev("date_format", {t, S("yy M d H h a")}), "'15 7 5 3 3 AM'");
  EXPECT_EQ(Ev("date_format", {t, S("EEE EEEE MMM MMMM D u")}), "'Sun Sunday Jul July 186 7'");
  EXPECT_EQ(Ev("date_format", {t, S("'at' HH 'o''clock', ''")}), "'at 03 o''clock, '''");
  EXPECT_EQ(Ev("date_format", {t, S("yyyy-MM-dd Q")}),
            "bind error: date_format: illegal pattern character 'Q' in \"yyyy-MM-dd Q\"");
}

// Batches: rows of many days in one batch, NULLs between them (the per-day cache).
TEST(Datetime, ToCharBatchAcrossDays) {
  Column ts(DataType::Timestamp());
  for (int64_t d = 0; d < 40; ++d) {
    if (d % 7 == 3) {
      ts.AppendNull();
      continue;
    }
    ts.Append<int64_t>(d * 86'400'000'000LL * 13 + d * 61'000'000LL);
  }
  Value fmt = S("YYYY-MM-DD HH24:MI");
  Result<FunctionBinding> b =
      BindFunction("to_char", {ArgInfo{DataType::Timestamp()}, ArgInfo{DataType::Varchar(), &fmt}});
  ASSERT_TRUE(b.ok());
  Column f(DataType::Varchar());
  f.AppendString("YYYY-MM-DD HH24:MI");
  f.MakeConstant(ts.length());
  const Column* args[] = {&ts, &f};
  Column out(DataType::Varchar());
  KernelContext ctx;
  ctx.rows = ts.length();
  ctx.state = b->state.get();
  ASSERT_TRUE(b->kernel(ctx, args, &out).ok());
  for (int64_t i = 0; i < ts.length(); ++i) {
    if (ts.IsNull(i)) {
      EXPECT_TRUE(out.IsNull(i));
      continue;
    }
    char buf[kTimestampTextMax];
    const std::string full(buf, FormatTimestamp(ts.Get<int64_t>(i), buf));
    EXPECT_EQ(out.GetString(i), full.substr(0, 16)) << i;
  }
}

TEST(Datetime, Proctime) {
  Result<FunctionBinding> b = BindFunction("proctime", {});
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(b->deterministic);  // never constant-folded
  EXPECT_EQ(b->result_type.ToString(), "TIMESTAMP");
  Column out(DataType::Timestamp());
  KernelContext ctx;
  ctx.rows = 100;
  ASSERT_TRUE(b->kernel(ctx, nullptr, &out).ok());
  EXPECT_TRUE(out.is_constant());  // one clock read for the whole batch
  EXPECT_EQ(out.length(), 100);
  EXPECT_GT(out.Get<int64_t>(0), 1'700'000'000'000'000LL);  // after 2023
  EXPECT_EQ(Ev("proctime", {I64(1)}), "bind error: function proctime(BIGINT) does not exist");
}

// ---- regular expressions --------------------------------------------------------------------

TEST(Regexp, Extract) {
  const std::string url = "https://www.nexmark.com/a/b/c/item.htm?query=1&channel_id=1234&x=y";
  const std::string pat = "(&|^)channel_id=([^&]*)";
  EXPECT_EQ(Ev("regexp_extract", {S(url), S(pat), I64(2)}), "'1234'");
  EXPECT_EQ(Ev("regexp_extract", {S(url), S(pat), I64(1)}), "'&'");
  EXPECT_EQ(Ev("regexp_extract", {S(url), S(pat), I64(0)}), "'&channel_id=1234'");
  EXPECT_EQ(Ev("regexp_extract", {S(url), S(pat)}), "'&channel_id=1234'");  // default: group 0
  EXPECT_EQ(Ev("regexp_extract", {S("channel_id=7"), S(pat), I64(2)}), "'7'");  // ^ alternative
  EXPECT_EQ(Ev("regexp_extract", {S("https://x/?query=1"), S(pat), I64(2)}), "NULL");  // no match
  EXPECT_EQ(Ev("regexp_extract", {S("b"), S("(a)|b"), I64(1)}), "NULL");  // group not taking part
  EXPECT_EQ(Ev("regexp_extract", {S("x=;"), S("x=([^;]*)"), I64(1)}), "''");  // empty match
  EXPECT_EQ(Ev("regexp_extract", {S("ünï 42"), S("[0-9]+")}), "'42'");
  EXPECT_EQ(Ev("regexp_extract", {Null(DataType::Varchar()), S(pat), I64(2)}), "NULL");
  EXPECT_EQ(Ev("regexp_extract", {S(url), S(pat), I64(3)}),
            "bind error: regexp_extract: group 3 does not exist in \"(&|^)channel_id=([^&]*)\" (2 capture groups)");
  EXPECT_EQ(Ev("regexp_extract", {S(url), S("(unclosed")})
                .rfind("bind error: regexp_extract: invalid regular expression \"(unclosed\": ", 0),
            0u);
  EXPECT_EQ(EvDyn("regexp_extract", {S(url), S(pat)}),
            "bind error: regexp_extract: the pattern must be a constant string");
}

TEST(Regexp, Like) {
  EXPECT_EQ(Ev("regexp_like", {S("Google"), S("^(Google|Apple)$")}), "true");
  EXPECT_EQ(Ev("regexp_like", {S("channel-12"), S("^(Google|Apple)$")}), "false");
  EXPECT_EQ(Ev("regexp_like", {S("abc"), S("B")}), "false");
  EXPECT_EQ(Ev("regexp_like", {S("abc"), S("(?i)B")}), "true");
  EXPECT_EQ(Ev("regexp_like", {Null(DataType::Varchar()), S("a")}), "NULL");
}

TEST(Datetime, ExtractInterval) {
  EXPECT_EQ(Extract("year", Iv("2 years 3 months")), "2");
  EXPECT_EQ(Extract("month", Iv("2 years 3 months")), "3");
  EXPECT_EQ(Extract("quarter", Iv("2 years 7 months")), "3");
  EXPECT_EQ(Extract("day", Iv("5 days 3 hours")), "5");
  EXPECT_EQ(Extract("hour", Iv("1 day 5 hours")), "5");
  EXPECT_EQ(Extract("minute", Iv("1 hour 7 minutes")), "7");
  EXPECT_EQ(Extract("second", Iv("1 minute 30.5 seconds")), "30.500000");
  EXPECT_EQ(Extract("epoch", Iv("5 days 3 hours")), "442800.000000");
  EXPECT_EQ(Extract("epoch", Iv("1 year")), "31557600.000000");
  EXPECT_EQ(Extract("epoch", Iv("-1 hour")), "-3600.000000");
  EXPECT_EQ(Extract("dow", Iv("1 day")),
            "bind error: unit \"dow\" not supported for type INTERVAL");
}

// ---- math ---------------------------------------------------------------------------------

TEST(Math, AbsSignRounding) {
  EXPECT_EQ(Ev("abs", {I64(-5)}), "5");
  EXPECT_EQ(Ev("abs", {I32(INT32_MIN)}), "error: INT out of range: abs(-2147483648)");
  EXPECT_EQ(Ev("abs", {Dec("-1.50", 5, 2)}), "1.50");
  EXPECT_EQ(Ev("abs", {F(-0.5)}), "0.5");
  EXPECT_EQ(Ev("sign", {Dec("-1.50", 5, 2)}), "-1");
  EXPECT_EQ(Ev("sign", {F(3)}), "1");
  EXPECT_EQ(Ev("round", {Dec("2.5", 2, 1)}), "3");
  EXPECT_EQ(Ev("round", {Dec("-2.5", 2, 1)}), "-3");
  EXPECT_EQ(TypeOf("round", {Dec("2.5", 2, 1)}), "DECIMAL(2,0)");
  EXPECT_EQ(Ev("round", {Dec("9.5", 2, 1)}), "10");
  EXPECT_EQ(Ev("round", {F(2.5)}), "2");  // float8: ties to even, as PostgreSQL
  EXPECT_EQ(Ev("round", {F(3.5)}), "4");
  EXPECT_EQ(Ev("round", {F(-2.7)}), "-3");
  EXPECT_EQ(Ev("round", {I64(7)}), "7");
  EXPECT_EQ(Ev("round", {Dec("1.2345", 6, 4), I32(2)}), "1.23");
  EXPECT_EQ(TypeOf("round", {Dec("1.2345", 6, 4), I32(2)}), "DECIMAL(5,2)");
  EXPECT_EQ(Ev("round", {Dec("1.235", 6, 3), I32(2)}), "1.24");
  EXPECT_EQ(Ev("round", {Dec("-1.235", 6, 3), I32(2)}), "-1.24");
  EXPECT_EQ(Ev("round", {Dec("1234.5", 6, 1), I32(-2)}), "1200");
  EXPECT_EQ(Ev("round", {Dec("1250", 6, 0), I32(-2)}), "1300");
  EXPECT_EQ(Ev("round", {Dec("1.5", 6, 1), I32(5)}), "1.5");
  EXPECT_EQ(EvDyn("round", {Dec("1.2345", 6, 4), I32(2)}), "1.2300");  // per-row n keeps the scale
  EXPECT_EQ(Ev("round", {F(1.2345), I32(2)}), "1.23");
  EXPECT_EQ(Ev("round", {I64(1250), I32(-2)}), "1300");
  EXPECT_EQ(Ev("round", {I64(-1250), I32(-2)}), "-1300");
  EXPECT_EQ(Ev("round", {I64(INT64_MAX), I32(-1)}),
            "error: BIGINT out of range: round(9223372036854775807, -1)");
  EXPECT_EQ(Ev("floor", {Dec("-1.5", 2, 1)}), "-2");
  EXPECT_EQ(Ev("ceil", {Dec("-1.5", 2, 1)}), "-1");
  EXPECT_EQ(Ev("ceiling", {Dec("1.01", 3, 2)}), "2");
  EXPECT_EQ(Ev("trunc", {Dec("-1.99", 3, 2)}), "-1");
  EXPECT_EQ(Ev("floor", {F(-1.5)}), "-2");
  EXPECT_EQ(Ev("ceil", {F(1.2)}), "2");
  EXPECT_EQ(Ev("floor", {I32(3)}), "3");
}

TEST(Math, Transcendental) {
  EXPECT_EQ(Ev("sqrt", {I64(16)}), "4");
  EXPECT_EQ(Ev("sqrt", {F(-1)}), "error: cannot take square root of a negative number: -1");
  EXPECT_EQ(Ev("ln", {F(0)}), "error: cannot take logarithm of zero");
  EXPECT_EQ(Ev("log10", {I64(1000)}), "3");
  EXPECT_EQ(Ev("power", {I64(2), I64(10)}), "1024");
  EXPECT_EQ(Ev("power", {F(0), F(-1)}), "error: zero raised to a negative power is undefined");
  EXPECT_EQ(Ev("exp", {F(0)}), "1");
  EXPECT_EQ(Ev("exp", {F(1000)}), "error: value out of range: overflow: exp(1000)");
  EXPECT_EQ(Ev("sqrt", {S("4")}), "bind error: function sqrt(VARCHAR) does not exist");
}

TEST(Conditional, CoalesceGreatestLeastNullif) {
  const Value n64 = Null(DataType::Int64());
  EXPECT_EQ(Ev("coalesce", {n64, I64(2), I64(3)}), "2");
  EXPECT_EQ(Ev("coalesce", {n64, UNull()}), "NULL");
  EXPECT_EQ(Ev("coalesce", {Null(DataType::Varchar()), S("x")}), "'x'");
  EXPECT_EQ(Ev("coalesce", {I32(1), Dec("2.5", 2, 1)}), "1.0");
  EXPECT_EQ(Ev("greatest", {I64(1), n64, I64(3)}), "3");
  EXPECT_EQ(Ev("least", {I64(1), n64, I64(3)}), "1");
  EXPECT_EQ(Ev("greatest", {S("a"), S("b")}), "'b'");
  EXPECT_EQ(Ev("least", {Ts("2001-01-01"), U("2000-01-01")}), "TIMESTAMP '2000-01-01 00:00:00'");
  EXPECT_EQ(Ev("greatest", {n64, n64}), "NULL");
  EXPECT_EQ(Ev("nullif", {I64(1), I64(1)}), "NULL");
  EXPECT_EQ(Ev("nullif", {I64(1), I64(2)}), "1");
  EXPECT_EQ(Ev("nullif", {S("a"), Null(DataType::Varchar())}), "'a'");
  EXPECT_EQ(Ev("is_distinct_from", {I64(1), n64}), "true");
  EXPECT_EQ(Ev("is_distinct_from", {n64, n64}), "false");
  EXPECT_EQ(Ev("is_not_distinct_from", {S("a"), S("a")}), "true");
  EXPECT_EQ(Ev("coalesce", {Ts("2001-01-01"), I64(1)}),
            "bind error: function coalesce(TIMESTAMP, BIGINT) does not exist");
}

// ---- casts --------------------------------------------------------------------------------

TEST(Cast, Numeric) {
  EXPECT_EQ(Cast(I64(3000000000), DataType::Int32()), "error: INT out of range: 3000000000");
  EXPECT_EQ(Cast(I64(-5), DataType::Int32()), "-5");
  EXPECT_EQ(Cast(I32(7), DataType::Double()), "7");
  EXPECT_EQ(Cast(F(2.5), DataType::Int64()), "2");  // rint, as PostgreSQL
  EXPECT_EQ(Cast(F(3.5), DataType::Int64()), "4");
  EXPECT_EQ(Cast(F(-2.5), DataType::Int32()), "-2");
  EXPECT_EQ(Cast(F(1e19), DataType::Int64()), "error: BIGINT out of range: 1e+19");
  EXPECT_EQ(Cast(F(NAN), DataType::Int64()), "error: BIGINT out of range: NaN");
  EXPECT_EQ(Cast(F(1.005), DataType::Decimal(10, 2)), "1.01");
  EXPECT_EQ(Cast(F(0.125), DataType::Decimal(10, 2)), "0.13");
  EXPECT_EQ(Cast(F(2.675), DataType::Decimal(10, 2)), "2.68");
  EXPECT_EQ(Cast(F(-0.5), DataType::Decimal(10, 0)), "-1");
  EXPECT_EQ(Cast(F(0.1), DataType::Decimal(10, 4)), "0.1000");
  EXPECT_EQ(Cast(F(1e10), DataType::Decimal(5, 2)),
            "error: numeric field overflow: 1e+10 does not fit DECIMAL(5,2)");
  EXPECT_EQ(Cast(F(NAN), DataType::Decimal(5, 2)), "error: cannot convert NaN to DECIMAL(5,2)");
  EXPECT_EQ(Cast(Dec("2.5", 2, 1), DataType::Int32()), "3");
  EXPECT_EQ(Cast(Dec("-2.5", 2, 1), DataType::Int64()), "-3");
  EXPECT_EQ(Cast(Dec("1.5", 2, 1), DataType::Double()), "1.5");
  EXPECT_EQ(Cast(Dec("1.235", 10, 3), DataType::Decimal(10, 2)), "1.24");
  EXPECT_EQ(Cast(Dec("1.2", 5, 1), DataType::Decimal(5, 4)), "1.2000");
  EXPECT_EQ(Cast(Dec("123.45", 5, 2), DataType::Decimal(4, 2)),
            "error: numeric field overflow: 123.45 does not fit DECIMAL(4,2)");
  EXPECT_EQ(Cast(I64(999), DataType::Decimal(5, 2)), "999.00");
  EXPECT_EQ(Cast(I64(1000), DataType::Decimal(5, 2)),
            "error: numeric field overflow: 1000 does not fit DECIMAL(5,2)");
  EXPECT_EQ(Cast(I64(INT64_MAX), DataType::Decimal(18, 0)),
            "error: numeric field overflow: 9223372036854775807 does not fit DECIMAL(18,0)");
  EXPECT_EQ(Cast(B(true), DataType::Int32()), "1");
  EXPECT_EQ(Cast(I64(0), DataType::Boolean()), "false");
  EXPECT_EQ(Cast(I32(-3), DataType::Boolean()), "true");
}

TEST(Cast, FromText) {
  EXPECT_EQ(Cast(S("123"), DataType::Int64()), "123");
  EXPECT_EQ(Cast(S(" -42 "), DataType::Int32()), "-42");
  EXPECT_EQ(Cast(S("+7"), DataType::Int64()), "7");
  EXPECT_EQ(Cast(S("-9223372036854775808"), DataType::Int64()), "-9223372036854775808");
  EXPECT_EQ(Cast(S("abc"), DataType::Int64()),
            "error: invalid input syntax for type BIGINT: \"abc\"");
  EXPECT_EQ(Cast(S(""), DataType::Int64()), "error: invalid input syntax for type BIGINT: \"\"");
  EXPECT_EQ(Cast(S("1.5"), DataType::Int32()), "error: invalid input syntax for type INT: \"1.5\"");
  EXPECT_EQ(Cast(S("9223372036854775808"), DataType::Int64()),
            "error: value \"9223372036854775808\" is out of range for type BIGINT");
  EXPECT_EQ(Cast(S("3000000000"), DataType::Int32()),
            "error: value \"3000000000\" is out of range for type INT");
  EXPECT_EQ(Cast(S("1.5e3"), DataType::Double()), "1500");
  EXPECT_EQ(Cast(S(" -Infinity"), DataType::Double()), "-Infinity");
  EXPECT_EQ(Cast(S("NaN"), DataType::Double()), "NaN");
  EXPECT_EQ(Cast(S("1e999"), DataType::Double()),
            "error: \"1e999\" is out of range for type DOUBLE");
  EXPECT_EQ(Cast(S("x1"), DataType::Double()),
            "error: invalid input syntax for type DOUBLE: \"x1\"");
  EXPECT_EQ(Cast(S("12.345"), DataType::Decimal(10, 2)), "12.35");
  EXPECT_EQ(Cast(S("-0.005"), DataType::Decimal(10, 2)), "-0.01");
  EXPECT_EQ(Cast(S("12345.6"), DataType::Decimal(5, 2)),
            "error: numeric field overflow: \"12345.6\" does not fit DECIMAL(5,2)");
  EXPECT_EQ(Cast(S("1.2.3"), DataType::Decimal(5, 2)),
            "error: invalid input syntax for type DECIMAL(5,2): \"1.2.3\"");
  EXPECT_EQ(Cast(S("yes"), DataType::Boolean()), "true");
  EXPECT_EQ(Cast(S(" F "), DataType::Boolean()), "false");
  EXPECT_EQ(Cast(S("maybe"), DataType::Boolean()),
            "error: invalid input syntax for type BOOLEAN: \"maybe\"");
  EXPECT_EQ(Cast(S("2001-02-16 20:38:40.5"), DataType::Timestamp()),
            "TIMESTAMP '2001-02-16 20:38:40.5'");
  EXPECT_EQ(Cast(S("2001-13-01"), DataType::Timestamp()),
            "error: invalid input syntax for type TIMESTAMP: \"2001-13-01\"");
  EXPECT_EQ(Cast(S("1 day 2 hours"), DataType::IntervalType()), "INTERVAL '1 day 02:00:00'");
  EXPECT_EQ(Cast(S("soon"), DataType::IntervalType()),
            "error: invalid input syntax for type INTERVAL: \"soon\"");
  EXPECT_EQ(Cast(S(std::string(100, '7')), DataType::Int64()),
            "error: value \"" + std::string(61, '7') + "...\" is out of range for type BIGINT");
}

TEST(Cast, ToText) {
  EXPECT_EQ(Cast(B(true), DataType::Varchar()), "'true'");
  EXPECT_EQ(Cast(I64(INT64_MIN), DataType::Varchar()), "'-9223372036854775808'");
  EXPECT_EQ(Cast(F(0.1), DataType::Varchar()), "'0.1'");
  EXPECT_EQ(Cast(F(1e20), DataType::Varchar()), "'1e+20'");
  EXPECT_EQ(Cast(Dec("-0.50", 5, 2), DataType::Varchar()), "'-0.50'");
  EXPECT_EQ(Cast(Ts("2001-02-16 20:38:40"), DataType::Varchar()), "'2001-02-16 20:38:40'");
  EXPECT_EQ(Cast(Iv("1 year 2 months 3 days 04:05:06.5"), DataType::Varchar()),
            "'1 year 2 mons 3 days 04:05:06.5'");
  EXPECT_EQ(Cast(Null(DataType::Int64()), DataType::Varchar()), "NULL");
}

TEST(Cast, Binding) {
  EXPECT_TRUE(BindCast(DataType::Int32(), DataType::Int64(), false).ok());
  EXPECT_TRUE(BindCast(DataType::Int64(), DataType::Decimal(18, 2), false).ok());
  EXPECT_TRUE(BindCast(DataType::Decimal(10, 2), DataType::Double(), false).ok());
  EXPECT_TRUE(
      BindCast(DataType::Varchar(), DataType::Timestamp(), false).ok());  // untyped literals
  EXPECT_TRUE(BindCast(DataType::Null(), DataType::IntervalType(), false).ok());
  Result<FunctionBinding> narrowing = BindCast(DataType::Double(), DataType::Int64(), false);
  ASSERT_FALSE(narrowing.ok());
  EXPECT_EQ(narrowing.status().message(), "cannot cast type DOUBLE to BIGINT implicitly; use CAST");
  Result<FunctionBinding> bad = BindCast(DataType::Timestamp(), DataType::Int64(), true);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kBindError);
  EXPECT_EQ(bad.status().message(), "cannot cast type TIMESTAMP to BIGINT");
  EXPECT_FALSE(BindCast(DataType::Boolean(), DataType::Double(), true).ok());
  EXPECT_FALSE(BindCast(DataType::Int64(), DataType::Timestamp(), true).ok());
}

TEST(CommonSuperType, Rules) {
  auto sup = [](A a, A b) {
    ArgInfo x{a.v.type, &a.v, a.untyped}, y{b.v.type, &b.v, b.untyped};
    Result<DataType> r = CommonSuperType(x, y);
    return r.ok() ? r->ToString() : "error: " + r.status().message();
  };
  EXPECT_EQ(sup(I32(1), I64(1)), "BIGINT");
  EXPECT_EQ(sup(I64(1), Dec("1", 10, 2)), "DECIMAL(18,2)");
  EXPECT_EQ(sup(I32(1), Dec("1", 5, 2)), "DECIMAL(12,2)");
  EXPECT_EQ(sup(Dec("1", 10, 2), Dec("1", 12, 4)), "DECIMAL(12,4)");
  EXPECT_EQ(sup(Dec("1", 12, 2), Dec("1", 8, 4)), "DECIMAL(14,4)");
  EXPECT_EQ(sup(Dec("1", 18, 2), Dec("1", 18, 6)), "DECIMAL(18,6)");
  EXPECT_EQ(sup(I32(1), F(1)), "DOUBLE");
  EXPECT_EQ(sup(Dec("1", 10, 2), F(1)), "DOUBLE");
  EXPECT_EQ(sup(U("2001-01-01"), Ts("2001-01-01")), "TIMESTAMP");
  EXPECT_EQ(sup(UNull(), I32(1)), "INT");
  EXPECT_EQ(sup(U("a"), U("b")), "VARCHAR");
  EXPECT_EQ(sup(UNull(), UNull()), "NULL");
  EXPECT_EQ(sup(S("a"), S("b")), "VARCHAR");
  EXPECT_EQ(sup(Ts("2001-01-01"), I64(1)), "error: cannot compare TIMESTAMP with BIGINT");
}

TEST(Registry, ResolutionErrorsAndAggregates) {
  EXPECT_EQ(Ev("nosuch", {I64(1), S("a")}),
            "bind error: function nosuch(BIGINT, VARCHAR) does not exist");
  EXPECT_EQ(Ev("lower", {}), "bind error: function lower() does not exist");
  EXPECT_EQ(Ev("substring", {S("a")}), "bind error: function substring(VARCHAR) does not exist");
  Result<FunctionBinding> b = BindFunction("lower", Infos({I64(1)}, true));
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().code(), StatusCode::kBindError);
  for (const char* n : {"count", "sum", "avg", "min", "max"})
    EXPECT_TRUE(IsAggregateFunctionName(n));
  EXPECT_FALSE(IsAggregateFunctionName("lower"));
  EXPECT_FALSE(IsAggregateFunctionName("add"));
}

// ---- batch semantics ----------------------------------------------------------------------

struct Batch {
  std::vector<Column> cols;
  Column out;
  explicit Batch(DataType out_type) : out(out_type) {}
};

Column Int64Column(const std::vector<std::optional<int64_t>>& v) {
  Column c(DataType::Int64());
  for (const auto& x : v) {
    if (x)
      c.Append<int64_t>(*x);
    else
      c.AppendNull();
  }
  return c;
}

Status RunBinary(std::string_view name, const Column& a, const Column& b, const uint8_t* active,
                 Column* out) {
  Result<FunctionBinding> fb = BindFunction(name, {ArgInfo{a.type()}, ArgInfo{b.type()}});
  EXPECT_TRUE(fb.ok());
  const Column* args[] = {&a, &b};
  KernelContext ctx;
  ctx.rows = a.length();
  ctx.active = active;
  ctx.state = fb->state.get();
  out->Reset(fb->result_type);
  return fb->kernel(ctx, args, out);
}

TEST(Batch, InactiveAndNullRowsNeverRaise) {
  // CASE WHEN x = 0 THEN 0 ELSE 10 / x END: the division runs only on rows where x <> 0.
  const Column ten = Int64Column({10, 10, 10, 10});
  const Column x = Int64Column({0, 2, 0, 5});
  Column out(DataType::Int64());
  const uint8_t active[] = {0, 1, 0, 1};
  ASSERT_TRUE(RunBinary("divide", ten, x, active, &out).ok());
  EXPECT_EQ(out.Get<int64_t>(1), 5);
  EXPECT_EQ(out.Get<int64_t>(3), 2);
  EXPECT_EQ(RunBinary("divide", ten, x, nullptr, &out).message(), "division by zero: 10 / 0");
  // A NULL divisor holding 0 underneath is not an error either.
  const Column xn = Int64Column({std::nullopt, 2, std::nullopt, 5});
  ASSERT_TRUE(RunBinary("divide", ten, xn, nullptr, &out).ok());
  EXPECT_TRUE(out.IsNull(0));
  EXPECT_EQ(out.Get<int64_t>(3), 2);
  // The reported row is the first active one in error.
  const Column big = Int64Column({INT64_MAX, 1, INT64_MAX - 1, 3});
  const Column one = Int64Column({1, 1, 2, 1});
  const uint8_t skip_first[] = {0, 1, 1, 1};
  EXPECT_EQ(RunBinary("add", big, one, skip_first, &out).message(),
            "BIGINT out of range: 9223372036854775806 + 2");
  // Constant operands: only an error when some row is active.
  Column c0(DataType::Int64());
  c0.Append<int64_t>(0);
  c0.MakeConstant(4);
  const uint8_t none[] = {0, 0, 0, 0};
  EXPECT_TRUE(RunBinary("divide", ten, c0, none, &out).ok());
  Column c10(DataType::Int64());
  c10.Append<int64_t>(10);
  c10.MakeConstant(4);
  EXPECT_TRUE(RunBinary("divide", c10, c0, none, &out).ok());
  EXPECT_FALSE(RunBinary("divide", c10, c0, active, &out).ok());
  // Row kernels (text parsing) honour the mask too.
  Column text(DataType::Varchar());
  for (const char* s : {"1", "x", "3"}) text.AppendString(s);
  Result<FunctionBinding> cast = BindCast(DataType::Varchar(), DataType::Int64());
  ASSERT_TRUE(cast.ok());
  const Column* args[] = {&text};
  const uint8_t mask[] = {1, 0, 1};
  KernelContext ctx;
  ctx.rows = 3;
  ctx.active = mask;
  ctx.state = cast->state.get();
  Column parsed(DataType::Int64());
  ASSERT_TRUE(cast->kernel(ctx, args, &parsed).ok());
  EXPECT_EQ(parsed.Get<int64_t>(2), 3);
  ctx.active = nullptr;
  EXPECT_EQ(cast->kernel(ctx, args, &parsed).message(),
            "invalid input syntax for type BIGINT: \"x\"");
}

TEST(Batch, ValidityPropagation) {
  const Column a = Int64Column({1, std::nullopt, 3, 4, 5, 6, 7, 8, 9, std::nullopt});
  const Column b = Int64Column({1, 1, std::nullopt, 1, 1, 1, 1, 1, 1, 1});
  Column out(DataType::Int64());
  ASSERT_TRUE(RunBinary("add", a, b, nullptr, &out).ok());
  for (int64_t i = 0; i < 10; ++i) EXPECT_EQ(out.IsValid(i), i != 1 && i != 2 && i != 9) << i;
  EXPECT_EQ(out.Get<int64_t>(8), 10);
  // No bitmap in, none out.
  const Column c = Int64Column({1, 2, 3});
  ASSERT_TRUE(RunBinary("multiply", c, c, nullptr, &out).ok());
  EXPECT_FALSE(out.has_validity());
  EXPECT_FALSE(out.is_constant());
  // A constant NULL operand makes every row NULL.
  Column n(DataType::Int64());
  n.AppendNull();
  n.MakeConstant(3);
  ASSERT_TRUE(RunBinary("add", c, n, nullptr, &out).ok());
  EXPECT_EQ(out.CountNulls(), 3);
  ASSERT_TRUE(RunBinary("lt", n, c, nullptr, &out).ok());
  EXPECT_EQ(out.CountNulls(), 3);
}

TEST(Batch, RandomizedInt64ArithmeticAgainstReference) {
  const unsigned seed = TestSeed();
  SCOPED_TRACE("WEIR_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const int64_t rows = 4096;
  std::vector<std::optional<int64_t>> va, vb;
  for (int64_t i = 0; i < rows; ++i) {
    auto pick = [&]() -> std::optional<int64_t> {
      switch (rng() % 8) {
        case 0:
          return std::nullopt;
        case 1:
          return static_cast<int64_t>(rng());  // anything, may overflow
        default:
          return static_cast<int64_t>(rng() % 2000001) - 1000000;
      }
    };
    va.push_back(pick());
    vb.push_back(pick());
  }
  const Column a = Int64Column(va), b = Int64Column(vb);
  std::vector<uint8_t> active(rows);
  for (const char* op : {"add", "subtract", "multiply"}) {
    // Only rows that do not overflow are active; the kernel must then succeed.
    for (int64_t i = 0; i < rows; ++i) {
      int64_t r = 0;
      bool ovf = false;
      if (va[i] && vb[i]) {
        const int64_t x = *va[i], y = *vb[i];
        if (op[0] == 'a') ovf = __builtin_add_overflow(x, y, &r);
        if (op[0] == 's') ovf = __builtin_sub_overflow(x, y, &r);
        if (op[0] == 'm') ovf = __builtin_mul_overflow(x, y, &r);
      }
      active[static_cast<size_t>(i)] = !ovf;
    }
    Column out(DataType::Int64());
    ASSERT_TRUE(RunBinary(op, a, b, active.data(), &out).ok()) << op;
    for (int64_t i = 0; i < rows; ++i) {
      if (!active[static_cast<size_t>(i)]) continue;
      ASSERT_EQ(out.IsValid(i), va[i].has_value() && vb[i].has_value()) << op << " row " << i;
      if (!out.IsValid(i)) continue;
      int64_t r = 0;
      if (op[0] == 'a') r = *va[i] + *vb[i];
      if (op[0] == 's') r = *va[i] - *vb[i];
      if (op[0] == 'm') r = *va[i] * *vb[i];
      ASSERT_EQ(out.Get<int64_t>(i), r) << op << " row " << i;
    }
  }
}

TEST(Batch, IntegerComparisonsAtBoundaries) {
  // The comparison kernels use sign-bit arithmetic, not compare instructions: check every pair
  // of boundary values against the C++ operators, for BIGINT and INT.
  const std::vector<int64_t> v64 = {INT64_MIN, INT64_MIN + 1, -2,       -1, 0, 1,
                                    2,         INT64_MAX - 1, INT64_MAX};
  const std::vector<int64_t> v32 = {INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX - 1, INT32_MAX};
  const char* ops[] = {"eq", "ne", "lt", "le", "gt", "ge"};
  auto want = [](int op, int64_t x, int64_t y) {
    switch (op) {
      case 0:
        return x == y;
      case 1:
        return x != y;
      case 2:
        return x < y;
      case 3:
        return x <= y;
      case 4:
        return x > y;
      default:
        return x >= y;
    }
  };
  for (bool wide : {true, false}) {
    const std::vector<int64_t>& vals = wide ? v64 : v32;
    const DataType t = wide ? DataType::Int64() : DataType::Int32();
    Column a(t), b(t);
    for (int64_t x : vals) {
      for (int64_t y : vals) {
        if (wide) {
          a.Append<int64_t>(x);
          b.Append<int64_t>(y);
        } else {
          a.Append<int32_t>(static_cast<int32_t>(x));
          b.Append<int32_t>(static_cast<int32_t>(y));
        }
      }
    }
    for (int op = 0; op < 6; ++op) {
      Column out(DataType::Boolean());
      ASSERT_TRUE(RunBinary(ops[op], a, b, nullptr, &out).ok());
      int64_t i = 0;
      for (int64_t x : vals)
        for (int64_t y : vals)
          ASSERT_EQ(out.Get<uint8_t>(i++), want(op, x, y) ? 1 : 0)
              << ops[op] << " " << x << " " << y;
    }
  }
}

TEST(Batch, ConstantFoldingProducesConstants) {
  Column a(DataType::Varchar());
  a.AppendString("Hello");
  a.MakeConstant(100);
  Result<FunctionBinding> b = BindFunction("upper", {ArgInfo{DataType::Varchar()}});
  ASSERT_TRUE(b.ok());
  const Column* args[] = {&a};
  Column out(DataType::Varchar());
  KernelContext ctx;
  ctx.rows = 100;
  ASSERT_TRUE(b->kernel(ctx, args, &out).ok());
  EXPECT_TRUE(out.is_constant());
  EXPECT_EQ(out.length(), 100);
  EXPECT_EQ(out.GetString(57), "HELLO");
}

}  // namespace
}  // namespace weir
