#include "state/table_storage.h"

#include <algorithm>
#include <cstring>

#include "state/column_snapshot.h"
#include "state/hash.h"

namespace weir {

namespace {

std::vector<DataType> KeyTypes(const Schema& s, const std::vector<int>& keys) {
  std::vector<DataType> t;
  for (int k : keys) t.push_back(s.field(static_cast<size_t>(k)).type);
  return t;
}

constexpr uint32_t kPayloadBytes = 8;  // RowId

}  // namespace

TableStorage::TableStorage(std::string table_name, SchemaPtr schema, std::vector<int> key_columns)
    : name_(std::move(table_name)),
      schema_(std::move(schema)),
      key_columns_(std::move(key_columns)),
      keys_(KeyTypes(*schema_, key_columns_)),
      index_(kPayloadBytes, keys_.fixed() ? keys_.fixed_key_bytes() : 0),
      scratch_(schema_) {}

size_t TableStorage::MemoryBytes() const {
  size_t bytes = index_.MemoryBytes() + keys_.MemoryBytes();
  for (const Chunk& ch : chunks_) {
    bytes += ch.live.capacity();
    for (const auto& c : ch.batch->columns()) bytes += c->MemoryBytes();
  }
  return bytes;
}

Status TableStorage::CheckNotNull(const RecordBatch& rows) const {
  for (size_t c = 0; c < schema_->num_fields(); ++c) {
    if (schema_->field(c).nullable) continue;
    const Column& col = *rows.column(c);
    if (!col.has_validity()) continue;
    for (int64_t i = 0; i < rows.num_rows(); ++i)
      if (!col.IsValid(i))
        return DataError("null value in column \"{}\" of relation \"{}\" violates not-null constraint",
                         schema_->field(c).name, name_);
  }
  return Status::OK();
}

void TableStorage::EncodeKeys(const RecordBatch& rows) {
  const int64_t n = rows.num_rows();
  key_cols_.clear();
  for (int k : key_columns_) key_cols_.push_back(rows.column(static_cast<size_t>(k)).get());
  keys_.Encode(key_cols_, n);
  hashes_.resize(static_cast<size_t>(n));
  for (size_t j = 0; j < key_cols_.size(); ++j) HashColumn(*key_cols_[j], n, j > 0, hashes_.data());
}

std::string TableStorage::KeyText(const RecordBatch& rows, int64_t i) const {
  std::string names, values;
  for (size_t j = 0; j < key_columns_.size(); ++j) {
    const size_t c = static_cast<size_t>(key_columns_[j]);
    if (j) {
      names += ", ";
      values += ", ";
    }
    names += schema_->field(c).name;
    values += rows.column(c)->ValueToString(i);
  }
  return fmt::format("Key ({})=({})", names, values);
}

TableStorage::Chunk& TableStorage::TailChunk() {
  if (chunks_.empty() || chunks_.back().batch->num_rows() >= kChunkRows) {
    Chunk ch;
    ch.batch = std::make_shared<RecordBatch>(schema_);
    for (const Field& f : schema_->fields()) ch.batch->columns().push_back(std::make_shared<Column>(f.type));
    ch.live.reserve(static_cast<size_t>(kChunkRows));
    chunks_.push_back(std::move(ch));
  }
  return chunks_.back();
}

void TableStorage::AppendRows(const RecordBatch& rows, const uint32_t* sel, int64_t n) {
  int64_t done = 0;
  while (done < n) {
    Chunk& ch = TailChunk();
    const RowId first = static_cast<RowId>(chunks_.size() - 1) * kChunkRows + ch.batch->num_rows();
    const int64_t take = std::min(n - done, kChunkRows - ch.batch->num_rows());
    for (size_t c = 0; c < schema_->num_fields(); ++c) {
      Column* dst = ch.batch->columns()[c].get();
      const Column& src = *rows.column(c);
      if (!sel) {
        dst->AppendRange(src, done, take);
      } else {
        for (int64_t i = 0; i < take; ++i) dst->AppendFrom(src, sel[done + i]);
      }
    }
    ch.batch->set_num_rows(ch.batch->num_rows() + take);
    ch.live.insert(ch.live.end(), static_cast<size_t>(take), 1);
    if (keyed()) {
      for (int64_t i = 0; i < take; ++i) {
        const int64_t r = sel ? sel[done + i] : done + i;
        uint8_t* p = index_.FindOrInsert(keys_.key(r), keys_.key_len(r), hashes_[static_cast<size_t>(r)], nullptr);
        const RowId id = first + i;
        std::memcpy(p, &id, sizeof(id));
      }
    }
    done += take;
  }
  live_rows_ += n;
}

Status TableStorage::Insert(const RecordBatch& rows, bool skip_conflicts, std::vector<uint32_t>* inserted) {
  const int64_t n = rows.num_rows();
  if (inserted) inserted->clear();
  WEIR_RETURN_IF_ERROR(CheckNotNull(rows));
  if (!keyed()) {
    AppendRows(rows, nullptr, n);
    if (inserted)
      for (int64_t i = 0; i < n; ++i) inserted->push_back(static_cast<uint32_t>(i));
    return Status::OK();
  }
  EncodeKeys(rows);
  // Keys seen earlier in this statement.
  HashTable seen(0, keys_.fixed() ? keys_.fixed_key_bytes() : 0);
  sel_.clear();
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t h = hashes_[static_cast<size_t>(i)];
    bool fresh = false;
    seen.FindOrInsert(keys_.key(i), keys_.key_len(i), h, &fresh);
    if (!fresh || index_.Find(keys_.key(i), keys_.key_len(i), h)) {
      if (skip_conflicts) continue;
      return DataError("duplicate key value violates primary key of table \"{}\": {} already exists", name_,
                       KeyText(rows, i));
    }
    sel_.push_back(static_cast<uint32_t>(i));
  }
  const bool all = static_cast<int64_t>(sel_.size()) == n;
  AppendRows(rows, all ? nullptr : sel_.data(), static_cast<int64_t>(sel_.size()));
  if (inserted) *inserted = sel_;
  return Status::OK();
}

void TableStorage::MarkDead(const std::vector<RowId>& ids, const RecordBatch& old_rows) {
  if (keyed() && !ids.empty()) {
    EncodeKeys(old_rows);
    for (size_t i = 0; i < ids.size(); ++i) {
      const bool erased = index_.Erase(keys_.key(static_cast<int64_t>(i)), keys_.key_len(static_cast<int64_t>(i)), hashes_[i]);
      WEIR_CHECK(erased);
    }
  }
  for (RowId id : ids) {
    Chunk& ch = chunks_[static_cast<size_t>(id / kChunkRows)];
    uint8_t& live = ch.live[static_cast<size_t>(id % kChunkRows)];
    WEIR_CHECK(live == 1);
    live = 0;
    ++ch.dead;
  }
  live_rows_ -= static_cast<int64_t>(ids.size());
  dead_rows_ += static_cast<int64_t>(ids.size());
}

void TableStorage::Delete(const std::vector<RowId>& ids, const RecordBatch& old_rows) {
  MarkDead(ids, old_rows);
  MaybeCompact();
}

Status TableStorage::Update(const std::vector<RowId>& ids, const RecordBatch& old_rows, const RecordBatch& new_rows) {
  WEIR_CHECK(static_cast<int64_t>(ids.size()) == new_rows.num_rows());
  WEIR_RETURN_IF_ERROR(CheckNotNull(new_rows));
  if (keyed()) {
    // Every new key must be unique among the new rows and absent from the rows that stay.
    std::vector<RowId> updating(ids);
    std::sort(updating.begin(), updating.end());
    EncodeKeys(new_rows);
    HashTable seen(0, keys_.fixed() ? keys_.fixed_key_bytes() : 0);
    for (int64_t i = 0; i < new_rows.num_rows(); ++i) {
      const uint64_t h = hashes_[static_cast<size_t>(i)];
      bool fresh = false;
      seen.FindOrInsert(keys_.key(i), keys_.key_len(i), h, &fresh);
      bool clash = !fresh;
      if (const uint8_t* p = index_.Find(keys_.key(i), keys_.key_len(i), h)) {
        RowId owner;
        std::memcpy(&owner, p, sizeof(owner));
        clash |= !std::binary_search(updating.begin(), updating.end(), owner);
      }
      if (clash)
        return DataError("duplicate key value violates primary key of table \"{}\": {} already exists", name_,
                         KeyText(new_rows, i));
    }
  }
  MarkDead(ids, old_rows);
  if (keyed()) EncodeKeys(new_rows);
  AppendRows(new_rows, nullptr, new_rows.num_rows());
  MaybeCompact();
  return Status::OK();
}

void TableStorage::GatherLive(const Chunk& ch, RecordBatch* out) const {
  sel_.clear();
  for (int64_t i = 0; i < ch.batch->num_rows(); ++i)
    if (ch.live[static_cast<size_t>(i)]) sel_.push_back(static_cast<uint32_t>(i));
  out->set_schema(schema_);
  out->columns().resize(schema_->num_fields());
  for (size_t c = 0; c < schema_->num_fields(); ++c) {
    Column* col = ReuseColumn(&out->columns()[c], schema_->field(c).type);
    col->Gather(*ch.batch->column(c), sel_.data(), static_cast<int64_t>(sel_.size()));
  }
  out->DisableOps();
  out->set_num_rows(static_cast<int64_t>(sel_.size()));
}

void TableStorage::MaybeCompact() {
  if (dead_rows_ < kChunkRows || dead_rows_ * 2 < live_rows_ + dead_rows_) return;
  std::vector<Chunk> old = std::move(chunks_);
  chunks_.clear();
  live_rows_ = 0;
  dead_rows_ = 0;
  index_.Clear();
  RecordBatch live(schema_);
  for (const Chunk& ch : old) {
    if (ch.dead == ch.batch->num_rows()) continue;
    const RecordBatch* src = ch.batch.get();
    if (ch.dead > 0) {
      GatherLive(ch, &live);
      src = &live;
    }
    if (keyed()) EncodeKeys(*src);
    AppendRows(*src, nullptr, src->num_rows());
  }
}

void TableStorage::Clear() {
  chunks_.clear();
  live_rows_ = 0;
  dead_rows_ = 0;
  index_.Clear();
}


void TableStorage::SnapshotState(StateWriter* w) const {
  w->Begin("table_storage");
  w->I64(live_rows_);
  w->I64(dead_rows_);
  w->U64(chunks_.size());
  for (const Chunk& ch : chunks_) {
    SnapshotBatch(*ch.batch, w);
    w->PodVector(ch.live);
    w->I64(ch.dead);
  }
  w->Bool(keyed());
  if (keyed()) index_.Snapshot(w);
  w->End();
}

Status TableStorage::RestoreState(StateReader* r) {
  Clear();
  r->Begin("table_storage");
  const int64_t live_rows = r->I64();
  const int64_t dead_rows = r->I64();
  const uint64_t n = r->U64();
  if (r->ok() && n > r->remaining() / 32) r->Fail("table storage: chunk count exceeds the snapshot");
  int64_t live_total = 0, dead_total = 0;
  for (uint64_t c = 0; c < n && r->ok(); ++c) {
    Chunk ch;
    ch.batch = std::make_shared<RecordBatch>(schema_);
    if (!RestoreBatch(r, ch.batch.get()).ok()) break;
    ch.batch->DisableOps();
    ch.live = r->PodVector<uint8_t>();
    ch.dead = r->I64();
    if (!r->ok()) break;
    const int64_t rows = ch.batch->num_rows();
    const int64_t dead = std::count(ch.live.begin(), ch.live.end(), uint8_t{0});
    if (rows > kChunkRows || (c + 1 < n && rows != kChunkRows) || static_cast<int64_t>(ch.live.size()) != rows ||
        dead != ch.dead || std::count(ch.live.begin(), ch.live.end(), uint8_t{1}) + dead != rows) {
      r->Fail("table storage: invalid chunk");
      break;
    }
    ch.live.reserve(static_cast<size_t>(kChunkRows));
    live_total += rows - dead;
    dead_total += dead;
    chunks_.push_back(std::move(ch));
  }
  const bool keyed_snapshot = r->Bool();
  if (r->ok() && keyed_snapshot != keyed()) r->Fail("table storage: primary key differs");
  if (r->ok() && keyed()) (void)index_.Restore(r);
  r->End();
  if (r->ok() && (live_total != live_rows || dead_total != dead_rows)) r->Fail("table storage: row counts differ");
  if (r->ok() && keyed()) {
    bool bad = index_.size() != static_cast<size_t>(live_rows);
    index_.ForEach([&](const uint8_t*, uint32_t, uint8_t* payload) {
      int64_t id;
      std::memcpy(&id, payload, 8);
      const uint64_t chunk = static_cast<uint64_t>(id) / kChunkRows;
      bad |= id < 0 || chunk >= chunks_.size() || id % kChunkRows >= chunks_[chunk].batch->num_rows() ||
             chunks_[chunk].live[static_cast<size_t>(id % kChunkRows)] == 0;
    });
    if (bad) r->Fail("table storage: key index does not match the rows");
  }
  if (!r->ok()) {
    Clear();
    return r->status();
  }
  live_rows_ = live_rows;
  dead_rows_ = dead_rows;
  return Status::OK();
}
}  // namespace weir
