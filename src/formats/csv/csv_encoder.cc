#include "formats/csv/csv_encoder.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "formats/csv/csv_decoder.h"
#include "formats/text_column.h"
#include "types/datetime.h"

namespace weir {

namespace {

using text_column::CopyCell;
using text_column::FormatFixedColumn;
using text_column::kCopySlack;
using text_column::TimestampFormatMemo;

bool RiskyDelimiter(char d) {
  // Characters that formatted BOOLEAN/number/DECIMAL/TIMESTAMP/INTERVAL values may contain.
  return (d >= '0' && d <= '9') || (d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') || d == '-' ||
         d == '+' || d == '.' || d == ':' || d == ' ';
}

}  // namespace

CsvEncoder::CsvEncoder(SchemaPtr schema, bool changelog, CsvEncodeOptions options)
    : schema_(std::move(schema)), changelog_(changelog), options_(options) {
  check_all_columns_ = RiskyDelimiter(options_.delimiter);
  special_[static_cast<unsigned char>(options_.delimiter)] = true;
  special_[static_cast<unsigned char>(options_.quote)] = true;
  special_[static_cast<unsigned char>('\r')] = true;
  special_[static_cast<unsigned char>('\n')] = true;
  // A lone column's NULL would be an empty line, which readers skip as blank; for non-VARCHAR
  // types a quoted empty field also reads back as NULL.
  bool lone = schema_->num_fields() == 1 && !changelog_;
  if (lone && schema_->field(0).type.id != TypeId::kVarchar)
    null_text_ = std::string(2, options_.quote);
  columns_.resize(schema_->num_fields());
}

CsvEncoder::~CsvEncoder() = default;

char* CsvEncoder::WriteField(const char* text, size_t size, char* w) const {
  const char quote = options_.quote;
  // Quoted: empty text (NULL is the empty unquoted field), and text starting with U+FEFF, which
  // at the start of a file would read back as a byte-order mark.
  bool needs_quotes = size == 0 || (size >= 3 && std::memcmp(text, "\xEF\xBB\xBF", 3) == 0);
  for (size_t i = 0; i < size && !needs_quotes; ++i)
    needs_quotes = special_[static_cast<unsigned char>(text[i])];
  if (!needs_quotes) {
    std::memcpy(w, text, size);
    return w + size;
  }
  *w++ = quote;
  for (size_t i = 0; i < size; ++i) {
    if (text[i] == quote) *w++ = quote;
    *w++ = text[i];
  }
  *w++ = quote;
  return w;
}

void CsvEncoder::WriteHeader(Buffer* out) {
  if (!options_.header) return;
  std::vector<std::string_view> names;
  if (changelog_) names.push_back("op");
  for (const Field& f : schema_->fields()) names.push_back(f.name);
  std::string line;
  for (size_t i = 0; i < names.size(); ++i) {
    std::string_view name = names[i];
    size_t at = line.size();
    line.resize(at + 2 * name.size() + 3);
    if (i > 0) line[at++] = options_.delimiter;
    char* end = WriteField(name.data(), name.size(), line.data() + at);
    line.resize(static_cast<size_t>(end - line.data()));
  }
  line.push_back('\n');
  out->Append(line.data(), line.size());
}

void CsvEncoder::QuoteCellsIfNeeded(ColumnText* ct, int64_t cells) {
  const char* text = reinterpret_cast<const char*>(ct->text.data());
  size_t size = ct->text.size();
  bool any = false;
  for (size_t i = 0; i < size && !any; ++i) any = special_[static_cast<unsigned char>(text[i])];
  if (!any) return;
  requote_scratch_.assign(text, text + size);
  const size_t* old_off = ct->offsets.as<size_t>();
  std::vector<size_t> old(old_off, old_off + cells + 1);
  ct->text.Clear();
  ct->text.Reserve(2 * size + 2 * static_cast<size_t>(cells) + kCopySlack);
  char* base = reinterpret_cast<char*>(ct->text.data());
  char* w = base;
  size_t* off = ct->offsets.as<size_t>();
  for (int64_t i = 0; i < cells; ++i) {
    size_t b = old[static_cast<size_t>(i)], e = old[static_cast<size_t>(i) + 1];
    // An empty cell or null_text_ is a NULL: keep it as is (WriteField would quote it).
    std::string_view cell(requote_scratch_.data() + b, e - b);
    if (cell.empty() || cell == null_text_) {
      std::memcpy(w, cell.data(), cell.size());
      w += cell.size();
    } else {
      w = WriteField(cell.data(), cell.size(), w);
    }
    off[i + 1] = static_cast<size_t>(w - base);
  }
  ct->text.Resize(static_cast<size_t>(w - base));
}

void CsvEncoder::FormatColumn(const Column& col, int64_t rows, ColumnText* ct) {
  Buffer* text = &ct->text;
  Buffer* offsets = &ct->offsets;
  const std::string_view null_text = null_text_;
  switch (col.type().id) {
    case TypeId::kBoolean:
      FormatFixedColumn<uint8_t>(
          col, rows, 5, null_text,
          [](uint8_t v, char* w) -> size_t {
            if (v) {
              std::memcpy(w, "true", 4);
              return 4;
            }
            std::memcpy(w, "false", 5);
            return 5;
          },
          text, offsets);
      break;
    case TypeId::kInt32:
      FormatFixedColumn<int32_t>(
          col, rows, 11, null_text,
          [](int32_t v, char* w) {
            return static_cast<size_t>(std::to_chars(w, w + 11, v).ptr - w);
          },
          text, offsets);
      break;
    case TypeId::kInt64:
      FormatFixedColumn<int64_t>(
          col, rows, 20, null_text,
          [](int64_t v, char* w) {
            return static_cast<size_t>(std::to_chars(w, w + 20, v).ptr - w);
          },
          text, offsets);
      break;
    case TypeId::kDouble:
      FormatFixedColumn<double>(
          col, rows, kDoubleTextMax, null_text,
          [](double v, char* w) { return FormatDouble(v, w); }, text, offsets);
      break;
    case TypeId::kDecimal: {
      int scale = col.type().scale;
      FormatFixedColumn<int64_t>(
          col, rows, kDecimalTextMax, null_text,
          [scale](int64_t v, char* w) { return FormatDecimal(v, scale, w); }, text, offsets);
      break;
    }
    case TypeId::kTimestamp:
      FormatFixedColumn<int64_t>(col, rows, kTimestampTextMax, null_text, TimestampFormatMemo(),
                                 text, offsets);
      break;
    case TypeId::kInterval:
      FormatFixedColumn<Interval>(
          col, rows, kIntervalTextMax, null_text,
          [](const Interval& v, char* w) { return FormatInterval(v, w); }, text, offsets);
      break;
    case TypeId::kVarchar: {
      auto n = static_cast<size_t>(rows);
      const int32_t* o = col.offsets();
      const char* chars = col.chars();
      size_t bytes = static_cast<size_t>(o[n] - o[0]);
      text->Clear();
      text->Reserve(2 * bytes + 2 * n + kCopySlack);
      offsets->Resize((n + 1) * sizeof(size_t));
      char* base = reinterpret_cast<char*>(text->data());
      char* w = base;
      size_t* off = offsets->as<size_t>();
      off[0] = 0;
      const uint8_t* validity = col.validity();
      for (size_t r = 0; r < n; ++r) {
        if (validity == nullptr || GetBit(validity, static_cast<int64_t>(r)))
          w = WriteField(chars + o[r], static_cast<size_t>(o[r + 1] - o[r]), w);
        off[r + 1] = static_cast<size_t>(w - base);
      }
      text->Resize(static_cast<size_t>(w - base));
      return;
    }
    case TypeId::kNull: {
      offsets->Resize((static_cast<size_t>(rows) + 1) * sizeof(size_t));
      std::fill_n(offsets->as<size_t>(), rows + 1, size_t{0});
      text->Clear();
      text->Reserve(kCopySlack);
      return;
    }
  }
  if (check_all_columns_) QuoteCellsIfNeeded(ct, rows);
}

void CsvEncoder::Encode(const RecordBatch& batch, Buffer* out) {
  const int64_t rows = batch.num_rows();
  if (rows <= 0) return;
  const size_t ncols = columns_.size();
  WEIR_CHECK(batch.num_columns() == ncols);
  sources_.resize(ncols);
  Source* src = sources_.data();
  size_t total = static_cast<size_t>(rows) * (ncols + 1 + (changelog_ ? 2 : 0)) + kCopySlack;
  for (size_t c = 0; c < ncols; ++c) {
    const Column& col = *batch.column(c);
    ColumnText& ct = columns_[c];
    bool constant = col.is_constant();
    FormatColumn(col, constant ? 1 : rows, &ct);
    ct.stride = constant ? 0 : 1;
    const size_t* off = ct.offsets.as<size_t>();
    total += constant ? (off[1] - off[0]) * static_cast<size_t>(rows) : ct.text.size();
    src[c] = Source{reinterpret_cast<const char*>(ct.text.data()), off, ct.stride};
  }
  out->Reserve(out->size() + total);
  char* start = reinterpret_cast<char*>(out->data()) + out->size();
  char* w = start;
  const Op* ops = batch.ops();
  const char delim = options_.delimiter;
  for (int64_t r = 0; r < rows; ++r) {
    if (changelog_) {
      *w++ = ops != nullptr && ops[r] == Op::kDelete ? '-' : '+';
      if (ncols > 0) *w++ = delim;
    }
    for (size_t c = 0; c < ncols; ++c) {
      const Source& s = src[c];
      size_t i = static_cast<size_t>(r) * s.stride;
      w = CopyCell(w, s.text + s.off[i], s.off[i + 1] - s.off[i]);
      *w++ = delim;
    }
    if (ncols > 0) --w;  // the last delimiter becomes the line end
    *w++ = '\n';
  }
  out->Resize(out->size() + static_cast<size_t>(w - start));
}

Result<std::unique_ptr<Encoder>> MakeCsvEncoder(SchemaPtr schema, bool changelog,
                                                const Options& options) {
  CsvEncodeOptions o;
  WEIR_ASSIGN_OR_RETURN(o.header, options.GetBool("header", true));
  WEIR_ASSIGN_OR_RETURN(o.delimiter, GetCsvCharOption(options, "delimiter", ','));
  WEIR_ASSIGN_OR_RETURN(o.quote, GetCsvCharOption(options, "quote", '"'));
  if (o.delimiter == o.quote)
    return InvalidArgument("options 'delimiter' and 'quote' must differ (both '{}')", o.quote);
  return std::unique_ptr<Encoder>(new CsvEncoder(std::move(schema), changelog, o));
}

}  // namespace weir
