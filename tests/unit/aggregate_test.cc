// Aggregate accumulators (src/exec/aggregate): count(*), count, sum, avg, min, max.
//
// Harness owns the group states the way the hash-aggregate operator does (one contiguous
// payload array, the aggregate's state at a non-zero offset inside each payload, guard bytes
// around it that must survive), feeds columns built from SQL literal text, and reads results
// back as text through Finalize. Results are compared as text ("NULL" for NULL).
//
// The randomized differential test at the end replays random changelogs (inserts, retractions
// of live values, NULLs, masks, constant columns) against a naive reference that keeps every
// live value in a std::map and recomputes each result from scratch; its seed is printed and can
// be fixed with WEIR_TEST_SEED=<n>.
#include <gtest/gtest.h>

#include "test_util.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "exec/aggregate/aggregate_function.h"
#include "types/datetime.h"

namespace weir {
namespace {

using Cell = std::optional<std::string>;
constexpr std::nullopt_t kNull = std::nullopt;

// ---- columns from literal text ----------------------------------------------------------------

void AppendText(Column* c, const Cell& cell) {
  if (!cell) {
    c->AppendNull();
    return;
  }
  const std::string& s = *cell;
  const DataType t = c->type();
  switch (t.id) {
    case TypeId::kBoolean:
      c->Append<uint8_t>(s == "true" ? 1 : 0);
      break;
    case TypeId::kInt32:
      c->Append<int32_t>(static_cast<int32_t>(std::stol(s)));
      break;
    case TypeId::kInt64:
      c->Append<int64_t>(std::stoll(s));
      break;
    case TypeId::kDouble:
      c->Append<double>(std::strtod(s.c_str(), nullptr));
      break;
    case TypeId::kDecimal: {
      int64_t v = 0;
      EXPECT_TRUE(ParseDecimal(s, t.precision, t.scale, &v)) << s;
      c->Append<int64_t>(v);
      break;
    }
    case TypeId::kVarchar:
      c->AppendString(s);
      break;
    case TypeId::kTimestamp: {
      int64_t us = 0;
      EXPECT_TRUE(ParseTimestamp(s, &us)) << s;
      c->Append<int64_t>(us);
      break;
    }
    case TypeId::kInterval: {
      Interval iv;
      EXPECT_TRUE(ParseInterval(s, "", &iv)) << s;
      c->Append<Interval>(iv);
      break;
    }
    case TypeId::kNull:
      c->AppendNull();
      break;
  }
}

Column Col(DataType type, const std::vector<Cell>& cells) {
  Column c(type);
  for (const Cell& cell : cells) AppendText(&c, cell);
  return c;
}

Column Constant(DataType type, const Cell& cell, int64_t rows) {
  Column c(type);
  AppendText(&c, cell);
  c.MakeConstant(rows);
  return c;
}

/// Canonical text of a literal of `type` (as Finalize's output would print it).
std::string Canon(DataType type, const Cell& cell) { return Col(type, {cell}).ValueToString(0); }

// ---- group states as the operator keeps them --------------------------------------------------

constexpr uint32_t kPrefixBytes = 16;  // other aggregates' states before ours in the payload
constexpr uint32_t kGuardBytes = 8;    // after ours
constexpr uint8_t kGuard = 0xA5;

class Harness {
 public:
  Harness(std::string_view name, DataType type, bool retractable, int groups = 1) : type_(type) {
    weir::Result<std::unique_ptr<AggregateFunction>> made =
        MakeAggregateFunction(name, type, retractable);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    fn_ = std::move(made).value();
    stride_ = kPrefixBytes + fn_->state_bytes() + kGuardBytes;
    storage_.assign(stride_ * static_cast<size_t>(groups) / 8, 0);
    std::memset(storage_.data(), kGuard, storage_.size() * 8);
    for (int g = 0; g < groups; ++g) fn_->Init(state(g));
  }
  ~Harness() {
    for (int g = 0; g < groups(); ++g) {
      fn_->Destroy(state(g));
      const uint8_t* p = payload(g);
      for (uint32_t k = 0; k < kPrefixBytes; ++k) EXPECT_EQ(p[k], kGuard) << "prefix byte " << k;
      const uint8_t* tail = p + kPrefixBytes + fn_->state_bytes();
      for (uint32_t k = 0; k < kGuardBytes; ++k) EXPECT_EQ(tail[k], kGuard) << "guard byte " << k;
    }
  }
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  const AggregateFunction& fn() const { return *fn_; }
  int groups() const { return static_cast<int>(storage_.size() * 8 / stride_); }
  uint8_t* payload(int g) { return reinterpret_cast<uint8_t*>(storage_.data()) + g * stride_; }
  uint8_t* state(int g) { return payload(g) + kPrefixBytes; }

  /// Updates with rows of `arg` (nullptr for count(*), then `rows` rows) into `group_of`
  /// groups (empty: all rows into group 0).
  Status Update(const Column* arg, std::vector<int> group_of = {},
                const std::vector<Op>* signs = nullptr, const std::vector<uint8_t>* mask = nullptr,
                int64_t rows = -1) {
    const int64_t n = rows >= 0 ? rows : arg != nullptr ? arg->length() : 0;
    if (group_of.empty()) group_of.assign(static_cast<size_t>(n), 0);
    std::vector<uint8_t*> states;
    for (int64_t i = 0; i < n; ++i) states.push_back(payload(group_of[static_cast<size_t>(i)]));
    return fn_->Update(states.data(), kPrefixBytes, arg, signs ? signs->data() : nullptr,
                       mask ? mask->data() : nullptr, n);
  }
  /// Inserts literal values into group `g`.
  Status Insert(const std::vector<Cell>& cells, int g = 0) {
    Column c = Col(type_, cells);
    return Update(&c, std::vector<int>(cells.size(), g));
  }
  /// Applies `cells` with the given ops to group `g`.
  Status Apply(const std::vector<Cell>& cells, const std::vector<Op>& ops, int g = 0) {
    Column c = Col(type_, cells);
    return Update(&c, std::vector<int>(cells.size(), g), &ops);
  }
  Status Retract(const std::vector<Cell>& cells, int g = 0) {
    return Apply(cells, std::vector<Op>(cells.size(), Op::kDelete), g);
  }

  std::string Result(int g = 0) {
    Column out(fn_->result_type());
    fn_->Finalize(state(g), &out);
    EXPECT_EQ(out.length(), 1);
    return out.ValueToString(0);
  }
  Status Merge(int dst, int src) { return fn_->Merge(state(dst), state(src)); }
  int64_t RowCount(int g = 0) { return fn_->RowCount(state(g)); }

 private:
  DataType type_;
  std::unique_ptr<AggregateFunction> fn_;
  size_t stride_ = 0;
  std::vector<uint64_t> storage_;  // 8-byte aligned payloads
};

std::string Text(const Status& st) { return st.ok() ? "OK" : st.message(); }

// ---- binding -----------------------------------------------------------------------------------

TEST(AggregateBind, ResultTypes) {
  auto rt = [](std::string_view name, DataType t) {
    Result<DataType> r = AggregateResultType(name, t);
    return r.ok() ? r.value().ToString() : "error: " + r.status().message();
  };
  EXPECT_EQ(rt("count_star", DataType::Null()), "BIGINT");
  EXPECT_EQ(rt("count", DataType::Varchar()), "BIGINT");
  EXPECT_EQ(rt("count", DataType::Null()), "BIGINT");
  EXPECT_EQ(rt("sum", DataType::Int32()), "BIGINT");
  EXPECT_EQ(rt("sum", DataType::Int64()), "BIGINT");
  EXPECT_EQ(rt("sum", DataType::Decimal(10, 2)), "DECIMAL(18,2)");
  EXPECT_EQ(rt("sum", DataType::Double()), "DOUBLE");
  EXPECT_EQ(rt("avg", DataType::Int32()), "DOUBLE");
  EXPECT_EQ(rt("avg", DataType::Int64()), "DOUBLE");
  EXPECT_EQ(rt("avg", DataType::Double()), "DOUBLE");
  EXPECT_EQ(rt("avg", DataType::Decimal(10, 2)), "DECIMAL(18,6)");
  EXPECT_EQ(rt("avg", DataType::Decimal(18, 9)), "DECIMAL(18,9)");
  EXPECT_EQ(rt("min", DataType::Decimal(7, 3)), "DECIMAL(7,3)");
  EXPECT_EQ(rt("max", DataType::IntervalType()), "INTERVAL");
  EXPECT_EQ(rt("MAX", DataType::Varchar()), "VARCHAR");
  EXPECT_EQ(rt("sum", DataType::Varchar()), "error: function sum(VARCHAR) does not exist");
  EXPECT_EQ(rt("avg", DataType::Timestamp()), "error: function avg(TIMESTAMP) does not exist");
  EXPECT_EQ(rt("sum", DataType::Boolean()), "error: function sum(BOOLEAN) does not exist");
  EXPECT_EQ(rt("min", DataType::Null()), "error: function min(NULL) does not exist");
  EXPECT_EQ(rt("median", DataType::Int64()), "error: aggregate function median() does not exist");

  Result<std::unique_ptr<AggregateFunction>> bad =
      MakeAggregateFunction("sum", DataType::IntervalType(), false);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kBindError);
  EXPECT_EQ(bad.status().message(), "function sum(INTERVAL) does not exist");
}

TEST(AggregateBind, StateBytes) {  // the layouts documented in src/exec/aggregate/README.md
  auto bytes = [](std::string_view name, DataType t, bool retractable) {
    return MakeAggregateFunction(name, t, retractable).value()->state_bytes();
  };
  EXPECT_EQ(bytes("count_star", DataType::Null(), true), 8u);
  EXPECT_EQ(bytes("sum", DataType::Int64(), false), 16u);
  EXPECT_EQ(bytes("sum", DataType::Int64(), true), 24u);
  EXPECT_EQ(bytes("sum", DataType::Double(), true), 40u);
  EXPECT_EQ(bytes("avg", DataType::Decimal(10, 2), false), 24u);
  EXPECT_EQ(bytes("min", DataType::Boolean(), false), 8u);
  EXPECT_EQ(bytes("min", DataType::Double(), false), 16u);
  EXPECT_EQ(bytes("max", DataType::IntervalType(), false), 24u);
  EXPECT_EQ(bytes("max", DataType::Varchar(), false), 24u);
  EXPECT_EQ(bytes("max", DataType::Varchar(), true), 8u);
}

// ---- every function x type ---------------------------------------------------------------------

/// Five values of a type in increasing order.
struct Sample {
  DataType type;
  Cell xlo, lo, mid, hi, xhi;
};

const std::vector<Sample>& Samples() {
  static const std::vector<Sample> kSamples = {
      {DataType::Boolean(), "false", "false", "false", "true", "true"},
      {DataType::Int32(), "-100", "-5", "2", "7", "100"},
      {DataType::Int64(), "-100", "-5", "2", "7", "100"},
      {DataType::Double(), "-100", "-1.5", "0.25", "3", "100"},
      {DataType::Decimal(10, 2), "-100.00", "-1.50", "0.25", "3.00", "100.00"},
      {DataType::Varchar(), "", "a", "apple", "banana", "\xC3\xA9t\xC3\xA9"},
      {DataType::Timestamp(), "1969-12-31 23:59:59", "1999-12-31 23:59:59", "2000-01-01 00:00:00",
       "2024-02-29 12:00:00.5", "2100-01-01 00:00:00"},
      {DataType::IntervalType(), "-1 day", "1 hour", "1 day", "1 month", "1 year"},
  };
  return kSamples;
}

struct Case {
  const char* fn;
  TypeId type;
  const char* all;       // of {lo, mid, hi} (plus a NULL row)
  const char* constant;  // of three rows of mid
};

/// Expected results of sum / avg (min / max / count are derived from the sample).
const std::vector<Case>& NumericCases() {
  static const std::vector<Case> kCases = {
      {"sum", TypeId::kInt32, "4", "6"},
      {"sum", TypeId::kInt64, "4", "6"},
      {"sum", TypeId::kDouble, "1.75", "0.75"},
      {"sum", TypeId::kDecimal, "1.75", "0.75"},
      {"avg", TypeId::kInt32, "1.3333333333333333", "2"},
      {"avg", TypeId::kInt64, "1.3333333333333333", "2"},
      {"avg", TypeId::kDouble, "0.5833333333333334", "0.25"},
      {"avg", TypeId::kDecimal, "0.583333", "0.250000"},
  };
  return kCases;
}

bool NeedsRetractable(std::string_view fn) { return fn == "min" || fn == "max"; }

void CheckFunction(std::string_view fn, const Sample& s, const std::string& all,
                   const std::string& constant, bool retractable) {
  SCOPED_TRACE(std::string(fn) + "(" + s.type.ToString() + ")" +
               (retractable ? " retractable" : " append-only"));
  const bool is_count = fn == "count" || fn == "count_star";
  const std::string empty = is_count ? "0" : "NULL";
  const DataType t = s.type;
  const Column* no_arg = nullptr;
  auto arg_of = [&](const Column& c) { return fn == "count_star" ? no_arg : &c; };
  // Result of a fresh state fed `cells` in one call.
  auto result_of = [&](const std::vector<Cell>& cells) {
    Harness h(fn, t, retractable);
    Column c = Col(t, cells);
    EXPECT_EQ(Text(h.Update(arg_of(c), {}, nullptr, nullptr, c.length())), "OK");
    return h.Result();
  };

  // Empty group; several rows (one NULL) into one state.
  {
    Harness h(fn, t, retractable);
    EXPECT_GT(h.fn().state_bytes(), 0u);
    EXPECT_EQ(h.fn().state_bytes() % 8, 0u);
    EXPECT_EQ(h.Result(), empty);
    Column c = Col(t, {s.lo, kNull, s.hi, s.mid});
    ASSERT_EQ(Text(h.Update(arg_of(c), {}, nullptr, nullptr, 4)), "OK");
    EXPECT_EQ(h.Result(), fn == "count_star" ? "4" : all);
    if (is_count) {
      EXPECT_EQ(h.RowCount(), fn == "count_star" ? 4 : 3);
    }
    EXPECT_EQ(h.Result(), fn == "count_star" ? "4" : all);  // Finalize does not consume

    // Explicit all-insert signs give the same answer.
    Harness h2(fn, t, retractable);
    std::vector<Op> ins(4, Op::kInsert);
    ASSERT_EQ(Text(h2.Update(arg_of(c), {}, &ins, nullptr, 4)), "OK");
    EXPECT_EQ(h2.Result(), h.Result());
  }

  // A mask: the extreme rows are not selected.
  {
    Harness h(fn, t, retractable);
    Column c = Col(t, {s.xlo, s.lo, kNull, s.xhi, s.hi, s.mid, s.xlo});
    std::vector<uint8_t> mask = {0, 1, 1, 0, 1, 1, 0};
    ASSERT_EQ(Text(h.Update(arg_of(c), {}, nullptr, &mask, 7)), "OK");
    EXPECT_EQ(h.Result(), fn == "count_star" ? "4" : all);
  }

  // Constant columns: a value standing for 3 rows; a NULL standing for 3 rows.
  {
    Harness h(fn, t, retractable);
    Column c = Constant(t, s.mid, 3);
    ASSERT_EQ(Text(h.Update(arg_of(c), {}, nullptr, nullptr, 3)), "OK");
    EXPECT_EQ(h.Result(), constant);
    Harness hn(fn, t, retractable);
    Column cn = Constant(t, kNull, 3);
    ASSERT_EQ(Text(hn.Update(arg_of(cn), {}, nullptr, nullptr, 3)), "OK");
    EXPECT_EQ(hn.Result(), fn == "count_star" ? "3" : empty);
    // A constant under a mask.
    Harness hm(fn, t, retractable);
    std::vector<uint8_t> mask = {1, 0, 1, 0};
    Column c4 = Constant(t, s.mid, 4);
    ASSERT_EQ(Text(hm.Update(arg_of(c4), {}, nullptr, &mask, 4)), "OK");
    EXPECT_EQ(hm.Result(), result_of({s.mid, s.mid}));
  }

  // Rows for several groups in one call.
  {
    Harness h(fn, t, retractable, 3);
    Column c = Col(t, {s.lo, s.mid, s.mid, kNull, s.hi, s.mid, s.mid});
    ASSERT_EQ(Text(h.Update(arg_of(c), {0, 1, 2, 0, 0, 1, 0}, nullptr, nullptr, 7)), "OK");
    EXPECT_EQ(h.Result(0), result_of({s.lo, kNull, s.hi, s.mid}));
    EXPECT_EQ(h.Result(1), result_of({s.mid, s.mid}));
    EXPECT_EQ(h.Result(2), result_of({s.mid}));
  }

  // Merge: {lo, NULL} + {hi, mid} == {lo, NULL, hi, mid}; merging empty states changes nothing.
  {
    Harness h(fn, t, retractable, 4);
    Column a = Col(t, {s.lo, kNull});
    Column b = Col(t, {s.hi, s.mid});
    ASSERT_EQ(Text(h.Update(arg_of(a), {0, 0}, nullptr, nullptr, 2)), "OK");
    ASSERT_EQ(Text(h.Update(arg_of(b), {1, 1}, nullptr, nullptr, 2)), "OK");
    ASSERT_EQ(Text(h.Merge(0, 1)), "OK");
    EXPECT_EQ(h.Result(0), fn == "count_star" ? "4" : all);
    EXPECT_EQ(h.Result(1), result_of({s.hi, s.mid}));  // src is left as it was
    ASSERT_EQ(Text(h.Merge(0, 2)), "OK");              // empty src
    EXPECT_EQ(h.Result(0), fn == "count_star" ? "4" : all);
    ASSERT_EQ(Text(h.Merge(3, 0)), "OK");  // empty dst
    EXPECT_EQ(h.Result(3), fn == "count_star" ? "4" : all);
  }

  // Retractions back to empty, then new rows.
  if (retractable || !NeedsRetractable(fn)) {
    Harness h(fn, t, retractable);
    Column c = Col(t, {s.lo, kNull, s.hi, s.mid});
    ASSERT_EQ(Text(h.Update(arg_of(c), {}, nullptr, nullptr, 4)), "OK");
    Column r = Col(t, {s.hi, kNull, s.lo, s.mid});
    std::vector<Op> del(4, Op::kDelete);
    ASSERT_EQ(Text(h.Update(arg_of(r), {}, &del, nullptr, 4)), "OK");
    EXPECT_EQ(h.Result(), empty);
    if (is_count) {
      EXPECT_EQ(h.RowCount(), 0);
    }
    ASSERT_EQ(Text(h.Update(arg_of(c), {}, nullptr, nullptr, 4)), "OK");
    EXPECT_EQ(h.Result(), fn == "count_star" ? "4" : all);
  }
}

TEST(Aggregate, EveryFunctionAndType) {
  for (bool retractable : {false, true}) {
    for (const Sample& s : Samples()) {
      const std::string n3 = "3";
      CheckFunction("count_star", s, "4", n3, retractable);
      CheckFunction("count", s, "3", n3, retractable);
      CheckFunction("min", s, Canon(s.type, s.lo), Canon(s.type, s.mid), retractable);
      CheckFunction("max", s, Canon(s.type, s.hi), Canon(s.type, s.mid), retractable);
      for (const Case& c : NumericCases()) {
        if (c.type == s.type.id) CheckFunction(c.fn, s, c.all, c.constant, retractable);
      }
    }
  }
}

// ---- count --------------------------------------------------------------------------------------

TEST(Aggregate, CountStarWithoutArgument) {
  Harness h("count_star", DataType::Null(), true, 2);
  std::vector<Op> ops = {Op::kInsert, Op::kInsert, Op::kDelete, Op::kInsert, Op::kInsert};
  std::vector<uint8_t> mask = {1, 1, 1, 0, 1};
  ASSERT_EQ(Text(h.Update(nullptr, {0, 0, 0, 0, 1}, &ops, &mask, 5)), "OK");
  EXPECT_EQ(h.Result(0), "1");
  EXPECT_EQ(h.Result(1), "1");
  EXPECT_EQ(h.RowCount(0), 1);
  ASSERT_EQ(Text(h.Update(nullptr, {0}, nullptr, nullptr, 0)), "OK");  // n == 0
  EXPECT_EQ(h.fn().name(), "count");
}

TEST(Aggregate, CountOfNullTypedArgumentIsZero) {
  Harness h("count", DataType::Null(), false);
  Column c(DataType::Null());  // whatever the column holds, it is NULL
  c.Append<int64_t>(0);
  c.MakeConstant(5);
  ASSERT_EQ(Text(h.Update(&c, {}, nullptr, nullptr, 5)), "OK");
  EXPECT_EQ(h.Result(), "0");
}

// ---- sum / avg: overflow, exactness, rounding
// ----------------------------------------------------

const std::string kMax64 = std::to_string(std::numeric_limits<int64_t>::max());
const std::string kMin64 = std::to_string(std::numeric_limits<int64_t>::min());

TEST(Aggregate, SumBigintOverflowAppendOnly) {
  Harness h("sum", DataType::Int64(), false, 3);
  ASSERT_EQ(Text(h.Insert({kMax64})), "OK");
  Status st = h.Insert({"1"});
  EXPECT_EQ(st.code(), StatusCode::kDataError);
  EXPECT_EQ(st.message(), "BIGINT out of range in sum()");
  // Even when the sum would come back in range later in the same batch.
  ASSERT_EQ(Text(h.Insert({kMax64}, 1)), "OK");
  EXPECT_EQ(Text(h.Insert({"1", "-1"}, 1)), "BIGINT out of range in sum()");
  // Negative side: MIN is fine, MIN - 1 is not.
  ASSERT_EQ(Text(h.Insert({kMin64, "0"}, 2)), "OK");
  EXPECT_EQ(h.Result(2), kMin64);
  EXPECT_EQ(Text(h.Insert({"-1"}, 2)), "BIGINT out of range in sum()");
  // INT inputs accumulate in BIGINT.
  Harness hi("sum", DataType::Int32(), false);
  ASSERT_EQ(Text(hi.Insert({"2147483647", "2147483647"})), "OK");
  EXPECT_EQ(hi.Result(), "4294967294");
}

TEST(Aggregate, SumBigintOverflowMerge) {
  for (bool retractable : {false, true}) {
    Harness h("sum", DataType::Int64(), retractable, 2);
    ASSERT_EQ(Text(h.Insert({kMax64}, 0)), "OK");
    ASSERT_EQ(Text(h.Insert({"1"}, 1)), "OK");
    EXPECT_EQ(Text(h.Merge(0, 1)), "BIGINT out of range in sum()");
  }
}

TEST(Aggregate, SumBigintRetractableToleratesTransientOverflow) {
  Harness h("sum", DataType::Int64(), true, 2);
  // Out of range after the second row, back in range at the end of the batch.
  ASSERT_EQ(Text(h.Apply({kMax64, "5", "5"}, {Op::kInsert, Op::kInsert, Op::kDelete})), "OK");
  EXPECT_EQ(h.Result(), kMax64);
  ASSERT_EQ(Text(h.Apply({"3", "3"}, {Op::kInsert, Op::kDelete})), "OK");
  EXPECT_EQ(h.Result(), kMax64);
  // Out of range at the end of a batch: an error.
  EXPECT_EQ(Text(h.Apply({"1"}, {Op::kInsert}, 1)), "OK");
  Status st = h.Apply({kMax64}, {Op::kInsert}, 1);
  EXPECT_EQ(st.code(), StatusCode::kDataError);
  EXPECT_EQ(st.message(), "BIGINT out of range in sum()");
}

TEST(Aggregate, SumDecimalOverflow) {
  const DataType d = DataType::Decimal(18, 2);
  for (bool retractable : {false, true}) {
    Harness h("sum", d, retractable);
    ASSERT_EQ(Text(h.Insert({"9999999999999999.99"})), "OK");
    EXPECT_EQ(h.Result(), "9999999999999999.99");
    EXPECT_EQ(Text(h.Insert({"0.01"})), "numeric field overflow: sum() does not fit DECIMAL(18,2)");
  }
}

TEST(Aggregate, DecimalSumIsExact) {
  const DataType d = DataType::Decimal(5, 1);
  for (bool retractable : {false, true}) {
    Harness h("sum", d, retractable);
    ASSERT_EQ(Text(h.Insert({"0.1", "0.2"})), "OK");
    EXPECT_EQ(h.Result(), "0.3");
    EXPECT_EQ(h.fn().result_type(), DataType::Decimal(18, 1));
    ASSERT_EQ(Text(h.Retract({"0.1"})), "OK");
    EXPECT_EQ(h.Result(), "0.2");
  }
  Harness hd("sum", DataType::Double(), false);
  ASSERT_EQ(Text(hd.Insert({"0.1", "0.2"})), "OK");
  EXPECT_EQ(hd.Result(), "0.30000000000000004");  // plain double addition, as documented
}

TEST(Aggregate, AvgDecimalRoundsHalfAwayFromZero) {
  auto avg = [](DataType t, const std::vector<Cell>& cells) {
    Harness h("avg", t, true);
    EXPECT_EQ(Text(h.Insert(cells)), "OK");
    return h.Result();
  };
  const DataType d2 = DataType::Decimal(10, 2);
  EXPECT_EQ(avg(d2, {"0.01", "0.00", "0.00"}), "0.003333");
  EXPECT_EQ(avg(d2, {"0.01", "0.01", "0.00"}), "0.006667");
  EXPECT_EQ(avg(d2, {"-0.01", "-0.01", "0.00"}), "-0.006667");
  EXPECT_EQ(avg(d2, {"1.00", "2.00"}), "1.500000");
  const DataType d6 = DataType::Decimal(18, 6);
  EXPECT_EQ(avg(d6, {"0.000001", "0.000000"}), "0.000001");  // exactly half: away from 0
  EXPECT_EQ(avg(d6, {"-0.000001", "0.000000"}), "-0.000001");
  EXPECT_EQ(avg(d6, {"0.000001", "0.000000", "0.000000", "0.000000"}), "0.000000");  // 0.25
  const DataType d8 = DataType::Decimal(12, 8);  // scale above 6 is kept
  EXPECT_EQ(avg(d8, {"0.00000001", "0.00000000"}), "0.00000001");
  EXPECT_EQ(avg(DataType::Decimal(3, 0), {"1", "2", "2"}), "1.666667");
}

TEST(Aggregate, AvgDecimalOverflow) {
  const DataType d = DataType::Decimal(18, 0);
  for (bool retractable : {false, true}) {
    Harness h("avg", d, retractable, 2);
    // 10^12 and -10^12 scaled to 6 digits do not fit, but their average (0) does.
    ASSERT_EQ(Text(h.Insert({"1000000000000", "-1000000000000"})), "OK");
    EXPECT_EQ(h.Result(), "0.000000");
    EXPECT_EQ(Text(h.Insert({"1000000000000"}, 1)),
              "numeric field overflow: avg() does not fit DECIMAL(18,6)");
  }
  // The largest average that fits.
  Harness h("avg", d, false);
  ASSERT_EQ(Text(h.Insert({"999999999999", "999999999999"})), "OK");
  EXPECT_EQ(h.Result(), "999999999999.000000");
}

TEST(Aggregate, AvgIntegersUseTheExactSum) {
  for (bool retractable : {false, true}) {
    Harness h("avg", DataType::Int64(), retractable);
    // The int64 sum would overflow; the 128-bit one does not.
    ASSERT_EQ(Text(h.Insert({kMax64, kMax64, kMax64})), "OK");
    EXPECT_EQ(h.Result(), "9223372036854775808");  // (double)MAX
    ASSERT_EQ(Text(h.Retract({kMax64, kMax64})), "OK");
    ASSERT_EQ(Text(h.Insert({"1"})), "OK");
    EXPECT_EQ(h.Result(), "4611686018427387904");  // 2^62
  }
}

TEST(Aggregate, RetractableDoubleSumSurvivesNanAndInfinity) {
  for (const char* fn : {"sum", "avg"}) {
    Harness h(fn, DataType::Double(), true);
    ASSERT_EQ(Text(h.Insert({"1", "nan"})), "OK");
    EXPECT_EQ(h.Result(), "NaN");
    ASSERT_EQ(Text(h.Retract({"nan"})), "OK");
    EXPECT_EQ(h.Result(), "1");
    ASSERT_EQ(Text(h.Insert({"inf", "-inf"})), "OK");
    EXPECT_EQ(h.Result(), "NaN");
    ASSERT_EQ(Text(h.Retract({"-inf"})), "OK");
    EXPECT_EQ(h.Result(), "Infinity");
    ASSERT_EQ(Text(h.Retract({"inf", "1"})), "OK");
    EXPECT_EQ(h.Result(), "NULL");
    // Rounding residue does not survive the group becoming empty.
    ASSERT_EQ(Text(h.Insert({"0.1", "0.2"})), "OK");
    ASSERT_EQ(Text(h.Retract({"0.2", "0.1"})), "OK");
    ASSERT_EQ(Text(h.Insert({"1e-300"})), "OK");
    EXPECT_EQ(h.Result(), "1e-300");
    // Merged states keep the counts of NaN and infinities apart too.
    Harness m(fn, DataType::Double(), true, 3);
    ASSERT_EQ(Text(m.Insert({"1"}, 0)), "OK");
    ASSERT_EQ(Text(m.Insert({"nan", "2"}, 1)), "OK");
    ASSERT_EQ(Text(m.Insert({"inf", "-inf"}, 2)), "OK");
    ASSERT_EQ(Text(m.Merge(0, 1)), "OK");
    EXPECT_EQ(m.Result(0), "NaN");
    ASSERT_EQ(Text(m.Merge(0, 2)), "OK");
    ASSERT_EQ(Text(m.Retract({"nan"}, 0)), "OK");
    EXPECT_EQ(m.Result(0), "NaN");  // +inf and -inf
    ASSERT_EQ(Text(m.Retract({"-inf"}, 0)), "OK");
    EXPECT_EQ(m.Result(0), "Infinity");
    ASSERT_EQ(Text(m.Retract({"inf"}, 0)), "OK");
    EXPECT_EQ(m.Result(0), std::string_view(fn) == "sum" ? "3" : "1.5");
    EXPECT_EQ(Text(m.Retract({"1", "2"}, 0)), "OK");
    EXPECT_EQ(m.Result(0), "NULL");
  }
}

// ---- min / max ----------------------------------------------------------------------------------

TEST(Aggregate, RetractableMinMaxFallBackToTheNextValue) {
  Harness mn("min", DataType::Int64(), true);
  Harness mx("max", DataType::Int64(), true);
  for (Harness* h : {&mn, &mx}) ASSERT_EQ(Text(h->Insert({"5", "3", "9", "3", "9", "7"})), "OK");
  EXPECT_EQ(mn.Result(), "3");
  EXPECT_EQ(mx.Result(), "9");
  for (Harness* h : {&mn, &mx}) ASSERT_EQ(Text(h->Retract({"3", "9"})), "OK");
  EXPECT_EQ(mn.Result(), "3");  // a second copy remains
  EXPECT_EQ(mx.Result(), "9");
  for (Harness* h : {&mn, &mx}) ASSERT_EQ(Text(h->Retract({"3", "9"})), "OK");
  EXPECT_EQ(mn.Result(), "5");
  EXPECT_EQ(mx.Result(), "7");
  for (Harness* h : {&mn, &mx}) ASSERT_EQ(Text(h->Retract({"5", "7"})), "OK");
  EXPECT_EQ(mn.Result(), "NULL");
  EXPECT_EQ(mx.Result(), "NULL");
}

TEST(Aggregate, MinMaxRetractionErrors) {
  // An append-only min/max cannot take a retraction: the operator must ask for the
  // retractable form.
  Harness a("min", DataType::Int32(), false);
  ASSERT_EQ(Text(a.Insert({"1"})), "OK");
  Status st = a.Retract({"1"});
  EXPECT_EQ(st.code(), StatusCode::kInternal);
  EXPECT_EQ(st.message(), "min() was created append-only but received a retraction");
  // A retractable one rejects retracting a value its group does not hold.
  Harness r("max", DataType::Varchar(), true);
  st = r.Retract({"x"});
  EXPECT_EQ(st.code(), StatusCode::kDataError);
  EXPECT_EQ(st.message(), "max(): retraction of a value that is not in its group");
  ASSERT_EQ(Text(r.Insert({"y"})), "OK");
  EXPECT_EQ(Text(r.Retract({"x"})), "max(): retraction of a value that is not in its group");
  EXPECT_EQ(r.Result(), "y");
}

TEST(Aggregate, VarcharMinMaxOwnTheirStrings) {
  for (bool retractable : {false, true}) {
    SCOPED_TRACE(retractable ? "retractable" : "append-only");
    Harness mn("min", DataType::Varchar(), retractable, 2);
    Harness mx("max", DataType::Varchar(), retractable, 2);
    std::string longest(1000, 'z');
    for (Harness* h : {&mn, &mx}) {
      // The input column dies before Finalize: the state must hold a copy.
      Column c = Col(DataType::Varchar(), {"m", "mm", kNull, "a", longest, "", "\xFF", "b"});
      ASSERT_EQ(Text(h->Update(&c, {0, 0, 0, 0, 0, 1, 1, 1})), "OK");
    }
    EXPECT_EQ(mn.Result(0), "a");
    EXPECT_EQ(mx.Result(0), longest);
    EXPECT_EQ(mn.Result(1), "");      // the empty string is a value, not NULL
    EXPECT_EQ(mx.Result(1), "\xFF");  // bytes compare unsigned
    for (Harness* h : {&mn, &mx}) ASSERT_EQ(Text(h->Merge(0, 1)), "OK");
    EXPECT_EQ(mn.Result(0), "");
    EXPECT_EQ(mx.Result(0), "\xFF");
    // Growing and shrinking the kept string, then Destroy and reuse.
    Harness g("max", DataType::Varchar(), retractable);
    for (int len = 1; len <= 300; len += 7)
      ASSERT_EQ(Text(g.Insert({std::string(len, 'q')})), "OK");
    EXPECT_EQ(g.Result(), std::string(295, 'q'));
    ASSERT_EQ(Text(g.Insert({"r"})), "OK");
    EXPECT_EQ(g.Result(), "r");
    g.fn().Destroy(g.state(0));
    g.fn().Init(g.state(0));
    EXPECT_EQ(g.Result(), "NULL");
    ASSERT_EQ(Text(g.Insert({"again"})), "OK");
    EXPECT_EQ(g.Result(), "again");
  }
}

TEST(Aggregate, DoubleMinMaxOrderNanAndSignedZero) {
  for (bool retractable : {false, true}) {
    SCOPED_TRACE(retractable ? "retractable" : "append-only");
    Harness mx("max", DataType::Double(), retractable);
    Harness mn("min", DataType::Double(), retractable);
    for (Harness* h : {&mn, &mx}) ASSERT_EQ(Text(h->Insert({"1", "nan", "-inf", "inf"})), "OK");
    EXPECT_EQ(mx.Result(), "NaN");  // NaN sorts above every number, as PostgreSQL
    EXPECT_EQ(mn.Result(), "-Infinity");
    // -0.0 and +0.0 are equal in SQL; the result does not depend on arrival order.
    for (const std::vector<Cell>& order :
         {std::vector<Cell>{"-0", "0"}, std::vector<Cell>{"0", "-0"}}) {
      Harness a("min", DataType::Double(), retractable);
      Harness b("max", DataType::Double(), retractable);
      ASSERT_EQ(Text(a.Insert(order)), "OK");
      ASSERT_EQ(Text(b.Insert(order)), "OK");
      EXPECT_EQ(a.Result(), "-0");
      EXPECT_EQ(b.Result(), "0");
    }
  }
}

TEST(Aggregate, IntervalMinMaxByNominalLength) {
  for (bool retractable : {false, true}) {
    Harness mx("max", DataType::IntervalType(), retractable);
    Harness mn("min", DataType::IntervalType(), retractable);
    for (Harness* h : {&mn, &mx}) {
      ASSERT_EQ(Text(h->Insert({"29 days", "1 month", "30 days", "25 hours", "-1 year"})), "OK");
    }
    // '1 month' and '30 days' have the same nominal length; ties go by months, then days.
    EXPECT_EQ(mx.Result(), "1 mon");
    EXPECT_EQ(mn.Result(), "-1 years");
    Harness huge("max", DataType::IntervalType(), retractable);  // no overflow in the key
    Column c(DataType::IntervalType());
    c.Append<Interval>(Interval{std::numeric_limits<int32_t>::max(), 0, 0});
    c.Append<Interval>(Interval{0, 0, std::numeric_limits<int64_t>::max()});
    ASSERT_EQ(Text(huge.Update(&c)), "OK");
    Column out(DataType::IntervalType());
    huge.fn().Finalize(huge.state(0), &out);
    EXPECT_EQ(out.Get<Interval>(0).months, std::numeric_limits<int32_t>::max());
  }
}

TEST(Aggregate, BooleanMinMax) {
  for (bool retractable : {false, true}) {
    Harness mn("min", DataType::Boolean(), retractable);
    Harness mx("max", DataType::Boolean(), retractable);
    for (Harness* h : {&mn, &mx}) ASSERT_EQ(Text(h->Insert({"true", kNull, "false"})), "OK");
    EXPECT_EQ(mn.Result(), "false");
    EXPECT_EQ(mx.Result(), "true");
  }
}

// ---- randomized differential test ---------------------------------------------------------------

uint64_t TestSeed() { return weir_test::TestSeed(); }

/// Typed value of random key `k` for `type` (keys are small integers; the mapping spreads them
/// over interesting values: negative numbers, multi-byte strings, months vs days).
Cell ValueOf(DataType type, int64_t k) {
  switch (type.id) {
    case TypeId::kBoolean:
      return (k & 1) ? "true" : "false";
    case TypeId::kInt32:
      return std::to_string(k * 1000);
    case TypeId::kInt64:
      return std::to_string(k * 10'000'000'000'000LL);
    case TypeId::kDouble:
      return std::to_string(static_cast<double>(k) / 4);  // exact sums
    case TypeId::kDecimal: {
      char buf[kDecimalTextMax];
      return std::string(buf, FormatDecimal(k * 7919, type.scale, buf));
    }
    case TypeId::kVarchar: {
      std::string s = (k % 3 == 0) ? "\xC3\xA9" : "";
      for (int64_t j = 0; j < (k < 0 ? -k : k) % 5; ++j) s += static_cast<char>('a' + (k + j) % 26);
      return s + std::to_string(k);
    }
    case TypeId::kTimestamp: {
      char buf[kTimestampTextMax];
      return std::string(buf, FormatTimestamp(k * 3'600'000'000LL + 17, buf));
    }
    case TypeId::kInterval: {
      char buf[kIntervalTextMax];
      const Interval iv{static_cast<int32_t>(k % 3), static_cast<int32_t>(k % 31), k * 1'000'000};
      return std::string(buf, FormatInterval(iv, buf));
    }
    case TypeId::kNull:
      return kNull;
  }
  return kNull;
}

/// Naive reference: every live value of a group, results recomputed from scratch.
struct Reference {
  std::map<int64_t, int64_t> live;  // key -> copies
  int64_t rows = 0;                 // count(*) (NULL rows included)

  std::string Result(std::string_view fn, DataType type) const {
    const int64_t n = [&] {
      int64_t c = 0;
      for (const auto& [k, copies] : live) c += copies;
      return c;
    }();
    if (fn == "count_star") return std::to_string(rows);
    if (fn == "count") return std::to_string(n);
    if (n == 0) return "NULL";
    // A column holding every live value, to compare and format them the way the engine does.
    Column vals = Col(type, {});
    std::vector<std::pair<int64_t, int64_t>> entries(live.begin(), live.end());
    for (const auto& [k, copies] : entries) AppendText(&vals, ValueOf(type, k));
    if (fn == "min" || fn == "max") {
      int64_t best = 0;
      for (int64_t i = 1; i < vals.length(); ++i) {
        const bool less = Less(vals, i, best);
        if (fn == "min" ? less : Less(vals, best, i)) best = i;
      }
      return vals.ValueToString(best);
    }
    // sum / avg over the exact values.
    __int128 isum = 0;
    double dsum = 0;
    for (int64_t i = 0; i < vals.length(); ++i) {
      const int64_t copies = entries[static_cast<size_t>(i)].second;
      switch (type.id) {
        case TypeId::kInt32:
          isum += static_cast<__int128>(vals.Get<int32_t>(i)) * copies;
          break;
        case TypeId::kDouble:
          dsum += vals.Get<double>(i) * static_cast<double>(copies);
          break;
        default:
          isum += static_cast<__int128>(vals.Get<int64_t>(i)) * copies;
          break;
      }
    }
    Column out(AggregateResultType(fn, type).value());
    if (type.id == TypeId::kDouble) {
      out.Append<double>(fn == "sum" ? dsum : dsum / static_cast<double>(n));
    } else if (fn == "sum") {
      out.Append<int64_t>(static_cast<int64_t>(isum));
    } else if (type.id == TypeId::kDecimal) {
      // round(isum * 10^k / n) half away from zero as floor((2|x| + n) / 2n) with the sign.
      const __int128 x = isum * PowerOfTen(out.type().scale - type.scale);
      const __int128 ax = x < 0 ? -x : x;
      const __int128 r = (2 * ax + n) / (2 * static_cast<__int128>(n));
      out.Append<int64_t>(static_cast<int64_t>(x < 0 ? -r : r));
    } else {
      out.Append<double>(static_cast<double>(isum) / static_cast<double>(n));
    }
    return out.ValueToString(0);
  }

  static bool Less(const Column& c, int64_t a, int64_t b) {
    switch (c.type().id) {
      case TypeId::kBoolean:
        return c.Get<uint8_t>(a) < c.Get<uint8_t>(b);
      case TypeId::kInt32:
        return c.Get<int32_t>(a) < c.Get<int32_t>(b);
      case TypeId::kDouble:
        return c.Get<double>(a) < c.Get<double>(b);
      case TypeId::kVarchar:
        return std::string(c.GetString(a)) < std::string(c.GetString(b));
      case TypeId::kInterval: {
        auto key = [](const Interval& v) {
          return std::make_tuple(static_cast<__int128>(v.months) * 30 * 86'400'000'000LL +
                                     static_cast<__int128>(v.days) * 86'400'000'000LL + v.micros,
                                 v.months, v.days);
        };
        return key(c.Get<Interval>(a)) < key(c.Get<Interval>(b));
      }
      default:
        return c.Get<int64_t>(a) < c.Get<int64_t>(b);
    }
  }
};

TEST(AggregateRandom, MatchesNaiveReference) {
  const uint64_t seed = TestSeed();
  SCOPED_TRACE("WEIR_TEST_SEED=" + std::to_string(seed));
  std::mt19937_64 rng(seed);
  auto coin = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const std::vector<DataType> types = {
      DataType::Boolean(), DataType::Int32(),        DataType::Int64(),
      DataType::Double(),  DataType::Decimal(12, 3), DataType::Decimal(18, 8),
      DataType::Varchar(), DataType::Timestamp(),    DataType::IntervalType()};
  const std::vector<std::string> fns = {"count_star", "count", "sum", "avg", "min", "max"};
  int rounds_run = 0;
  for (int round = 0; round < 600; ++round) {
    const DataType type = types[static_cast<size_t>(uniform(0, types.size() - 1))];
    const std::string fn = fns[static_cast<size_t>(uniform(0, fns.size() - 1))];
    if (!AggregateResultType(fn, type).ok()) continue;
    const bool retractable = coin(0.6);
    const int groups = static_cast<int>(uniform(1, 6));
    const int64_t key_range = uniform(1, 40);
    SCOPED_TRACE("round " + std::to_string(round) + ": " + fn + "(" + type.ToString() + ")" +
                 (retractable ? " retractable" : " append-only") + ", " + std::to_string(groups) +
                 " groups");
    ++rounds_run;
    // `main` sees every row; `part` splits each group's rows between two states at random (a
    // retraction goes to a state holding a copy of its value) that are merged at the end.
    Harness main(fn, type, retractable, groups);
    Harness part(fn, type, retractable, 2 * groups);
    std::vector<Reference> ref(static_cast<size_t>(groups));
    std::vector<std::map<int64_t, int64_t>> part_live(static_cast<size_t>(2 * groups));
    const int batches = static_cast<int>(uniform(1, 25));
    for (int b = 0; b < batches; ++b) {
      const int64_t n = coin(0.2) ? 1 : uniform(1, 80);
      const bool constant = coin(0.15);
      const bool masked = coin(0.3);
      const Cell constant_value = coin(0.2) ? kNull : ValueOf(type, uniform(-key_range, key_range));
      std::vector<Cell> cells;
      std::vector<std::optional<int64_t>> keys;
      std::vector<int> group_of, part_of;
      std::vector<Op> ops;
      std::vector<uint8_t> mask;
      bool any_delete = false;
      for (int64_t i = 0; i < n; ++i) {
        const int g = static_cast<int>(uniform(0, groups - 1));
        Reference& r = ref[static_cast<size_t>(g)];
        const bool selected = !masked || coin(0.7);
        std::optional<int64_t> key;
        Op op = Op::kInsert;
        if (constant) {
          if (constant_value) key = 0;  // resolved below
        } else if (retractable && !r.live.empty() && coin(0.4)) {
          auto it = r.live.begin();
          std::advance(it, uniform(0, static_cast<int64_t>(r.live.size()) - 1));
          key = it->first;
          op = Op::kDelete;
        } else if (!coin(0.1)) {
          key = uniform(-key_range, key_range);
        }
        if (constant && constant_value) {
          // Find the key of the constant (values are generated from keys).
          for (int64_t k = -key_range; k <= key_range; ++k) {
            if (ValueOf(type, k) == constant_value) {
              key = k;
              break;
            }
          }
          if (retractable && r.live.count(*key) && coin(0.5)) op = Op::kDelete;
        }
        if (constant && !constant_value && retractable && r.rows > 0 && coin(0.3)) {
          op = Op::kDelete;
        }
        if (!constant && !key && retractable && r.rows > 0 && coin(0.3)) op = Op::kDelete;
        cells.push_back(key ? ValueOf(type, *key) : kNull);
        keys.push_back(key);
        group_of.push_back(g);
        ops.push_back(op);
        mask.push_back(selected ? 1 : 0);
        any_delete |= op == Op::kDelete;
        int half = static_cast<int>(uniform(0, 1));
        if (op == Op::kDelete && key && part_live[static_cast<size_t>(2 * g + half)][*key] <= 0) {
          half ^= 1;
        }
        part_of.push_back(2 * g + half);
        if (selected) {
          if (key) part_live[static_cast<size_t>(2 * g + half)][*key] += op == Op::kDelete ? -1 : 1;
          const int64_t sign = op == Op::kDelete ? -1 : 1;
          r.rows += sign;
          if (key) {
            if ((r.live[*key] += sign) == 0) r.live.erase(*key);
          }
        }
      }
      Column arg = constant ? Constant(type, constant_value, n) : Col(type, cells);
      const Column* a = fn == "count_star" ? nullptr : &arg;
      const std::vector<Op>* signs = (any_delete || coin(0.3)) ? &ops : nullptr;
      ASSERT_EQ(Text(main.Update(a, group_of, signs, masked ? &mask : nullptr, n)), "OK");
      ASSERT_EQ(Text(part.Update(a, part_of, signs, masked ? &mask : nullptr, n)), "OK");
      for (int g = 0; g < groups; ++g) {
        ASSERT_EQ(main.Result(g), ref[static_cast<size_t>(g)].Result(fn, type))
            << "group " << g << " after batch " << b;
      }
    }
    for (int g = 0; g < groups; ++g) {
      ASSERT_EQ(Text(part.Merge(2 * g, 2 * g + 1)), "OK");
      Reference& r = ref[static_cast<size_t>(g)];
      ASSERT_EQ(part.Result(2 * g), r.Result(fn, type)) << "merged group " << g;
      if (!retractable) continue;
      // Drain the merged state one retraction at a time: it must hold exactly the live copies.
      std::vector<int64_t> drain;
      for (const auto& [k, copies] : r.live) drain.insert(drain.end(), copies, k);
      std::shuffle(drain.begin(), drain.end(), rng);
      for (int64_t k : drain) {
        ASSERT_EQ(Text(part.Retract({ValueOf(type, k)}, 2 * g)), "OK");
        --r.rows;
        if (--r.live[k] == 0) r.live.erase(k);
        ASSERT_EQ(part.Result(2 * g), r.Result(fn, type)) << "merged group " << g << " drained";
      }
    }
  }
  EXPECT_GT(rounds_run, 100);
}

}  // namespace
}  // namespace weir
