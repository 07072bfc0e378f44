#include "formats/json/json_encoder.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

#include "formats/text_column.h"
#include "types/datetime.h"

namespace weir {

namespace {

using text_column::CopyCell;
using text_column::kCopySlack;
using text_column::TimestampFormatMemo;

constexpr std::string_view kNull = "null";

// Wraps a formatter's output in quotes (TIMESTAMP, INTERVAL: JSON strings).
template <typename FormatFn>
auto Quoted(FormatFn format) {
  return [format](const auto& v, char* w) mutable -> size_t {
    w[0] = '"';
    size_t n = format(v, w + 1);
    w[n + 1] = '"';
    return n + 2;
  };
}

}  // namespace

JsonEncoder::JsonEncoder(SchemaPtr schema, bool changelog)
    : schema_(std::move(schema)), changelog_(changelog) {
  prefix_offsets_.push_back(0);
  for (size_t c = 0; c < schema_->num_fields(); ++c) {
    if (c > 0 || changelog_) prefixes_.push_back(',');
    const std::string& name = schema_->field(c).name;
    std::string escaped(JsonEscapedBytesMax(name.size()), '\0');
    escaped.resize(EscapeJsonString(name, escaped.data()));
    prefixes_ += escaped;
    prefixes_.push_back(':');
    prefix_offsets_.push_back(prefixes_.size());
  }
  prefix_bytes_ = prefixes_.size();
  prefixes_.append(kCopySlack, '\0');  // CopyCell may read 16 bytes from any prefix
  columns_.resize(schema_->num_fields());
}

JsonEncoder::~JsonEncoder() = default;

void JsonEncoder::FormatColumn(const Column& col, int64_t rows, ColumnText* ct) {
  Buffer* text = &ct->text;
  Buffer* offsets = &ct->offsets;
  switch (col.type().id) {
    case TypeId::kBoolean:
      text_column::FormatFixedColumn<uint8_t>(
          col, rows, 5, kNull,
          [](uint8_t v, char* w) -> size_t {
            if (v) {
              std::memcpy(w, "true", 4);
              return 4;
            }
            std::memcpy(w, "false", 5);
            return 5;
          },
          text, offsets);
      return;
    case TypeId::kInt32:
      text_column::FormatFixedColumn<int32_t>(
          col, rows, 11, kNull,
          [](int32_t v, char* w) {
            return static_cast<size_t>(std::to_chars(w, w + 11, v).ptr - w);
          },
          text, offsets);
      return;
    case TypeId::kInt64:
      text_column::FormatFixedColumn<int64_t>(
          col, rows, 20, kNull,
          [](int64_t v, char* w) {
            return static_cast<size_t>(std::to_chars(w, w + 20, v).ptr - w);
          },
          text, offsets);
      return;
    case TypeId::kDouble:
      text_column::FormatFixedColumn<double>(
          col, rows, kDoubleTextMax + 2, kNull,
          [](double v, char* w) -> size_t {
            if (std::isfinite(v)) return FormatDouble(v, w);
            w[0] = '"';
            size_t n = FormatDouble(v, w + 1);  // NaN, Infinity, -Infinity
            w[n + 1] = '"';
            return n + 2;
          },
          text, offsets);
      return;
    case TypeId::kDecimal: {
      int scale = col.type().scale;
      text_column::FormatFixedColumn<int64_t>(
          col, rows, kDecimalTextMax, kNull,
          [scale](int64_t v, char* w) { return FormatDecimal(v, scale, w); }, text, offsets);
      return;
    }
    case TypeId::kTimestamp:
      text_column::FormatFixedColumn<int64_t>(col, rows, kTimestampTextMax + 2, kNull,
                                              Quoted(TimestampFormatMemo()), text, offsets);
      return;
    case TypeId::kInterval:
      text_column::FormatFixedColumn<Interval>(
          col, rows, kIntervalTextMax + 2, kNull,
          Quoted([](const Interval& v, char* w) { return FormatInterval(v, w); }), text, offsets);
      return;
    case TypeId::kVarchar: {
      auto n = static_cast<size_t>(rows);
      const int32_t* o = col.offsets();
      const char* chars = col.chars();
      size_t bytes = static_cast<size_t>(o[n] - o[0]);
      text->Clear();
      text->Reserve(JsonEscapedBytesMax(bytes) + n * std::max<size_t>(2, kNull.size()) +
                    kCopySlack);
      offsets->Resize((n + 1) * sizeof(size_t));
      char* base = reinterpret_cast<char*>(text->data());
      char* w = base;
      size_t* off = offsets->as<size_t>();
      off[0] = 0;
      const uint8_t* validity = col.validity();
      for (size_t r = 0; r < n; ++r) {
        if (validity == nullptr || GetBit(validity, static_cast<int64_t>(r))) {
          w += EscapeJsonString(
              std::string_view(chars + o[r], static_cast<size_t>(o[r + 1] - o[r])), w);
        } else {
          std::memcpy(w, kNull.data(), kNull.size());
          w += kNull.size();
        }
        off[r + 1] = static_cast<size_t>(w - base);
      }
      text->Resize(static_cast<size_t>(w - base));
      return;
    }
    case TypeId::kNull: {
      auto n = static_cast<size_t>(rows);
      text->Clear();
      text->Reserve(n * kNull.size() + kCopySlack);
      offsets->Resize((n + 1) * sizeof(size_t));
      char* base = reinterpret_cast<char*>(text->data());
      size_t* off = offsets->as<size_t>();
      off[0] = 0;
      for (size_t r = 0; r < n; ++r) {
        std::memcpy(base + r * kNull.size(), kNull.data(), kNull.size());
        off[r + 1] = (r + 1) * kNull.size();
      }
      text->Resize(n * kNull.size());
      return;
    }
  }
}

void JsonEncoder::Encode(const RecordBatch& batch, Buffer* out) {
  const int64_t rows = batch.num_rows();
  if (rows <= 0) return;
  const size_t ncols = columns_.size();
  WEIR_CHECK(batch.num_columns() == ncols);
  std::vector<Source>& sources = sources_;
  sources.resize(ncols);
  constexpr std::string_view kInsert = "\"op\":\"+\"", kDelete = "\"op\":\"-\"";
  size_t per_row = 3 + (changelog_ ? kInsert.size() : 0) + prefix_bytes_;
  size_t total = static_cast<size_t>(rows) * per_row + kCopySlack;
  for (size_t c = 0; c < ncols; ++c) {
    const Column& col = *batch.column(c);
    ColumnText& ct = columns_[c];
    bool constant = col.is_constant();
    FormatColumn(col, constant ? 1 : rows, &ct);
    ct.stride = constant ? 0 : 1;
    const size_t* off = ct.offsets.as<size_t>();
    total += constant ? (off[1] - off[0]) * static_cast<size_t>(rows) : ct.text.size();
    sources[c] =
        Source{reinterpret_cast<const char*>(ct.text.data()), off, ct.stride,
               prefixes_.data() + prefix_offsets_[c], prefix_offsets_[c + 1] - prefix_offsets_[c]};
  }
  out->Reserve(out->size() + total);
  char* start = reinterpret_cast<char*>(out->data()) + out->size();
  char* w = start;
  const Op* ops = batch.ops();
  for (int64_t r = 0; r < rows; ++r) {
    *w++ = '{';
    if (changelog_) {
      std::string_view op = ops != nullptr && ops[r] == Op::kDelete ? kDelete : kInsert;
      std::memcpy(w, op.data(), op.size());
      w += op.size();
    }
    for (size_t c = 0; c < ncols; ++c) {
      const Source& s = sources[c];
      w = CopyCell(w, s.prefix, s.prefix_size);
      size_t i = static_cast<size_t>(r) * s.stride;
      w = CopyCell(w, s.text + s.off[i], s.off[i + 1] - s.off[i]);
    }
    *w++ = '}';
    *w++ = '\n';
  }
  out->Resize(out->size() + static_cast<size_t>(w - start));
}

Result<std::unique_ptr<Encoder>> MakeJsonEncoder(SchemaPtr schema, bool changelog) {
  return std::unique_ptr<Encoder>(new JsonEncoder(std::move(schema), changelog));
}

}  // namespace weir
