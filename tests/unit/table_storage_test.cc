// TableStorage: key index, atomic constraint checks, compaction after many deletes, and a
// randomized comparison against a std::map model (seeded; WEIR_TEST_SEED replays a run).
#include "state/table_storage.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "test_util.h"

namespace weir {
namespace {

SchemaPtr TwoColumns() {
  return std::make_shared<Schema>(
      std::vector<Field>{{"k", DataType::Int64(), false}, {"v", DataType::Varchar(), true}});
}

RecordBatch Rows(const SchemaPtr& s, const std::vector<std::pair<int64_t, std::string>>& rows) {
  RecordBatch b(s);
  b.columns().push_back(std::make_shared<Column>(DataType::Int64()));
  b.columns().push_back(std::make_shared<Column>(DataType::Varchar()));
  for (const auto& [k, v] : rows) {
    b.columns()[0]->Append<int64_t>(k);
    b.columns()[1]->AppendString(v);
  }
  b.set_num_rows(static_cast<int64_t>(rows.size()));
  return b;
}

// Live rows as a map k -> v (asserting keys are unique), plus their RowIds.
std::map<int64_t, std::string> Contents(const TableStorage& t, std::map<int64_t, int64_t>* ids = nullptr) {
  std::map<int64_t, std::string> out;
  Status s = t.ForEachChunk([&](const RecordBatch& chunk, int64_t first, const uint8_t* live) {
    for (int64_t i = 0; i < chunk.num_rows(); ++i) {
      if (!live[i]) continue;
      const int64_t k = chunk.column(0)->Get<int64_t>(i);
      EXPECT_EQ(out.count(k), 0u);
      out[k] = std::string(chunk.column(1)->GetString(i));
      if (ids) (*ids)[k] = first + i;
    }
    return Status::OK();
  });
  EXPECT_TRUE(s.ok());
  return out;
}

// Deletes (or updates, with `new_v`) the rows whose keys are in `keys`.
Status Change(TableStorage* t, const std::vector<int64_t>& keys, const std::string* new_v, int64_t key_shift = 0) {
  std::map<int64_t, int64_t> ids;
  auto contents = Contents(*t, &ids);
  std::vector<int64_t> row_ids;
  std::vector<std::pair<int64_t, std::string>> old_rows, new_rows;
  for (int64_t k : keys) {
    row_ids.push_back(ids.at(k));
    old_rows.push_back({k, contents.at(k)});
    if (new_v) new_rows.push_back({k + key_shift, *new_v});
  }
  RecordBatch old_b = Rows(t->schema(), old_rows);
  if (!new_v) {
    t->Delete(row_ids, old_b);
    return Status::OK();
  }
  return t->Update(row_ids, old_b, Rows(t->schema(), new_rows));
}

TEST(TableStorage, InsertRejectsDuplicatesAtomically) {
  TableStorage t("t", TwoColumns(), {0});
  ASSERT_OK(t.Insert(Rows(t.schema(), {{1, "a"}, {2, "b"}}), false, nullptr));
  Status s = t.Insert(Rows(t.schema(), {{3, "c"}, {2, "x"}}), false, nullptr);
  EXPECT_EQ(s.code(), StatusCode::kDataError);
  EXPECT_NE(s.message().find("Key (k)=(2) already exists"), std::string::npos) << s.message();
  EXPECT_EQ(t.num_rows(), 2);
  s = t.Insert(Rows(t.schema(), {{4, "c"}, {4, "x"}}), false, nullptr);
  EXPECT_NE(s.message().find("Key (k)=(4)"), std::string::npos) << s.message();
  std::vector<uint32_t> inserted;
  ASSERT_OK(t.Insert(Rows(t.schema(), {{4, "d"}, {4, "x"}, {1, "y"}, {5, "e"}}), true, &inserted));
  EXPECT_EQ(inserted, (std::vector<uint32_t>{0, 3}));
  EXPECT_EQ(Contents(t), (std::map<int64_t, std::string>{{1, "a"}, {2, "b"}, {4, "d"}, {5, "e"}}));
}

TEST(TableStorage, UpdateChecksKeysAgainstRowsThatStay) {
  TableStorage t("t", TwoColumns(), {0});
  ASSERT_OK(t.Insert(Rows(t.schema(), {{1, "a"}, {2, "b"}, {3, "c"}}), false, nullptr));
  const std::string v = "z";
  EXPECT_FALSE(Change(&t, {1}, &v, 1).ok());     // 1 -> 2, and 2 stays
  EXPECT_FALSE(Change(&t, {1, 2}, &v, 1).ok());  // 2 -> 3, and 3 stays
  EXPECT_EQ(Contents(t), (std::map<int64_t, std::string>{{1, "a"}, {2, "b"}, {3, "c"}}));
  ASSERT_OK(Change(&t, {1, 2, 3}, &v, 1));  // every key moves up: no clash
  EXPECT_EQ(Contents(t), (std::map<int64_t, std::string>{{2, "z"}, {3, "z"}, {4, "z"}}));
}

TEST(TableStorage, NotNull) {
  TableStorage t("t", TwoColumns(), {});
  RecordBatch b = Rows(t.schema(), {{1, "a"}});
  b.columns()[0]->SetNull(0);
  Status s = t.Insert(b, false, nullptr);
  EXPECT_NE(s.message().find("null value in column \"k\" of relation \"t\""), std::string::npos) << s.message();
  EXPECT_EQ(t.num_rows(), 0);
}

TEST(TableStorage, CompactsAfterManyDeletes) {
  TableStorage t("t", TwoColumns(), {0});
  std::vector<std::pair<int64_t, std::string>> rows;
  for (int64_t k = 0; k < 20000; ++k) rows.push_back({k, "value-" + std::to_string(k)});
  ASSERT_OK(t.Insert(Rows(t.schema(), rows), false, nullptr));
  const size_t full = t.MemoryBytes();
  std::vector<int64_t> keys;
  for (int64_t k = 0; k < 20000; ++k)
    if (k % 10 != 0) keys.push_back(k);
  ASSERT_OK(Change(&t, keys, nullptr));
  EXPECT_EQ(t.num_rows(), 2000);
  EXPECT_LT(t.MemoryBytes(), full);  // the index keeps its capacity; the chunks shrink
  std::map<int64_t, int64_t> ids;
  auto c = Contents(t, &ids);
  ASSERT_EQ(c.size(), 2000u);
  for (const auto& [k, id] : ids) EXPECT_LT(id, 2000) << "rows are dense after compaction";
  for (const auto& [k, v] : c) EXPECT_EQ(v, "value-" + std::to_string(k));
  // The index follows the moved rows: duplicates are still found, deleted keys are free.
  EXPECT_FALSE(t.Insert(Rows(t.schema(), {{10, "again"}}), false, nullptr).ok());
  ASSERT_OK(t.Insert(Rows(t.schema(), {{11, "again"}}), false, nullptr));
}

TEST(TableStorage, RandomizedAgainstModel) {
  std::mt19937_64 rng(weir_test::TestSeed());
  TableStorage t("t", TwoColumns(), {0});
  std::map<int64_t, std::string> model;
  for (int step = 0; step < 300; ++step) {
    const int what = static_cast<int>(rng() % 3);
    if (what == 0 || model.empty()) {
      std::vector<std::pair<int64_t, std::string>> rows;
      const int n = 1 + static_cast<int>(rng() % 500);
      std::map<int64_t, std::string> expect = model;
      bool conflict = false;
      for (int i = 0; i < n; ++i) {
        const int64_t k = static_cast<int64_t>(rng() % 5000);
        rows.push_back({k, std::to_string(step)});
        conflict |= !expect.emplace(k, std::to_string(step)).second;
      }
      Status s = t.Insert(Rows(t.schema(), rows), false, nullptr);
      EXPECT_EQ(s.ok(), !conflict) << s.message();
      if (s.ok()) model = expect;
    } else {
      std::vector<int64_t> keys;
      for (const auto& [k, v] : model)
        if (rng() % 2) keys.push_back(k);
      if (what == 1) {
        ASSERT_OK(Change(&t, keys, nullptr));
        for (int64_t k : keys) model.erase(k);
      } else {
        const std::string v = "u" + std::to_string(step);
        ASSERT_OK(Change(&t, keys, &v));
        for (int64_t k : keys) model[k] = v;
      }
    }
    ASSERT_EQ(t.num_rows(), static_cast<int64_t>(model.size()));
  }
  EXPECT_EQ(Contents(t), model);
}

}  // namespace
}  // namespace weir
