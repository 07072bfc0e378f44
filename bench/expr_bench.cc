// Scalar kernel throughput on 4096-row batches (items/s = rows/s).
//
// Each benchmark binds a function once, as a query plan would, then runs its kernel on the same
// input batch repeatedly, reusing the output column (so, as in the engine, buffers stop
// allocating after the first batch). Inputs are generated from a fixed seed.
#include <benchmark/benchmark.h>

#include <random>
#include <string>
#include <vector>

#include "expr/function.h"
#include "types/datetime.h"

namespace weir {
namespace {

constexpr int64_t kRows = 4096;

/// Moves columns into a vector (an initializer list would copy them).
template <typename... C>
std::vector<Column> Columns(C&&... c) {
  std::vector<Column> v;
  (v.push_back(std::move(c)), ...);
  return v;
}

struct Call {
  FunctionBinding binding;
  std::vector<Column> args;
  Column out{DataType::Null()};

  Call(std::string_view name, std::vector<Column> columns, std::vector<const Value*> constants)
      : args(std::move(columns)) {
    std::vector<ArgInfo> infos;
    for (size_t k = 0; k < args.size(); ++k)
      infos.push_back(
          ArgInfo{args[k].type(), k < constants.size() ? constants[k] : nullptr, false});
    Result<FunctionBinding> b = BindFunction(name, infos);
    if (!b.ok()) std::abort();
    binding = std::move(b).value();
    out.Reset(binding.result_type);
  }
  explicit Call(FunctionBinding b, std::vector<Column> columns)
      : binding(std::move(b)), args(std::move(columns)) {
    out.Reset(binding.result_type);
  }

  void Run(benchmark::State& state) {
    std::vector<const Column*> ptrs;
    for (const Column& c : args) ptrs.push_back(&c);
    KernelContext ctx;
    ctx.rows = kRows;
    ctx.state = binding.state.get();
    for (auto _ : state) {
      Status st = binding.kernel(ctx, ptrs.data(), &out);
      if (!st.ok()) state.SkipWithError(st.message().c_str());
      benchmark::DoNotOptimize(out.data<uint8_t>());
    }
    state.SetItemsProcessed(state.iterations() * kRows);
  }
};

Column Int64s(std::mt19937_64& rng, int64_t lo, int64_t hi, bool with_nulls = false) {
  Column c(DataType::Int64());
  std::uniform_int_distribution<int64_t> d(lo, hi);
  for (int64_t i = 0; i < kRows; ++i) {
    if (with_nulls && i % 10 == 3)
      c.AppendNull();
    else
      c.Append<int64_t>(d(rng));
  }
  return c;
}

Column ConstantInt64(int64_t v) {
  Column c(DataType::Int64());
  c.Append<int64_t>(v);
  c.MakeConstant(kRows);
  return c;
}

Column ConstantText(std::string_view s) {
  Column c(DataType::Varchar());
  c.AppendString(s);
  c.MakeConstant(kRows);
  return c;
}

/// Random words of 5..20 letters over a small alphabet; about a tenth start with "abc".
Column Words(std::mt19937_64& rng) {
  Column c(DataType::Varchar());
  std::string s;
  for (int64_t i = 0; i < kRows; ++i) {
    s.clear();
    const int len = 5 + static_cast<int>(rng() % 16);
    for (int k = 0; k < len; ++k) s.push_back(static_cast<char>('a' + rng() % 6));
    if (rng() % 10 == 0) s.replace(0, 3, "abc");
    c.AppendString(s);
  }
  return c;
}

/// Random instants over a year (`ordered` false), or an event-time-ordered batch like a
/// stream's: 4096 events a few seconds apart, starting 30 minutes before a month end.
Column Timestamps(std::mt19937_64& rng, bool ordered) {
  Column c(DataType::Timestamp());
  int64_t base;
  ParseTimestamp(ordered ? "2024-01-31 23:30:00" : "2024-01-01 00:00:00", &base);
  int64_t t = base;
  for (int64_t i = 0; i < kRows; ++i) {
    if (ordered)
      t += static_cast<int64_t>(rng() % (2 * kMicrosPerSecond));
    else
      t = base + static_cast<int64_t>(rng() % (365 * kMicrosPerDay));
    c.Append<int64_t>(t);
  }
  return c;
}

void BM_AddBigintColumnConstant(benchmark::State& state) {
  std::mt19937_64 rng(1);
  Call call("add", Columns(Int64s(rng, -1'000'000, 1'000'000), ConstantInt64(42)), {});
  call.Run(state);
}
BENCHMARK(BM_AddBigintColumnConstant);

void BM_AddBigintColumnsWithNulls(benchmark::State& state) {
  std::mt19937_64 rng(2);
  Call call("add",
            Columns(Int64s(rng, -1'000'000, 1'000'000, true), Int64s(rng, -1000, 1000, true)), {});
  call.Run(state);
}
BENCHMARK(BM_AddBigintColumnsWithNulls);

void BM_MultiplyBigintColumns(benchmark::State& state) {
  std::mt19937_64 rng(3);
  Call call("multiply", Columns(Int64s(rng, -1'000'000, 1'000'000), Int64s(rng, -1000, 1000)), {});
  call.Run(state);
}
BENCHMARK(BM_MultiplyBigintColumns);

void BM_DivideBigintColumnConstant(benchmark::State& state) {
  std::mt19937_64 rng(4);
  Call call("divide", Columns(Int64s(rng, -1'000'000, 1'000'000), ConstantInt64(7)), {});
  call.Run(state);
}
BENCHMARK(BM_DivideBigintColumnConstant);

void BM_AddDecimalDifferentScales(benchmark::State& state) {
  std::mt19937_64 rng(5);
  Column a(DataType::Decimal(12, 2)), b(DataType::Decimal(12, 4));
  std::uniform_int_distribution<int64_t> d(-1'000'000, 1'000'000);
  for (int64_t i = 0; i < kRows; ++i) {
    a.Append<int64_t>(d(rng));
    b.Append<int64_t>(d(rng));
  }
  Call call("add", Columns(std::move(a), std::move(b)), {});
  call.Run(state);
}
BENCHMARK(BM_AddDecimalDifferentScales);

void BM_LessThanBigintColumnConstant(benchmark::State& state) {
  std::mt19937_64 rng(6);
  Call call("lt", Columns(Int64s(rng, -1'000'000, 1'000'000), ConstantInt64(0)), {});
  call.Run(state);
}
BENCHMARK(BM_LessThanBigintColumnConstant);

void BM_EqualVarcharColumnConstant(benchmark::State& state) {
  std::mt19937_64 rng(7);
  Call call("eq", Columns(Words(rng), ConstantText("abcdef")), {});
  call.Run(state);
}
BENCHMARK(BM_EqualVarcharColumnConstant);

void BM_LikePrefix(benchmark::State& state) {
  std::mt19937_64 rng(8);
  const Value pattern = Value::Varchar("abc%");
  Call call("like", Columns(Words(rng), ConstantText("abc%")), {nullptr, &pattern});
  call.Run(state);
}
BENCHMARK(BM_LikePrefix);

void BM_LikeContains(benchmark::State& state) {
  std::mt19937_64 rng(9);
  const Value pattern = Value::Varchar("%abc%");
  Call call("like", Columns(Words(rng), ConstantText("%abc%")), {nullptr, &pattern});
  call.Run(state);
}
BENCHMARK(BM_LikeContains);

void BM_LikeGeneral(benchmark::State& state) {
  std::mt19937_64 rng(10);
  const Value pattern = Value::Varchar("a%b_c%");
  Call call("like", Columns(Words(rng), ConstantText("a%b_c%")), {nullptr, &pattern});
  call.Run(state);
}
BENCHMARK(BM_LikeGeneral);

void BM_DateTrunc(benchmark::State& state, const char* unit, bool ordered) {
  std::mt19937_64 rng(11);
  const Value u = Value::Varchar(unit);
  Call call("date_trunc", Columns(ConstantText(unit), Timestamps(rng, ordered)), {&u});
  call.Run(state);
}
BENCHMARK_CAPTURE(BM_DateTrunc, hour_random, "hour", false);
BENCHMARK_CAPTURE(BM_DateTrunc, month_random, "month", false);
BENCHMARK_CAPTURE(BM_DateTrunc, month_ordered, "month", true);

void BM_Extract(benchmark::State& state, const char* field, bool ordered) {
  std::mt19937_64 rng(13);
  const Value f = Value::Varchar(field);
  Call call("extract", Columns(ConstantText(field), Timestamps(rng, ordered)), {&f});
  call.Run(state);
}
BENCHMARK_CAPTURE(BM_Extract, year_random, "year", false);
BENCHMARK_CAPTURE(BM_Extract, year_ordered, "year", true);
BENCHMARK_CAPTURE(BM_Extract, hour_random, "hour", false);

void BM_CastVarcharToBigint(benchmark::State& state) {
  std::mt19937_64 rng(14);
  Column text(DataType::Varchar());
  std::uniform_int_distribution<int64_t> d(-10'000'000, 10'000'000);
  for (int64_t i = 0; i < kRows; ++i) text.AppendString(std::to_string(d(rng)));
  Result<FunctionBinding> b = BindCast(DataType::Varchar(), DataType::Int64());
  if (!b.ok()) std::abort();
  std::vector<Column> cols;
  cols.push_back(std::move(text));
  Call call(std::move(b).value(), std::move(cols));
  call.Run(state);
}
BENCHMARK(BM_CastVarcharToBigint);

void BM_CastBigintToVarchar(benchmark::State& state) {
  std::mt19937_64 rng(15);
  Result<FunctionBinding> b = BindCast(DataType::Int64(), DataType::Varchar());
  if (!b.ok()) std::abort();
  std::vector<Column> cols;
  cols.push_back(Int64s(rng, -10'000'000, 10'000'000));
  Call call(std::move(b).value(), std::move(cols));
  call.Run(state);
}
BENCHMARK(BM_CastBigintToVarchar);

void BM_Upper(benchmark::State& state) {
  std::mt19937_64 rng(16);
  Call call("upper", Columns(Words(rng)), {});
  call.Run(state);
}
BENCHMARK(BM_Upper);

void BM_Substring(benchmark::State& state) {
  std::mt19937_64 rng(17);
  Call call("substring", Columns(Words(rng), ConstantInt64(2), ConstantInt64(3)), {});
  call.Run(state);
}
BENCHMARK(BM_Substring);

}  // namespace
}  // namespace weir

BENCHMARK_MAIN();
