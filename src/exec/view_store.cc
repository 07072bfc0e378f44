#include "exec/view_store.h"

#include "state/hash.h"

namespace weir {

namespace {
std::vector<DataType> TypesOf(const Schema& s) {
  std::vector<DataType> t;
  for (const Field& f : s.fields()) t.push_back(f.type);
  return t;
}
}  // namespace

ChangelogViewStore::ChangelogViewStore(SchemaPtr schema)
    : schema_(std::move(schema)), keys_(TypesOf(*schema_)), table_(8, keys_.fixed() ? keys_.fixed_key_bytes() : 0) {}

Status ChangelogViewStore::Apply(const RecordBatch& batch) {
  const int64_t n = batch.num_rows();
  cols_.clear();
  for (const auto& c : batch.columns()) cols_.push_back(c.get());
  keys_.Encode(cols_, n);
  hashes_.resize(static_cast<size_t>(n));
  for (size_t c = 0; c < cols_.size(); ++c) HashColumn(*cols_[c], n, c > 0, hashes_.data());
  const Op* ops = batch.ops();
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t h = hashes_[static_cast<size_t>(i)];
    if (ops && ops[i] == Op::kDelete) {
      uint8_t* p = table_.Find(keys_.key(i), keys_.key_len(i), h);
      if (!p) return Internal("materialized view received a delete for a row it does not hold");
      if (--*reinterpret_cast<int64_t*>(p) == 0) table_.Erase(keys_.key(i), keys_.key_len(i), h);
      --rows_;
    } else {
      uint8_t* p = table_.FindOrInsert(keys_.key(i), keys_.key_len(i), h, nullptr);
      ++*reinterpret_cast<int64_t*>(p);
      ++rows_;
    }
  }
  return Status::OK();
}

std::shared_ptr<TableStore> ChangelogViewStore::Snapshot() const {
  auto out = std::make_shared<TableStore>(schema_);
  RecordBatch b(schema_);
  std::vector<Column*> cols;
  auto reset = [&] {
    b.columns().clear();
    cols.clear();
    for (const Field& f : schema_->fields()) {
      b.columns().push_back(std::make_shared<Column>(f.type));
      cols.push_back(b.columns().back().get());
    }
    b.set_num_rows(0);
  };
  reset();
  table_.ForEach([&](const uint8_t* key, uint32_t len, uint8_t* payload) {
    int64_t copies = *reinterpret_cast<const int64_t*>(payload);
    for (int64_t k = 0; k < copies; ++k) {
      keys_.Decode(key, len, cols);
      b.set_num_rows(b.num_rows() + 1);
    }
    if (b.num_rows() >= kBatchRowsDefault) {
      out->Append(b);
      reset();
    }
  });
  if (b.num_rows() > 0) out->Append(b);
  return out;
}


void ChangelogViewStore::SnapshotState(StateWriter* w) const {
  w->Begin("changelog_view");
  w->I64(rows_);
  table_.Snapshot(w);
  w->End();
}

Status ChangelogViewStore::RestoreState(StateReader* r) {
  r->Begin("changelog_view");
  const int64_t rows = r->I64();
  if (!r->ok()) return r->status();
  WEIR_RETURN_IF_ERROR(table_.Restore(r));
  r->End();
  if (!r->ok()) return r->status();
  int64_t total = 0;
  bool bad = false;
  table_.ForEach([&](const uint8_t*, uint32_t, uint8_t* payload) {
    const int64_t copies = *reinterpret_cast<const int64_t*>(payload);
    bad |= copies <= 0;
    total += copies;
  });
  if (bad || total != rows) {
    table_.Clear();
    rows_ = 0;
    r->Fail("changelog view: multiplicities do not match the row count");
    return r->status();
  }
  rows_ = rows;
  return Status::OK();
}
}  // namespace weir
