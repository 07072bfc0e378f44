// HashJoinOperator tests: randomized changelogs on both inputs (inserts and retractions in random
// interleavings) checked after every batch against a naive reference that recomputes the whole
// join from the current input multisets; plus NULL keys, multi-column / VARCHAR keys, residual
// predicates, watermarks, the state limit and a counting-allocator steady-state check.
// Randomized tests print their seed; rerun one with WEIR_TEST_SEED=<seed>.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "exec/join/hash_join.h"
#include "expr/function.h"

#include "counting_malloc.h"

namespace weir {
namespace {

uint64_t TestSeed() {
  static const uint64_t seed = [] {
    const char* env = std::getenv("WEIR_TEST_SEED");
    uint64_t s = env ? std::strtoull(env, nullptr, 10) : std::random_device{}();
    std::printf("join_test seed: %llu (set WEIR_TEST_SEED to reproduce)\n",
                static_cast<unsigned long long>(s));
    return s;
  }();
  return seed;
}

// A row of either side: (k1 BIGINT, k2 VARCHAR, v BIGINT), each possibly NULL.
struct TRow {
  std::optional<int64_t> k1;
  std::optional<std::string> k2;
  std::optional<int64_t> v;
  std::string Str() const {
    return (k1 ? std::to_string(*k1) : "NULL") + "|" + (k2 ? *k2 : "NULL") + "|" +
           (v ? std::to_string(*v) : "NULL");
  }
};
const std::string kNullRowStr = "NULL|NULL|NULL";

SchemaPtr SideSchema(const std::string& p) {
  return std::make_shared<Schema>(std::vector<Field>{{p + "k1", DataType::Int64()},
                                                     {p + "k2", DataType::Varchar()},
                                                     {p + "v", DataType::Int64()}});
}

RecordBatch MakeBatch(const SchemaPtr& schema, const std::vector<TRow>& rows,
                      const std::vector<Op>* ops) {
  RecordBatch b(schema);
  auto k1 = std::make_shared<Column>(DataType::Int64());
  auto k2 = std::make_shared<Column>(DataType::Varchar());
  auto v = std::make_shared<Column>(DataType::Int64());
  for (const TRow& r : rows) {
    r.k1 ? k1->Append<int64_t>(*r.k1) : k1->AppendNull();
    r.k2 ? k2->AppendString(*r.k2) : k2->AppendNull();
    r.v ? v->Append<int64_t>(*r.v) : v->AppendNull();
  }
  b.columns() = {k1, k2, v};
  b.set_num_rows(static_cast<int64_t>(rows.size()));
  if (ops) {
    Op* o = b.EnableOps();
    for (size_t i = 0; i < ops->size(); ++i) o[i] = (*ops)[i];
  }
  return b;
}

// Records the output changelog as a multiset; fails when a count would go negative.
class Collector final : public Operator {
 public:
  Status Push(const RecordBatch& b) override {
    ++batches;
    max_batch_rows = std::max(max_batch_rows, b.num_rows());
    saw_ops = saw_ops || b.has_ops();
    for (int64_t i = 0; i < b.num_rows(); ++i) {
      std::string row;
      for (size_t c = 0; c < b.num_columns(); ++c) {
        if (c == 3) row += " ~ ";
        else if (c) row += "|";
        row += b.column(c)->ValueToString(i);
      }
      const int64_t d = (b.ops() && b.ops()[i] == Op::kDelete) ? -1 : 1;
      int64_t& cnt = rows[row];
      cnt += d;
      if (cnt < 0) return Internal("retraction of absent row {}", row);
      if (cnt == 0) rows.erase(row);
    }
    return Status::OK();
  }
  Status OnWatermark(int64_t wm) override {
    watermarks.push_back(wm);
    return Status::OK();
  }
  Status Finish() override {
    ++finishes;
    return Status::OK();
  }
  std::string Describe() const override { return "collector"; }

  std::map<std::string, int64_t> rows;
  std::vector<int64_t> watermarks;
  int finishes = 0;
  int64_t batches = 0;
  int64_t max_batch_rows = 0;
  bool saw_ops = false;
};

// Counts rows only (allocation-free sink).
class CountingSink final : public Operator {
 public:
  Status Push(const RecordBatch& b) override {
    rows += b.num_rows();
    return Status::OK();
  }
  std::string Describe() const override { return "count"; }
  int64_t rows = 0;
};

struct RefConfig {
  JoinType type;
  bool key2;      // join on (k1, k2) instead of k1
  bool residual;  // l.v < r.v
};

bool KeysMatch(const RefConfig& cfg, const TRow& l, const TRow& r) {
  if (!l.k1 || !r.k1 || *l.k1 != *r.k1) return false;
  if (cfg.key2 && (!l.k2 || !r.k2 || *l.k2 != *r.k2)) return false;
  return true;
}
bool Joins(const RefConfig& cfg, const TRow& l, const TRow& r) {
  if (!KeysMatch(cfg, l, r)) return false;
  if (cfg.residual) return l.v && r.v && *l.v < *r.v;
  return true;
}

using Multiset = std::map<std::string, std::pair<TRow, int64_t>>;

std::map<std::string, int64_t> ReferenceJoin(const RefConfig& cfg, const Multiset& left,
                                             const Multiset& right) {
  std::map<std::string, int64_t> out;
  const bool lo = cfg.type == JoinType::kLeft || cfg.type == JoinType::kFull;
  const bool ro = cfg.type == JoinType::kRight || cfg.type == JoinType::kFull;
  std::map<std::string, int64_t> right_matched;
  for (const auto& [ls, lp] : left) {
    int64_t matched = 0;
    for (const auto& [rs, rp] : right) {
      if (!Joins(cfg, lp.first, rp.first)) continue;
      out[ls + " ~ " + rs] += lp.second * rp.second;
      matched += rp.second;
      right_matched[rs] += lp.second;
    }
    if (lo && matched == 0) out[ls + " ~ " + kNullRowStr] += lp.second;
  }
  if (ro) {
    for (const auto& [rs, rp] : right) {
      if (right_matched[rs] == 0) out[kNullRowStr + " ~ " + rs] += rp.second;
    }
  }
  return out;
}

ExprPtr LessThan(int a, int b) {
  auto fn = BindFunction("lt", {ArgInfo{DataType::Int64()}, ArgInfo{DataType::Int64()}});
  EXPECT_TRUE(fn.ok()) << fn.status().ToString();
  return MakeCall(std::move(fn).value(), {MakeColumnRef(a, DataType::Int64(), "l.v"),
                                          MakeColumnRef(b, DataType::Int64(), "r.v")});
}

std::unique_ptr<HashJoinOperator> MakeJoin(const RefConfig& cfg, size_t limit = 0,
                                           bool append_only = false) {
  HashJoinOptions o;
  o.type = cfg.type;
  o.left_schema = SideSchema("l");
  o.right_schema = SideSchema("r");
  o.left_keys = cfg.key2 ? std::vector<int>{0, 1} : std::vector<int>{0};
  o.right_keys = o.left_keys;
  if (cfg.residual) o.residual = LessThan(2, 5);
  o.state_size_max_bytes = limit;
  o.left_append_only = o.right_append_only = append_only;
  auto r = HashJoinOperator::Make(std::move(o));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return std::move(r).value();
}

TRow RandomRow(std::mt19937_64& rng, bool nulls) {
  auto pick = [&](int m) { return static_cast<int64_t>(rng() % static_cast<uint64_t>(m)); };
  TRow r;
  if (!(nulls && pick(10) == 0)) r.k1 = pick(4);
  if (!(nulls && pick(10) == 0)) r.k2 = pick(2) ? "a" : "a longer string than sixteen bytes";
  if (!(nulls && pick(8) == 0)) r.v = pick(5);
  return r;
}

void RunRandomized(const RefConfig& cfg, uint64_t seed, int steps, int batch_rows_max) {
  std::mt19937_64 rng(seed);
  auto join = MakeJoin(cfg);
  Collector out;
  join->set_output(&out);
  Multiset state[2];
  const SchemaPtr schemas[2] = {SideSchema("l"), SideSchema("r")};
  for (int step = 0; step < steps; ++step) {
    const int side = static_cast<int>(rng() % 2);
    const int rows = 1 + static_cast<int>(rng() % static_cast<uint64_t>(batch_rows_max));
    std::vector<TRow> batch;
    std::vector<Op> ops;
    Multiset& ms = state[side];
    for (int i = 0; i < rows; ++i) {
      const bool del = !ms.empty() && rng() % 100 < 40;
      if (del) {
        auto it = ms.begin();
        std::advance(it, static_cast<long>(rng() % ms.size()));
        batch.push_back(it->second.first);
        ops.push_back(Op::kDelete);
        if (--it->second.second == 0) ms.erase(it);
      } else {
        TRow r = RandomRow(rng, true);
        batch.push_back(r);
        ops.push_back(Op::kInsert);
        auto& e = ms[r.Str()];
        e.first = r;
        ++e.second;
      }
    }
    RecordBatch b = MakeBatch(schemas[side], batch, &ops);
    Operator* in = side == 0 ? join->left_input() : join->right_input();
    Status st = in->Push(b);
    ASSERT_TRUE(st.ok()) << st.ToString() << " (seed " << seed << ", step " << step << ")";
    auto expected = ReferenceJoin(cfg, state[0], state[1]);
    ASSERT_EQ(out.rows, expected) << "seed " << seed << ", step " << step << ", type "
                                  << JoinTypeName(cfg.type);
  }
  // Retract everything: the result must become empty (outer NULL rows retracted too).
  for (int side = 0; side < 2; ++side) {
    std::vector<TRow> batch;
    std::vector<Op> ops;
    for (auto& [s, e] : state[side]) {
      for (int64_t c = 0; c < e.second; ++c) {
        batch.push_back(e.first);
        ops.push_back(Op::kDelete);
      }
    }
    state[side].clear();
    if (batch.empty()) continue;
    RecordBatch b = MakeBatch(schemas[side], batch, &ops);
    ASSERT_TRUE((side == 0 ? join->left_input() : join->right_input())->Push(b).ok());
    ASSERT_EQ(out.rows, ReferenceJoin(cfg, state[0], state[1])) << "seed " << seed;
  }
  EXPECT_TRUE(out.rows.empty());
  EXPECT_EQ(join->state_rows(), 0u);
  EXPECT_EQ(join->deletes_unmatched(), 0);
}

class JoinRandomized : public ::testing::TestWithParam<RefConfig> {};

TEST_P(JoinRandomized, MatchesReferenceAfterEveryBatch) {
  const uint64_t base = TestSeed();
  for (uint64_t round = 0; round < 6; ++round) {
    RunRandomized(GetParam(), base + round, 300, round % 2 ? 1 : 12);
    if (HasFatalFailure()) return;
  }
}

std::vector<RefConfig> AllConfigs() {
  std::vector<RefConfig> v;
  for (JoinType t : {JoinType::kInner, JoinType::kLeft, JoinType::kRight, JoinType::kFull}) {
    for (bool key2 : {false, true}) {
      for (bool residual : {false, true}) v.push_back({t, key2, residual});
    }
  }
  return v;
}

INSTANTIATE_TEST_SUITE_P(All, JoinRandomized, ::testing::ValuesIn(AllConfigs()),
                         [](const ::testing::TestParamInfo<RefConfig>& info) {
                           return std::string(JoinTypeName(info.param.type)) +
                                  (info.param.key2 ? "_TwoKeys" : "_OneKey") +
                                  (info.param.residual ? "_Residual" : "");
                         });

TEST(HashJoin, NullKeysNeverMatch) {
  auto join = MakeJoin({JoinType::kFull, false, false});
  Collector out;
  join->set_output(&out);
  std::vector<TRow> rows = {TRow{std::nullopt, "x", 1}};
  ASSERT_TRUE(join->left_input()->Push(MakeBatch(SideSchema("l"), rows, nullptr)).ok());
  ASSERT_TRUE(join->right_input()->Push(MakeBatch(SideSchema("r"), rows, nullptr)).ok());
  std::map<std::string, int64_t> expected = {{"NULL|x|1 ~ NULL|NULL|NULL", 1},
                                             {"NULL|NULL|NULL ~ NULL|x|1", 1}};
  EXPECT_EQ(out.rows, expected);
  // Inner join: NULL-key rows are not even kept.
  auto inner = MakeJoin({JoinType::kInner, false, false});
  inner->set_output(&out);
  ASSERT_TRUE(inner->left_input()->Push(MakeBatch(SideSchema("l"), rows, nullptr)).ok());
  EXPECT_EQ(inner->state_rows(), 0u);
}

TEST(HashJoin, OuterTransitionsEmitInOrder) {
  auto join = MakeJoin({JoinType::kLeft, false, false});
  Collector out;
  join->set_output(&out);
  const TRow l{1, "a", 10}, r{1, "b", 20};
  std::vector<Op> ins = {Op::kInsert}, del = {Op::kDelete};
  ASSERT_TRUE(join->left_input()->Push(MakeBatch(SideSchema("l"), {l}, &ins)).ok());
  EXPECT_EQ(out.rows, (std::map<std::string, int64_t>{{"1|a|10 ~ NULL|NULL|NULL", 1}}));
  ASSERT_TRUE(join->right_input()->Push(MakeBatch(SideSchema("r"), {r}, &ins)).ok());
  EXPECT_EQ(out.rows, (std::map<std::string, int64_t>{{"1|a|10 ~ 1|b|20", 1}}));
  ASSERT_TRUE(join->right_input()->Push(MakeBatch(SideSchema("r"), {r}, &del)).ok());
  EXPECT_EQ(out.rows, (std::map<std::string, int64_t>{{"1|a|10 ~ NULL|NULL|NULL", 1}}));
  EXPECT_TRUE(out.saw_ops);
  // Deleting a row that was never inserted is ignored and counted.
  ASSERT_TRUE(join->right_input()->Push(MakeBatch(SideSchema("r"), {r}, &del)).ok());
  EXPECT_EQ(join->deletes_unmatched(), 1);
}

TEST(HashJoin, AppendOnlyInnerOutputHasNoOps) {
  auto join = MakeJoin({JoinType::kInner, true, false}, 0, /*append_only=*/true);
  EXPECT_TRUE(join->output_append_only());
  Collector out;
  join->set_output(&out);
  ASSERT_TRUE(join->left_input()->Push(MakeBatch(SideSchema("l"), {TRow{1, "k", 1}}, nullptr)).ok());
  ASSERT_TRUE(join->right_input()->Push(MakeBatch(SideSchema("r"), {TRow{1, "k", 2}}, nullptr)).ok());
  EXPECT_EQ(out.rows.size(), 1u);
  EXPECT_FALSE(out.saw_ops);
  std::vector<Op> del = {Op::kDelete};
  Status st = join->left_input()->Push(MakeBatch(SideSchema("l"), {TRow{1, "k", 1}}, &del));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  // A left join is a changelog even over append-only inputs (NULL rows get retracted).
  auto left = MakeJoin({JoinType::kLeft, true, false}, 0, true);
  EXPECT_FALSE(left->output_append_only());
}

TEST(HashJoin, LargeFanOutIsSplitIntoBoundedBatches) {
  auto join = MakeJoin({JoinType::kInner, false, true});  // residual l.v < r.v
  Collector out;
  join->set_output(&out);
  std::vector<TRow> rights;
  for (int64_t i = 0; i < 10000; ++i) rights.push_back(TRow{7, "s", i});
  ASSERT_TRUE(join->right_input()->Push(MakeBatch(SideSchema("r"), rights, nullptr)).ok());
  ASSERT_TRUE(join->left_input()->Push(MakeBatch(SideSchema("l"), {TRow{7, "s", 99}, TRow{7, "t", 9999}}, nullptr)).ok());
  int64_t total = 0;
  for (auto& [k, c] : out.rows) total += c;
  EXPECT_EQ(total, 10000 - 100);  // r.v in 100..9999 for the first, none for the second
  EXPECT_LE(out.max_batch_rows, HashJoinOperator::kOutputBatchRows);
  EXPECT_GE(out.batches, 3);
}

TEST(HashJoin, WatermarkIsMinimumOfInputs) {
  auto join = MakeJoin({JoinType::kInner, false, false});
  Collector out;
  join->set_output(&out);
  ASSERT_TRUE(join->left_input()->PushWatermark(10).ok());
  EXPECT_TRUE(out.watermarks.empty());  // right has none yet
  ASSERT_TRUE(join->right_input()->PushWatermark(5).ok());
  ASSERT_TRUE(join->left_input()->PushWatermark(20).ok());  // min still 5
  ASSERT_TRUE(join->right_input()->PushWatermark(30).ok());
  EXPECT_EQ(out.watermarks, (std::vector<int64_t>{5, 20}));
  ASSERT_TRUE(join->left_input()->Finish().ok());  // finished left counts as +inf
  EXPECT_EQ(out.watermarks, (std::vector<int64_t>{5, 20, 30}));
  EXPECT_EQ(out.finishes, 0);
  ASSERT_TRUE(join->right_input()->Finish().ok());
  EXPECT_EQ(out.finishes, 1);
  EXPECT_EQ(out.watermarks.back(), Operator::kFinalWatermark);
  EXPECT_EQ(join->Push(RecordBatch()).code(), StatusCode::kInternal);
}

TEST(HashJoin, StateLimitIsEnforced) {
  const size_t limit = 256 << 10;
  auto join = MakeJoin({JoinType::kInner, false, false}, limit);
  CountingSink sink;
  join->set_output(&sink);
  Status st;
  int64_t next = 0;
  for (int b = 0; b < 1000 && st.ok(); ++b) {
    std::vector<TRow> rows;
    for (int i = 0; i < 256; ++i, ++next) rows.push_back(TRow{next, "some payload", next});
    st = join->left_input()->Push(MakeBatch(SideSchema("l"), rows, nullptr));
  }
  ASSERT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(st.message(), "join state exceeds state_size_max_bytes (262144 bytes)");
  EXPECT_GT(join->state_bytes(), limit);
}

TEST(HashJoin, MakeValidatesOptions) {
  HashJoinOptions o;
  o.left_schema = SideSchema("l");
  o.right_schema = SideSchema("r");
  EXPECT_EQ(HashJoinOperator::Make(o).status().code(), StatusCode::kInvalidArgument);  // no keys
  o.left_keys = {0};
  o.right_keys = {1};  // BIGINT vs VARCHAR
  EXPECT_EQ(HashJoinOperator::Make(o).status().code(), StatusCode::kInvalidArgument);
  o.right_keys = {7};
  EXPECT_EQ(HashJoinOperator::Make(o).status().code(), StatusCode::kInvalidArgument);
  o.right_keys = {0};
  o.residual = MakeColumnRef(0, DataType::Int64(), "x");
  EXPECT_EQ(HashJoinOperator::Make(o).status().code(), StatusCode::kInvalidArgument);
  o.residual = nullptr;
  auto j = HashJoinOperator::Make(o);
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)->Describe(), "HashJoin inner on left.lk1 = right.rk1");
  EXPECT_EQ((*j)->output_schema()->num_fields(), 6u);
}

#ifndef WEIR_NO_MALLOC_INTERPOSE
// Steady state: a left batch of inserts probing 1000 right keys (one match each, plus a
// VARCHAR key column), then the same rows deleted. State returns to the same size each round.
int64_t CountProbeRounds(int rounds) {
  auto join = MakeJoin({JoinType::kFull, true, false});
  CountingSink sink;
  join->set_output(&sink);
  std::vector<TRow> rights, lefts;
  for (int64_t i = 0; i < 1000; ++i) rights.push_back(TRow{i, "key", i});
  for (int64_t i = 0; i < 1024; ++i) lefts.push_back(TRow{i % 1100, "key", i});
  EXPECT_TRUE(join->right_input()->Push(MakeBatch(SideSchema("r"), rights, nullptr)).ok());
  std::vector<Op> ins(lefts.size(), Op::kInsert), del(lefts.size(), Op::kDelete);
  RecordBatch insert_batch = MakeBatch(SideSchema("l"), lefts, &ins);
  RecordBatch delete_batch = MakeBatch(SideSchema("l"), lefts, &del);
  // Warm up to the high-water mark.
  for (int r = 0; r < 3; ++r) {
    EXPECT_TRUE(join->left_input()->Push(insert_batch).ok());
    EXPECT_TRUE(join->left_input()->Push(delete_batch).ok());
  }
  const int64_t before = weir_test::AllocationCount();
  for (int r = 0; r < rounds; ++r) {
    EXPECT_TRUE(join->left_input()->Push(insert_batch).ok());
    EXPECT_TRUE(join->left_input()->Push(delete_batch).ok());
  }
  return weir_test::AllocationCount() - before;
}

TEST(HashJoin, SteadyStateProbeAndInsertAllocateNothing) {
  const int64_t small = CountProbeRounds(20);
  const int64_t large = CountProbeRounds(200);
  std::printf("allocations: 20 rounds -> %lld, 200 rounds -> %lld\n",
              static_cast<long long>(small), static_cast<long long>(large));
  EXPECT_LE(large - small, 2);
  EXPECT_LE(small, 2);
}
#else
TEST(HashJoin, SteadyStateProbeAndInsertAllocateNothing) {
  GTEST_SKIP() << "malloc interposition is off under AddressSanitizer";
}
#endif

}  // namespace
}  // namespace weir
