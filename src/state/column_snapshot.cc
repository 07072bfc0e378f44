#include "state/column_snapshot.h"

#include <algorithm>
#include <cstring>

namespace weir {

namespace {
constexpr uint8_t kHasValidity = 1;
constexpr uint8_t kConstant = 2;
}  // namespace

void SnapshotColumn(const Column& c, StateWriter* w) {
  const DataType t = c.type();
  const bool constant = c.is_constant() && c.length() > 0;
  const int64_t rows = c.is_constant() ? std::min<int64_t>(c.length(), 1) : c.length();
  const size_t n = static_cast<size_t>(rows);
  w->U8(static_cast<uint8_t>(t.id));
  w->U8(static_cast<uint8_t>((c.has_validity() ? kHasValidity : 0) | (constant ? kConstant : 0)));
  w->U64(static_cast<uint64_t>(c.length()));
  if (t.id == TypeId::kVarchar) {
    const int32_t* o = c.offsets();
    // Offsets relative to the first row (a column's offsets normally start at 0).
    const int32_t base = o[0];
    if (base == 0) {
      w->Raw(o, (n + 1) * 4);
    } else {
      uint8_t* dst = w->RawCopy(o, (n + 1) * 4);
      for (size_t i = 0; i <= n; ++i) {
        int32_t v;
        std::memcpy(&v, dst + i * 4, 4);
        v -= base;
        std::memcpy(dst + i * 4, &v, 4);
      }
    }
    w->Bytes(c.chars() + base, static_cast<size_t>(o[n] - base));
  } else if (t.is_fixed_width()) {
    w->Raw(c.data<uint8_t>(), n * static_cast<size_t>(t.byte_width()));
  }
  if (c.has_validity()) w->Raw(c.validity(), static_cast<size_t>(BitmapBytes(rows)));
}

Status RestoreColumn(StateReader* r, Column* c) {
  const DataType t = c->type();
  const uint8_t id = r->U8();
  const uint8_t flags = r->U8();
  const uint64_t length = r->U64();
  if (!r->ok()) return r->status();
  if (id != static_cast<uint8_t>(t.id) || (flags & ~(kHasValidity | kConstant)) != 0) {
    r->Fail(fmt::format("column of type {} expected, found type id {}", t.ToString(), id));
    return r->status();
  }
  const bool constant = flags & kConstant;
  const uint64_t rows = constant ? std::min<uint64_t>(length, 1) : length;
  // Every row takes at least one byte or bit: a length beyond 8 × the bytes left is corrupt.
  if (rows > r->remaining() * 8 + 8 || (constant && length > (uint64_t{1} << 62))) {
    r->Fail("column length exceeds the snapshot");
    return r->status();
  }
  const int64_t n = static_cast<int64_t>(rows);
  c->ResetEmpty();
  if (t.id == TypeId::kVarchar) {
    if (rows + 1 > r->remaining() / 4) {
      r->Fail("column length exceeds the snapshot");
      return r->status();
    }
    std::string_view offsets = r->Raw((rows + 1) * 4);
    std::string_view chars = r->Bytes();
    if (!r->ok()) return r->status();
    const auto* o = reinterpret_cast<const uint8_t*>(offsets.data());
    int32_t prev = 0;
    std::memcpy(&prev, o, 4);
    if (prev != 0) {
      r->Fail("VARCHAR offsets do not start at 0");
      return r->status();
    }
    c->Reserve(n, static_cast<int64_t>(chars.size()));
    for (int64_t i = 0; i < n; ++i) {
      int32_t end;
      std::memcpy(&end, o + (i + 1) * 4, 4);
      if (end < prev || static_cast<size_t>(end) > chars.size()) {
        r->Fail("VARCHAR offsets out of order or beyond the chars");
        return r->status();
      }
      c->AppendString(chars.substr(static_cast<size_t>(prev), static_cast<size_t>(end - prev)));
      prev = end;
    }
    if (static_cast<size_t>(prev) != chars.size()) {
      r->Fail("VARCHAR chars longer than the offsets");
      return r->status();
    }
  } else if (t.is_fixed_width()) {
    const size_t width = static_cast<size_t>(t.byte_width());
    if (rows > r->remaining() / width) {
      r->Fail("column length exceeds the snapshot");
      return r->status();
    }
    std::string_view values = r->Raw(rows * width);
    if (!r->ok()) return r->status();
    c->ResizeFixed(n);
    if (!values.empty()) std::memcpy(c->data<uint8_t>(), values.data(), values.size());
  } else {  // NULL type: no values
    for (int64_t i = 0; i < n; ++i) c->AppendNull();
    c->DropValidity();
  }
  if (flags & kHasValidity) {
    std::string_view bits = r->Raw(static_cast<size_t>(BitmapBytes(n)));
    if (!r->ok()) return r->status();
    uint8_t* v = c->EnsureValidity();
    if (!bits.empty()) std::memcpy(v, bits.data(), bits.size());
  } else if (t.id == TypeId::kNull && n > 0) {
    r->Fail("a NULL-typed column without validity");
    return r->status();
  }
  if (constant) {
    if (rows != 1) {
      r->Fail("a constant column without its value");
      return r->status();
    }
    c->MakeConstant(static_cast<int64_t>(length));
  }
  return Status::OK();
}

void SnapshotBatch(const RecordBatch& b, StateWriter* w) {
  w->U64(static_cast<uint64_t>(b.num_rows()));
  w->Bool(b.has_ops());
  if (b.has_ops()) w->Raw(b.ops(), static_cast<size_t>(b.num_rows()) * sizeof(Op));
  w->U64(b.num_columns());
  for (const ColumnPtr& c : b.columns()) SnapshotColumn(*c, w);
}

Status RestoreBatch(StateReader* r, RecordBatch* b) {
  const uint64_t rows = r->U64();
  const bool has_ops = r->Bool();
  if (!r->ok()) return r->status();
  if (rows > r->remaining() * 8 + 8) {
    r->Fail("batch row count exceeds the snapshot");
    return r->status();
  }
  b->set_num_rows(static_cast<int64_t>(rows));
  if (has_ops) {
    std::string_view ops = r->Raw(rows * sizeof(Op));
    if (!r->ok()) return r->status();
    Op* dst = b->EnableOps();
    for (uint64_t i = 0; i < rows; ++i) {
      const uint8_t v = static_cast<uint8_t>(ops[i * sizeof(Op)]);
      if (v != static_cast<uint8_t>(Op::kInsert) && v != static_cast<uint8_t>(Op::kDelete)) {
        r->Fail("invalid row op");
        return r->status();
      }
      std::memcpy(&dst[i], ops.data() + i * sizeof(Op), sizeof(Op));
    }
  } else {
    b->DisableOps();
  }
  const uint64_t ncols = r->U64();
  if (!r->ok()) return r->status();
  const Schema& schema = *b->schema();
  if (ncols != schema.num_fields()) {
    r->Fail(fmt::format("batch has {} columns, expected {}", ncols, schema.num_fields()));
    return r->status();
  }
  b->columns().clear();
  for (size_t i = 0; i < ncols; ++i) {
    auto c = std::make_shared<Column>(schema.field(i).type);
    WEIR_RETURN_IF_ERROR(RestoreColumn(r, c.get()));
    if (c->length() != static_cast<int64_t>(rows)) {
      r->Fail("column length differs from the batch's rows");
      return r->status();
    }
    b->columns().push_back(std::move(c));
  }
  return Status::OK();
}

}  // namespace weir
