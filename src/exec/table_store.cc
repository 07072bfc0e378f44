#include "exec/table_store.h"

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

}  // namespace weir
