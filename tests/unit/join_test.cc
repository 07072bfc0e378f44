// HashJoinOperator tests: randomized changelogs on both inputs (inserts and retractions in random
// interleavings) checked after every batch against a naive reference that recomputes the whole
// join from the current input multisets (all six join types, semi / anti included); plus NULL
// keys, multi-column / VARCHAR keys, residual predicates, semi / anti transitions and schema,
// watermarks, the state limit and counting-allocator steady-state checks.
// Randomized tests print their seed; rerun one with WEIR_TEST_SEED=<seed>.
#include <gtest/gtest.h>

#include "test_util.h"

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

uint64_t TestSeed() { return weir_test::TestSeed(); }

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
  if (cfg.type == JoinType::kLeftSemi || cfg.type == JoinType::kLeftAnti) {
    // The left multiset filtered by EXISTS (semi) / NOT EXISTS (anti) a joining right row.
    for (const auto& [ls, lp] : left) {
      bool matched = false;
      for (const auto& [rs, rp] : right) matched = matched || Joins(cfg, lp.first, rp.first);
      if (matched == (cfg.type == JoinType::kLeftSemi)) out[ls] += lp.second;
    }
    return out;
  }
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

// append_only: inputs declared append-only and carry inserts only (no final retraction).
void RunRandomized(const RefConfig& cfg, uint64_t seed, int steps, int batch_rows_max,
                   bool append_only = false) {
  std::mt19937_64 rng(seed);
  auto join = MakeJoin(cfg, 0, append_only);
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
      const bool del = !append_only && !ms.empty() && rng() % 100 < 40;
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
    RecordBatch b = MakeBatch(schemas[side], batch, append_only ? nullptr : &ops);
    Operator* in = side == 0 ? join->left_input() : join->right_input();
    Status st = in->Push(b);
    ASSERT_TRUE(st.ok()) << st.ToString() << " (seed " << seed << ", step " << step << ")";
    auto expected = ReferenceJoin(cfg, state[0], state[1]);
    ASSERT_EQ(out.rows, expected) << "seed " << seed << ", step " << step << ", type "
                                  << JoinTypeName(cfg.type);
  }
  if (append_only) {
    EXPECT_EQ(out.saw_ops, !join->output_append_only());
    return;
  }
  // Retract everything, one side first then the other (random order): the result must become
  // empty (outer NULL rows and anti rows made visible by the right side emptying retracted too).
  const int first = static_cast<int>(rng() % 2);
  for (int side : {first, 1 - first}) {
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
  for (JoinType t : {JoinType::kInner, JoinType::kLeft, JoinType::kRight, JoinType::kFull,
                     JoinType::kLeftSemi, JoinType::kLeftAnti}) {
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

// Append-only inputs: inner and semi joins produce append-only output (no ops) that still
// matches the reference after every batch; anti output keeps its ops.
TEST(HashJoin, AppendOnlyInputsMatchReference) {
  const uint64_t base = TestSeed();
  for (JoinType t : {JoinType::kInner, JoinType::kLeftSemi, JoinType::kLeftAnti}) {
    for (bool key2 : {false, true}) {
      for (bool residual : {false, true}) {
        RunRandomized({t, key2, residual}, base + 100, 200, 8, /*append_only=*/true);
        if (HasFatalFailure()) return;
      }
    }
  }
}

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

using Rows = std::map<std::string, int64_t>;

TEST(HashJoin, SemiJoinVisibilityTransitions) {
  auto join = MakeJoin({JoinType::kLeftSemi, false, false});
  Collector out;
  join->set_output(&out);
  const TRow l{1, "a", 10}, r{1, "b", 20}, r2{1, "c", 30};
  std::vector<Op> ins = {Op::kInsert}, del = {Op::kDelete};
  auto push = [&](int side, const TRow& row, const std::vector<Op>& op) {
    Operator* in = side == 0 ? join->left_input() : join->right_input();
    ASSERT_TRUE(in->Push(MakeBatch(SideSchema(side == 0 ? "l" : "r"), {row}, &op)).ok());
  };
  push(0, l, ins);  // no match: invisible
  push(0, l, ins);  // a second copy
  EXPECT_TRUE(out.rows.empty());
  push(1, r, ins);  // degree 0 -> 1: both copies appear
  EXPECT_EQ(out.rows, (Rows{{"1|a|10", 2}}));
  const int64_t batches = out.batches;
  push(1, r2, ins);  // 1 -> 2: nothing (right rows never multiply the output)
  push(1, r, ins);   // a duplicate right row: nothing
  EXPECT_EQ(out.batches, batches);
  push(0, l, del);  // a visible copy deleted: one `-`
  EXPECT_EQ(out.rows, (Rows{{"1|a|10", 1}}));
  push(1, r, del);
  push(1, r, del);
  EXPECT_EQ(out.rows, (Rows{{"1|a|10", 1}}));  // r2 still matches
  push(1, r2, del);                             // last match gone: `-`
  EXPECT_TRUE(out.rows.empty());
  push(0, l, ins);  // arrives with no match: nothing (2 copies held again)
  EXPECT_TRUE(out.rows.empty());
  push(0, l, del);  // deletes of invisible rows: nothing
  push(0, l, del);
  EXPECT_TRUE(out.rows.empty());
  EXPECT_TRUE(out.saw_ops);
  EXPECT_EQ(join->state_rows(), 0u);
  EXPECT_EQ(join->deletes_unmatched(), 0);
}

TEST(HashJoin, AntiJoinVisibilityTransitions) {
  auto join = MakeJoin({JoinType::kLeftAnti, false, true});  // residual l.v < r.v
  Collector out;
  join->set_output(&out);
  const TRow l{1, "a", 10}, r{1, "b", 20}, r_low{1, "c", 5};
  std::vector<Op> ins = {Op::kInsert}, del = {Op::kDelete};
  auto push = [&](int side, const TRow& row, const std::vector<Op>& op) {
    Operator* in = side == 0 ? join->left_input() : join->right_input();
    ASSERT_TRUE(in->Push(MakeBatch(SideSchema(side == 0 ? "l" : "r"), {row}, &op)).ok());
  };
  push(0, l, ins);  // no match: visible
  EXPECT_EQ(out.rows, (Rows{{"1|a|10", 1}}));
  push(1, r_low, ins);  // same key, residual FALSE: still visible
  EXPECT_EQ(out.rows, (Rows{{"1|a|10", 1}}));
  push(1, r, ins);  // first match: `-`
  EXPECT_TRUE(out.rows.empty());
  push(1, r, ins);  // second copy: nothing
  push(0, l, ins);  // arrives matched: nothing
  EXPECT_TRUE(out.rows.empty());
  push(1, r, del);
  EXPECT_TRUE(out.rows.empty());
  push(1, r, del);  // last match gone: `+` for both copies
  EXPECT_EQ(out.rows, (Rows{{"1|a|10", 2}}));
  push(0, l, del);  // delete while visible: `-`
  EXPECT_EQ(out.rows, (Rows{{"1|a|10", 1}}));
  // The same batch: a match arrives and leaves again -> `-` then `+`, never below zero.
  std::vector<Op> ins_del = {Op::kInsert, Op::kDelete};
  ASSERT_TRUE(join->right_input()->Push(MakeBatch(SideSchema("r"), {r, r}, &ins_del)).ok());
  EXPECT_EQ(out.rows, (Rows{{"1|a|10", 1}}));
  EXPECT_FALSE(join->output_append_only());
}

TEST(HashJoin, SemiAntiNullKeys) {
  const TRow null_key{std::nullopt, "x", 1}, k1{1, "x", 1};
  std::vector<Op> ins = {Op::kInsert}, del = {Op::kDelete};
  {
    // Anti (NOT EXISTS): a NULL-key left row is always visible; NULL-key right rows hide nothing.
    auto join = MakeJoin({JoinType::kLeftAnti, false, false});
    Collector out;
    join->set_output(&out);
    ASSERT_TRUE(join->left_input()->Push(MakeBatch(SideSchema("l"), {null_key, k1}, nullptr)).ok());
    ASSERT_TRUE(join->right_input()->Push(MakeBatch(SideSchema("r"), {null_key}, nullptr)).ok());
    EXPECT_EQ(out.rows, (Rows{{"NULL|x|1", 1}, {"1|x|1", 1}}));
    EXPECT_EQ(join->state_rows(), 2u);  // NULL-key right row not kept
    ASSERT_TRUE(join->right_input()->Push(MakeBatch(SideSchema("r"), {k1}, nullptr)).ok());
    EXPECT_EQ(out.rows, (Rows{{"NULL|x|1", 1}}));
    ASSERT_TRUE(join->left_input()->Push(MakeBatch(SideSchema("l"), {null_key}, &del)).ok());
    EXPECT_TRUE(out.rows.empty());
    EXPECT_EQ(join->deletes_unmatched(), 0);
  }
  {
    // Semi: a NULL-key row on either side is never output and not kept.
    auto join = MakeJoin({JoinType::kLeftSemi, false, false});
    Collector out;
    join->set_output(&out);
    ASSERT_TRUE(join->right_input()->Push(MakeBatch(SideSchema("r"), {null_key}, nullptr)).ok());
    ASSERT_TRUE(join->left_input()->Push(MakeBatch(SideSchema("l"), {null_key}, nullptr)).ok());
    EXPECT_TRUE(out.rows.empty());
    EXPECT_EQ(join->state_rows(), 0u);
    ASSERT_TRUE(join->left_input()->Push(MakeBatch(SideSchema("l"), {null_key}, &del)).ok());
    EXPECT_TRUE(out.rows.empty());
  }
}

TEST(HashJoin, SemiAntiSchemaDescribeAndAppendOnly) {
  HashJoinOptions o;
  o.type = JoinType::kLeftSemi;
  o.left_schema = std::make_shared<Schema>(std::vector<Field>{
      {"id", DataType::Int64(), false}, {"name", DataType::Varchar(), true}});
  o.right_schema = std::make_shared<Schema>(std::vector<Field>{
      {"x", DataType::Double(), false}, {"ref", DataType::Int64(), false}});
  o.left_keys = {0};
  o.right_keys = {1};
  o.left_append_only = o.right_append_only = true;
  auto semi = HashJoinOperator::Make(o);
  ASSERT_TRUE(semi.ok()) << semi.status().ToString();
  const Schema& schema = *(*semi)->output_schema();
  ASSERT_EQ(schema.num_fields(), 2u);
  EXPECT_EQ(schema.field(0).name, "id");
  EXPECT_FALSE(schema.field(0).nullable);  // semi / anti never pad with NULLs
  EXPECT_EQ(schema.field(1).name, "name");
  EXPECT_TRUE(schema.field(1).nullable);
  EXPECT_EQ((*semi)->Describe(), "HashJoin semi on left.id = right.ref");
  EXPECT_TRUE((*semi)->output_append_only());
  o.right_append_only = false;  // right deletes can hide rows again
  EXPECT_FALSE(HashJoinOperator::Make(o).value()->output_append_only());
  o.type = JoinType::kLeftAnti;
  o.right_append_only = true;  // anti retracts when a match arrives
  auto anti = HashJoinOperator::Make(o);
  ASSERT_TRUE(anti.ok());
  EXPECT_FALSE((*anti)->output_append_only());
  EXPECT_EQ((*anti)->Describe(), "HashJoin anti on left.id = right.ref");
  EXPECT_EQ((*anti)->output_schema()->num_fields(), 2u);

  // Append-only semi output carries no ops; a delete on an append-only input is rejected.
  auto join = MakeJoin({JoinType::kLeftSemi, false, false}, 0, /*append_only=*/true);
  Collector out;
  join->set_output(&out);
  ASSERT_TRUE(join->left_input()->Push(MakeBatch(SideSchema("l"), {TRow{1, "k", 1}}, nullptr)).ok());
  ASSERT_TRUE(join->right_input()->Push(MakeBatch(SideSchema("r"), {TRow{1, "k", 2}}, nullptr)).ok());
  ASSERT_TRUE(join->left_input()->Push(MakeBatch(SideSchema("l"), {TRow{1, "j", 1}}, nullptr)).ok());
  EXPECT_EQ(out.rows, (Rows{{"1|k|1", 1}, {"1|j|1", 1}}));
  EXPECT_FALSE(out.saw_ops);
  std::vector<Op> del = {Op::kDelete};
  EXPECT_EQ(join->right_input()->Push(MakeBatch(SideSchema("r"), {TRow{1, "k", 2}}, &del)).code(),
            StatusCode::kInvalidArgument);
}

TEST(HashJoin, SemiAntiFanOutIsSplitIntoBoundedBatches) {
  for (JoinType t : {JoinType::kLeftSemi, JoinType::kLeftAnti}) {
    auto join = MakeJoin({t, false, false});
    Collector out;
    join->set_output(&out);
    std::vector<TRow> lefts;
    for (int64_t i = 0; i < 10000; ++i) lefts.push_back(TRow{7, "s", i});
    ASSERT_TRUE(join->left_input()->Push(MakeBatch(SideSchema("l"), lefts, nullptr)).ok());
    auto total = [&] {
      int64_t n = 0;
      for (auto& [k, c] : out.rows) n += c;
      return n;
    };
    const bool semi = t == JoinType::kLeftSemi;
    EXPECT_EQ(total(), semi ? 0 : 10000);
    // One right row flips all 10000 left rows (emitted in bounded batches)...
    std::vector<Op> ins = {Op::kInsert, Op::kInsert}, del = {Op::kDelete, Op::kDelete};
    const std::vector<TRow> rights = {TRow{7, "r", 0}, TRow{7, "r", 0}};
    ASSERT_TRUE(join->right_input()->Push(MakeBatch(SideSchema("r"), rights, &ins)).ok());
    EXPECT_EQ(total(), semi ? 10000 : 0);
    EXPECT_LE(out.max_batch_rows, HashJoinOperator::kOutputBatchRows);
    // ...and their removal flips them back; 10000 right rows and one left row emit one row.
    ASSERT_TRUE(join->right_input()->Push(MakeBatch(SideSchema("r"), rights, &del)).ok());
    EXPECT_EQ(total(), semi ? 0 : 10000);
    EXPECT_LE(out.max_batch_rows, HashJoinOperator::kOutputBatchRows);
    std::vector<TRow> many_rights(10000, TRow{8, "r", 1});
    ASSERT_TRUE(join->right_input()->Push(MakeBatch(SideSchema("r"), many_rights, nullptr)).ok());
    const int64_t before = total();
    ASSERT_TRUE(join->left_input()->Push(MakeBatch(SideSchema("l"), {TRow{8, "l", 0}}, nullptr)).ok());
    EXPECT_EQ(total() - before, semi ? 1 : 0);
  }
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

// Interval join: r.u BETWEEN l.t AND l.t + kSpan on equal keys, with state trimmed by the
// watermarks (left rows expire once the right watermark passes l.t + kSpan, right rows once the
// left watermark passes r.u). Events arrive out of order by up to kDisorder, watermarks trail
// the maximum seen time by kDisorder, so nothing is late: the output must equal the untrimmed
// join's, while the state stays bounded.
int64_t RunIntervalJoin(JoinType type, bool trim, uint64_t seed, std::map<std::string, int64_t>* result,
                        size_t* state_rows_max, int64_t* expired) {
  constexpr int64_t kSpan = 50, kDisorder = 20;
  auto side = [](const std::string& p) {
    return std::make_shared<Schema>(std::vector<Field>{{p + "k", DataType::Int64()}, {p + "t", DataType::Timestamp()}});
  };
  HashJoinOptions o;
  o.type = type;
  o.left_schema = side("l");
  o.right_schema = side("r");
  o.left_keys = {0};
  o.right_keys = {0};
  o.left_append_only = o.right_append_only = true;
  auto ts = [](int col, const char* name) { return MakeColumnRef(col, DataType::Timestamp(), name); };
  auto cmp = [](const char* fn, ExprPtr a, ExprPtr b) {
    auto f = BindFunction(fn, {ArgInfo{a->type}, ArgInfo{b->type}});
    EXPECT_TRUE(f.ok()) << f.status().ToString();
    return MakeCall(std::move(f).value(), {std::move(a), std::move(b)});
  };
  auto span = MakeLiteral(Value::IntervalValue(Interval{0, 0, kSpan}));
  auto plus = BindFunction("add", {ArgInfo{DataType::Timestamp()}, ArgInfo{DataType::IntervalType()}});
  EXPECT_TRUE(plus.ok());
  ExprPtr hi = MakeCall(std::move(plus).value(), {ts(1, "l.t"), span});
  o.residual = cmp("and", cmp("ge", ts(3, "r.t"), ts(1, "l.t")), cmp("le", ts(3, "r.t"), hi));
  if (trim) {
    o.left_expiry = {1, kSpan};
    o.right_expiry = {1, 0};
  }
  auto join = HashJoinOperator::Make(std::move(o));
  EXPECT_TRUE(join.ok()) << join.status().ToString();
  Collector out;
  (*join)->set_output(&out);
  std::mt19937_64 rng(seed);
  int64_t max_t[2] = {0, 0};
  *state_rows_max = 0;
  for (int step = 0; step < 400; ++step) {
    const int s = static_cast<int>(rng() % 2);
    const int n = 1 + static_cast<int>(rng() % 8);
    RecordBatch b(s == 0 ? side("l") : side("r"));
    auto k = std::make_shared<Column>(DataType::Int64());
    auto t = std::make_shared<Column>(DataType::Timestamp());
    for (int i = 0; i < n; ++i) {
      const int64_t now = step * 10;
      const int64_t at = std::max<int64_t>(now - static_cast<int64_t>(rng() % kDisorder), max_t[s] - kDisorder + 1);
      k->Append<int64_t>(static_cast<int64_t>(rng() % 5));
      t->Append<int64_t>(at);
      max_t[s] = std::max(max_t[s], at);
    }
    b.columns() = {k, t};
    b.set_num_rows(n);
    Operator* port = s == 0 ? (*join)->left_input() : (*join)->right_input();
    EXPECT_TRUE(port->Push(b).ok());
    EXPECT_TRUE(port->PushWatermark(max_t[s] - kDisorder + 1).ok());
    *state_rows_max = std::max(*state_rows_max, (*join)->state_rows());
  }
  EXPECT_TRUE((*join)->left_input()->Finish().ok());
  EXPECT_TRUE((*join)->right_input()->Finish().ok());
  *result = out.rows;
  *expired = (*join)->rows_expired();
  return static_cast<int64_t>(out.rows.size());
}

TEST(HashJoin, IntervalJoinStateIsTrimmedByWatermarks) {
  for (JoinType type : {JoinType::kInner, JoinType::kLeft, JoinType::kFull, JoinType::kLeftSemi, JoinType::kLeftAnti}) {
    SCOPED_TRACE(std::string(JoinTypeName(type)));
    std::map<std::string, int64_t> trimmed, full;
    size_t trimmed_max = 0, full_max = 0;
    int64_t expired = 0, unused = 0;
    const uint64_t seed = TestSeed();
    RunIntervalJoin(type, true, seed, &trimmed, &trimmed_max, &expired);
    RunIntervalJoin(type, false, seed, &full, &full_max, &unused);
    EXPECT_GT(full.size(), 0u);
    EXPECT_EQ(trimmed, full);
    EXPECT_GT(expired, 0);
    EXPECT_EQ(unused, 0);
    // ~9 rows per 10 µs of event time per side live within kSpan + kDisorder: far below all rows.
    EXPECT_LT(trimmed_max * 4, full_max) << trimmed_max << " vs " << full_max;
  }
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
// Steady state: one side holds ~1000 keys; a batch of 1024 inserts on the other side (one match
// each for most rows, plus a VARCHAR key column), then the same rows deleted. State returns to
// the same size each round. `push_right`: the right side is the one toggled (for semi / anti,
// every right insert / delete flips a left row's visibility).
int64_t CountProbeRounds(JoinType type, bool push_right, int rounds) {
  auto join = MakeJoin({type, true, false});
  CountingSink sink;
  join->set_output(&sink);
  std::vector<TRow> held, toggled;
  for (int64_t i = 0; i < 1000; ++i) held.push_back(TRow{i, "key", i});
  for (int64_t i = 0; i < 1024; ++i) toggled.push_back(TRow{i % 1100, "key", i});
  Operator* held_in = push_right ? join->left_input() : join->right_input();
  Operator* toggled_in = push_right ? join->right_input() : join->left_input();
  const SchemaPtr held_schema = SideSchema(push_right ? "l" : "r");
  const SchemaPtr toggled_schema = SideSchema(push_right ? "r" : "l");
  EXPECT_TRUE(held_in->Push(MakeBatch(held_schema, held, nullptr)).ok());
  std::vector<Op> ins(toggled.size(), Op::kInsert), del(toggled.size(), Op::kDelete);
  RecordBatch insert_batch = MakeBatch(toggled_schema, toggled, &ins);
  RecordBatch delete_batch = MakeBatch(toggled_schema, toggled, &del);
  // Warm up to the high-water mark.
  for (int r = 0; r < 3; ++r) {
    EXPECT_TRUE(toggled_in->Push(insert_batch).ok());
    EXPECT_TRUE(toggled_in->Push(delete_batch).ok());
  }
  const int64_t rows_before = sink.rows;
  const int64_t before = weir_test::AllocationCount();
  for (int r = 0; r < rounds; ++r) {
    EXPECT_TRUE(toggled_in->Push(insert_batch).ok());
    EXPECT_TRUE(toggled_in->Push(delete_batch).ok());
  }
  const int64_t allocations = weir_test::AllocationCount() - before;
  EXPECT_GT(sink.rows, rows_before);  // the rounds did emit output
  return allocations;
}

struct AllocCase {
  JoinType type;
  bool push_right;
};

TEST(HashJoin, SteadyStateProbeAndInsertAllocateNothing) {
  for (AllocCase c : {AllocCase{JoinType::kFull, false}, AllocCase{JoinType::kLeftSemi, false},
                      AllocCase{JoinType::kLeftSemi, true}, AllocCase{JoinType::kLeftAnti, false},
                      AllocCase{JoinType::kLeftAnti, true}}) {
    const int64_t small = CountProbeRounds(c.type, c.push_right, 20);
    const int64_t large = CountProbeRounds(c.type, c.push_right, 200);
    std::printf("%s join, %s pushed: allocations: 20 rounds -> %lld, 200 rounds -> %lld\n",
                std::string(JoinTypeName(c.type)).c_str(), c.push_right ? "right" : "left",
                static_cast<long long>(small), static_cast<long long>(large));
    EXPECT_LE(large - small, 2) << JoinTypeName(c.type) << (c.push_right ? " right" : " left");
    EXPECT_LE(small, 2) << JoinTypeName(c.type) << (c.push_right ? " right" : " left");
  }
}
// Interval join with state trimming in steady state: every round pushes 1,024 rows per side at
// later times and advances both watermarks, so rows expire and are swept while new ones arrive.
int64_t CountIntervalRounds(int rounds) {
  auto side = [](const std::string& p) {
    return std::make_shared<Schema>(std::vector<Field>{{p + "k", DataType::Int64()}, {p + "t", DataType::Timestamp()}});
  };
  HashJoinOptions o;
  o.type = JoinType::kInner;
  o.left_schema = side("l");
  o.right_schema = side("r");
  o.left_keys = {0};
  o.right_keys = {0};
  o.left_append_only = o.right_append_only = true;
  o.left_expiry = {1, 100};  // r.t <= l.t + 100
  o.right_expiry = {1, 0};   // l.t <= r.t
  auto join = HashJoinOperator::Make(std::move(o));
  EXPECT_TRUE(join.ok());
  CountingSink sink;
  (*join)->set_output(&sink);
  auto make = [&](const SchemaPtr& schema) {
    RecordBatch b(schema);
    auto k = std::make_shared<Column>(DataType::Int64());
    auto t = std::make_shared<Column>(DataType::Timestamp());
    for (int64_t i = 0; i < 1024; ++i) {
      k->Append<int64_t>(i % 64);
      t->Append<int64_t>(0);
    }
    b.columns() = {k, t};
    b.set_num_rows(1024);
    return b;
  };
  RecordBatch lb = make(side("l")), rb = make(side("r"));
  int64_t before = 0;
  for (int r = 0; r < rounds + 5; ++r) {
    if (r == 5) before = weir_test::AllocationCount();  // after warm-up
    const int64_t base = int64_t{r} * 200;
    for (RecordBatch* b : {&lb, &rb}) {
      int64_t* t = b->column(1)->data<int64_t>();
      for (int64_t i = 0; i < 1024; ++i) t[i] = base + i % 200;
    }
    EXPECT_TRUE((*join)->left_input()->Push(lb).ok());
    EXPECT_TRUE((*join)->right_input()->Push(rb).ok());
    EXPECT_TRUE((*join)->left_input()->PushWatermark(base + 200).ok());
    EXPECT_TRUE((*join)->right_input()->PushWatermark(base + 200).ok());
  }
  EXPECT_GT((*join)->rows_expired(), 0);
  EXPECT_GT(sink.rows, 0);
  return weir_test::AllocationCount() - before;
}

TEST(HashJoin, SteadyStateIntervalJoinWithExpiryAllocatesNothing) {
  const int64_t small = CountIntervalRounds(20);
  const int64_t large = CountIntervalRounds(200);
  std::printf("interval join: allocations: 20 rounds -> %lld, 200 rounds -> %lld\n",
              static_cast<long long>(small), static_cast<long long>(large));
  EXPECT_LE(large - small, 2);
}
#else
TEST(HashJoin, SteadyStateProbeAndInsertAllocateNothing) {
  GTEST_SKIP() << "malloc interposition is off under AddressSanitizer";
}
#endif

}  // namespace
}  // namespace weir
