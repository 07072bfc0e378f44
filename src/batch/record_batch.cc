#include "batch/record_batch.h"

#include <strings.h>

namespace weir {

int Schema::FindField(std::string_view name) const {
  for (size_t i = 0; i < fields_.size(); ++i) {
    const std::string& f = fields_[i].name;
    if (f.size() == name.size() && strncasecmp(f.data(), name.data(), f.size()) == 0)
      return static_cast<int>(i);
  }
  return -1;
}

std::string Schema::ToString() const {
  std::string out;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (i) out += ", ";
    out += fields_[i].name;
    out += ' ';
    out += fields_[i].type.ToString();
  }
  return out;
}

std::string RecordBatch::ToString() const {
  std::string out;
  for (int64_t r = 0; r < num_rows_; ++r) {
    if (has_ops_) out += ops_[static_cast<size_t>(r)] == Op::kInsert ? "+ " : "- ";
    for (size_t c = 0; c < columns_.size(); ++c) {
      if (c) out += ", ";
      out += columns_[c]->ValueToString(r);
    }
    out += '\n';
  }
  return out;
}

Column* ReuseColumn(ColumnPtr* slot, DataType type) {
  if (*slot && slot->use_count() == 1) {
    (*slot)->Reset(type);
  } else {
    *slot = std::make_shared<Column>(type);
  }
  return slot->get();
}

}  // namespace weir
