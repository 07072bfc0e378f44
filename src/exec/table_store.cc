#include "exec/table_store.h"

#include "state/column_snapshot.h"

namespace weir {

void TableStore::Append(const RecordBatch& batch) {
  int64_t offset = 0;
  const int64_t n = batch.num_rows();
  while (offset < n) {
    if (chunks_.empty() || chunks_.back()->num_rows() >= kChunkRowsMax) {
      auto chunk = std::make_shared<RecordBatch>(schema_);
      for (const Field& f : schema_->fields()) chunk->columns().push_back(std::make_shared<Column>(f.type));
      chunks_.push_back(std::move(chunk));
    }
    RecordBatch& tail = *chunks_.back();
    int64_t take = std::min(n - offset, kChunkRowsMax - tail.num_rows());
    for (size_t c = 0; c < schema_->num_fields(); ++c)
      tail.columns()[c]->AppendRange(*batch.column(c), offset, take);
    tail.set_num_rows(tail.num_rows() + take);
    offset += take;
  }
  rows_ += n;
}

size_t TableStore::MemoryBytes() const {
  size_t bytes = 0;
  for (const auto& ch : chunks_)
    for (const auto& c : ch->columns()) bytes += c->MemoryBytes();
  return bytes;
}


void TableStore::SnapshotState(StateWriter* w) const {
  w->Begin("table_store");
  w->U64(chunks_.size());
  for (const auto& ch : chunks_) SnapshotBatch(*ch, w);
  w->End();
}

Status TableStore::RestoreState(StateReader* r) {
  Clear();
  r->Begin("table_store");
  const uint64_t n = r->U64();
  if (r->ok() && n > r->remaining() / 17) r->Fail("table store: chunk count exceeds the snapshot");
  for (uint64_t i = 0; i < n && r->ok(); ++i) {
    auto chunk = std::make_shared<RecordBatch>(schema_);
    Status st = RestoreBatch(r, chunk.get());
    if (!st.ok()) break;
    if (chunk->num_rows() > kChunkRowsMax || (i + 1 < n && chunk->num_rows() != kChunkRowsMax)) {
      r->Fail("table store: invalid chunk size");
      break;
    }
    chunk->DisableOps();
    rows_ += chunk->num_rows();
    chunks_.push_back(std::move(chunk));
  }
  r->End();
  if (!r->ok()) {
    Clear();
    return r->status();
  }
  return Status::OK();
}
}  // namespace weir
