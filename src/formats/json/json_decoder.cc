#include "formats/json/json_decoder.h"

#include <algorithm>
#include <cstring>

#include <simdjson.h>

namespace weir {

namespace {

constexpr size_t kDecodeWindowBytesMax = size_t{1} << 30;  // keeps offsets in 32 bits
constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view TrimRight(std::string_view s) {
  while (!s.empty() && IsJsonSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsBlank(const char* b, const char* e) {
  for (; b < e; ++b)
    if (!IsJsonSpace(*b)) return false;
  return true;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool ReadHex4(std::string_view s, size_t i, uint32_t* out) {
  if (i + 4 > s.size()) return false;
  uint32_t v = 0;
  for (size_t k = 0; k < 4; ++k) {
    int h = HexValue(s[i + k]);
    if (h < 0) return false;
    v = v * 16 + static_cast<uint32_t>(h);
  }
  *out = v;
  return true;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

const char* KindName(int kind) {
  static constexpr const char* kNames[] = {"missing", "null",    "string",  "string",
                                           "number",  "boolean", "boolean", "object or array"};
  return kNames[kind];
}

}  // namespace

bool UnescapeJsonString(std::string_view s, std::string* out) {
  out->clear();
  size_t i = 0;
  while (i < s.size()) {
    const void* bs = std::memchr(s.data() + i, '\\', s.size() - i);
    if (bs == nullptr) {
      out->append(s.data() + i, s.size() - i);
      return true;
    }
    size_t j = static_cast<size_t>(static_cast<const char*>(bs) - s.data());
    out->append(s.data() + i, j - i);
    if (j + 1 >= s.size()) return false;
    char c = s[j + 1];
    i = j + 2;
    switch (c) {
      case '"':
        out->push_back('"');
        break;
      case '\\':
        out->push_back('\\');
        break;
      case '/':
        out->push_back('/');
        break;
      case 'b':
        out->push_back('\b');
        break;
      case 'f':
        out->push_back('\f');
        break;
      case 'n':
        out->push_back('\n');
        break;
      case 'r':
        out->push_back('\r');
        break;
      case 't':
        out->push_back('\t');
        break;
      case 'u': {
        uint32_t cp;
        if (!ReadHex4(s, i, &cp)) return false;
        i += 4;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // lone low surrogate
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t low;
          if (i + 2 > s.size() || s[i] != '\\' || s[i + 1] != 'u' || !ReadHex4(s, i + 2, &low) ||
              low < 0xDC00 || low > 0xDFFF)
            return false;  // high surrogate without its low half
          i += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        AppendUtf8(cp, out);
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

struct JsonDecoder::ParserState {
  simdjson::ondemand::parser parser;
  explicit ParserState(size_t max_capacity) : parser(max_capacity) {}
};

JsonDecoder::JsonDecoder(SchemaPtr schema, std::vector<int> projection, size_t record_bytes_max,
                         BadRecordHandler* handler)
    : schema_(std::move(schema)),
      projection_(std::move(projection)),
      record_bytes_max_(record_bytes_max),
      handler_(handler),
      parser_(std::make_unique<ParserState>(record_bytes_max + simdjson::SIMDJSON_PADDING)) {
  std::vector<Field> fields;
  std::vector<int> slot_of_column(schema_->num_fields(), -1);
  for (int index : projection_) {
    const Field& f = schema_->field(static_cast<size_t>(index));
    fields.push_back(f);
    int& slot = slot_of_column[static_cast<size_t>(index)];
    if (slot < 0) {
      slot = static_cast<int>(key_names_.size());
      key_names_.push_back(f.name);
    }
    slot_of_output_.push_back(static_cast<uint32_t>(slot));
  }
  output_schema_ = std::make_shared<Schema>(std::move(fields));
}

JsonDecoder::~JsonDecoder() = default;

void JsonDecoder::PrepareBatch(RecordBatch* out) {
  out->set_schema(output_schema_);
  out->DisableOps();
  auto& cols = out->columns();
  cols.resize(projection_.size());
  for (size_t c = 0; c < cols.size(); ++c) ReuseColumn(&cols[c], output_schema_->field(c).type);
}

int JsonDecoder::MatchKey(std::string_view key) {
  const size_t n = key_names_.size();
  for (size_t k = 0; k < n; ++k) {
    size_t i = key_guess_ + k < n ? key_guess_ + k : key_guess_ + k - n;
    if (IEquals(key_names_[i], key)) {
      key_guess_ = i + 1 < n ? i + 1 : 0;
      return static_cast<int>(i);
    }
  }
  return -1;
}

// Parses one line with simdjson On-Demand, recording for each projected key its value's kind
// and raw text. `capacity` >= size + SIMDJSON_PADDING bytes are readable at `text`.
bool JsonDecoder::ParseLine(const char* text, size_t size, size_t capacity, Cell* cells,
                            std::string* reason) {
  using simdjson::ondemand::json_type;
  auto malformed = [&](simdjson::error_code err) {
    *reason = fmt::format("malformed JSON ({})", simdjson::error_message(err));
    return false;
  };
  simdjson::ondemand::document doc;
  auto err = parser_->parser.iterate(text, size, capacity).get(doc);
  if (err) return malformed(err);
  simdjson::ondemand::object object;
  err = doc.get_object().get(object);
  if (err == simdjson::INCORRECT_TYPE) {
    *reason = "expected a JSON object";
    return false;
  }
  if (err) return malformed(err);
  for (auto field : object) {
    std::string_view key;
    if ((err = field.unescaped_key().get(key))) return malformed(err);
    int slot = MatchKey(key);
    if (slot < 0) continue;  // skipped by the iteration
    simdjson::ondemand::value value;
    if ((err = field.value().get(value))) return malformed(err);
    json_type type;
    if ((err = value.type().get(type))) return malformed(err);
    Cell& cell = cells[slot];
    switch (type) {
      case json_type::object:
      case json_type::array:
        cell = Cell{nullptr, 0, Kind::kNested};
        break;
      case json_type::number: {
        std::string_view token = TrimRight(value.raw_json_token());
        cell = Cell{token.data(), static_cast<uint32_t>(token.size()), Kind::kNumber};
        break;
      }
      case json_type::string: {
        std::string_view token = TrimRight(value.raw_json_token());
        if (token.size() < 2 || token.front() != '"' || token.back() != '"')
          return malformed(simdjson::STRING_ERROR);
        std::string_view content = token.substr(1, token.size() - 2);
        bool escaped = std::memchr(content.data(), '\\', content.size()) != nullptr;
        cell = Cell{content.data(), static_cast<uint32_t>(content.size()),
                    escaped ? Kind::kEscapedString : Kind::kString};
        break;
      }
      case json_type::boolean: {
        bool b;
        if ((err = value.get_bool().get(b))) return malformed(err);
        cell = Cell{nullptr, 0, b ? Kind::kTrue : Kind::kFalse};
        break;
      }
      case json_type::null: {
        bool is_null;
        if ((err = value.is_null().get(is_null))) return malformed(err);
        if (!is_null) return malformed(simdjson::N_ATOM_ERROR);
        cell = Cell{nullptr, 0, Kind::kNull};
        break;
      }
    }
  }
  // Past the object's closing brace the document must be over (simdjson 3.0 has no
  // document::at_end(): an in-bounds location means trailing tokens).
  if (!doc.current_location().error()) {
    *reason = "trailing content after the JSON object";
    return false;
  }
  return true;
}

void JsonDecoder::SaveState(StateWriter* w) const {
  w->Begin("json_decoder");
  w->I64(next_line_);
  w->Bool(started_);
  w->Bool(skipping_);
  w->End();
}

Status JsonDecoder::RestoreState(StateReader* r) {
  r->Begin("json_decoder");
  const int64_t next_line = r->I64();
  const bool started = r->Bool();
  const bool skipping = r->Bool();
  r->End();
  if (!r->ok()) return r->status();
  if (next_line < 1) return DataError("json decoder state: line {} < 1", next_line);
  next_line_ = next_line;
  started_ = started;
  skipping_ = skipping;
  return Status::OK();
}

Status JsonDecoder::Decode(const char* data, size_t len, bool at_eof, int64_t rows_max,
                           RecordBatch* out, size_t* consumed) {
  *consumed = 0;
  if (out->num_rows() == 0) PrepareBatch(out);
  rows_max = std::clamp<int64_t>(rows_max, 1, kBatchRowsMax);
  if (len > kDecodeWindowBytesMax) {
    len = kDecodeWindowBytesMax;
    at_eof = false;
  }
  size_t pos = 0;
  if (!started_) {
    size_t n = std::min(len, kBom.size());
    if (std::string_view(data, n) == kBom.substr(0, n)) {
      if (n < kBom.size() && !at_eof) return Status::OK();
      if (n == kBom.size()) pos = n;
    }
    started_ = true;
  }
  if (skipping_) {
    const void* nl = pos < len ? std::memchr(data + pos, '\n', len - pos) : nullptr;
    if (nl == nullptr) {
      if (at_eof) skipping_ = false;
      *consumed = len;
      return Status::OK();
    }
    pos = static_cast<size_t>(static_cast<const char*>(nl) - data) + 1;
    ++next_line_;
    skipping_ = false;
  }

  const size_t nslots = key_names_.size();
  const auto records_max = static_cast<size_t>(rows_max);
  if (records_.size() < records_max) records_.resize(records_max);
  if (cells_.size() < records_max * nslots) cells_.resize(records_max * nslots);
  tail_.clear();
  size_t tail_origin = 0;
  std::string reason;
  uint32_t nrec = 0;
  while (nrec < records_max && pos < len) {
    const void* nl = std::memchr(data + pos, '\n', len - pos);
    size_t line_end;
    if (nl != nullptr) {
      line_end = static_cast<size_t>(static_cast<const char*>(nl) - data);
    } else if (at_eof) {
      line_end = len;
    } else {
      if (len - pos > record_bytes_max_ && nrec == 0) {
        // The line is incomplete and already too long: report it, discard the rest later.
        WEIR_RETURN_IF_ERROR(handler_->OnBadRecord(
            next_line_,
            std::string_view(data + pos,
                             std::min(len - pos, BadRecordHandler::kOverlongRawBytesMax)),
            fmt::format("record longer than line_bytes_max ({} bytes)", record_bytes_max_)));
        skipping_ = true;
        pos = len;
      }
      break;
    }
    size_t next = nl != nullptr ? line_end + 1 : len;
    size_t text_end = line_end;
    if (text_end > pos && data[text_end - 1] == '\r') --text_end;
    int64_t line = next_line_;
    if (nl != nullptr) ++next_line_;
    if (IsBlank(data + pos, data + text_end)) {
      pos = next;
      continue;
    }
    records_[nrec] = RecordRef{static_cast<uint32_t>(pos), static_cast<uint32_t>(text_end), line};
    Cell* cells = cells_.data() + size_t{nrec} * nslots;
    for (size_t s = 0; s < nslots; ++s) cells[s] = Cell{nullptr, 0, Kind::kMissing};
    size_t size = text_end - pos;
    if (size > record_bytes_max_) {
      bad_.push_back(
          BadRow{nrec, -1,
                 fmt::format("record longer than line_bytes_max ({} bytes)", record_bytes_max_)});
    } else {
      const char* text = data + pos;
      size_t capacity = len - pos;
      if (capacity < size + simdjson::SIMDJSON_PADDING) {
        // Too close to the end of the input for simdjson's padding: parse from a copy of the
        // rest of the input (made once per call; later lines read from it too).
        if (tail_.empty()) {
          tail_origin = pos;
          tail_.assign(data + pos, len - pos);
          tail_.resize(tail_.size() + simdjson::SIMDJSON_PADDING, ' ');
        }
        text = tail_.data() + (pos - tail_origin);
        capacity = tail_.size() - (pos - tail_origin);
      }
      if (!ParseLine(text, size, capacity, cells, &reason)) {
        bad_.push_back(BadRow{nrec, -1, std::move(reason)});
        for (size_t s = 0; s < nslots; ++s) cells[s] = Cell{nullptr, 0, Kind::kMissing};
      }
    }
    ++nrec;
    pos = next;
  }
  *consumed = pos;
  if (nrec == 0) return Status::OK();

  const int64_t base_rows = out->num_rows();
  for (size_t c = 0; c < projection_.size(); ++c) {
    Column* col = out->columns()[c].get();
    const DataType type = col->type();
    switch (type.id) {
      case TypeId::kBoolean:
        ParseBoolColumn(nrec, c, col, base_rows);
        break;
      case TypeId::kInt32:
        ParseFixedColumn<int32_t>(
            nrec, c, col, base_rows, true,
            [](std::string_view s, int32_t* v) { return ParseInt32Cell(s, v); });
        break;
      case TypeId::kInt64:
        ParseFixedColumn<int64_t>(
            nrec, c, col, base_rows, true,
            [](std::string_view s, int64_t* v) { return ParseInt64Cell(s, v); });
        break;
      case TypeId::kDouble:
        ParseFixedColumn<double>(nrec, c, col, base_rows, true, [](std::string_view s, double* v) {
          return ParseDoubleCell(s, v);
        });
        break;
      case TypeId::kDecimal:
        ParseFixedColumn<int64_t>(
            nrec, c, col, base_rows, true,
            [type](std::string_view s, int64_t* v) { return ParseDecimalCell(s, type, v); });
        break;
      case TypeId::kTimestamp:
        ParseFixedColumn<int64_t>(
            nrec, c, col, base_rows, false,
            [](std::string_view s, int64_t* v) { return ParseTimestampCell(s, v); });
        break;
      case TypeId::kInterval:
        ParseFixedColumn<Interval>(
            nrec, c, col, base_rows, false,
            [](std::string_view s, Interval* v) { return ParseIntervalCell(s, v); });
        break;
      case TypeId::kVarchar:
        ParseVarcharColumn(nrec, c, col, base_rows);
        break;
      case TypeId::kNull:
        for (uint32_t r = 0; r < nrec; ++r) col->AppendNull();
        break;
    }
  }
  out->set_num_rows(base_rows + nrec);
  if (__builtin_expect(!bad_.empty(), 0)) return HandleBadRows(data, out, base_rows, nrec);
  return Status::OK();
}

void JsonDecoder::MarkMismatch(uint32_t row, size_t out_col, Kind found) {
  const Field& f = output_schema_->field(out_col);
  bad_.push_back(BadRow{row, static_cast<int32_t>(out_col),
                        fmt::format("column '{}': expected {}, found {}", f.name, f.type.ToString(),
                                    KindName(static_cast<int>(found)))});
}

bool JsonDecoder::CellText(const Cell& cell, uint32_t row, size_t out_col, std::string_view* text) {
  if (cell.kind == Kind::kEscapedString) {
    if (!UnescapeJsonString(std::string_view(cell.text, cell.size), &unescaped_)) {
      const Field& f = output_schema_->field(out_col);
      bad_.push_back(BadRow{row, static_cast<int32_t>(out_col),
                            fmt::format("column '{}': invalid escape in JSON string", f.name)});
      return false;
    }
    *text = unescaped_;
    return true;
  }
  *text = std::string_view(cell.text, cell.size);
  return true;
}

template <typename T, typename ParseFn>
void JsonDecoder::ParseFixedColumn(uint32_t nrec, size_t out_col, Column* col, int64_t base_rows,
                                   bool accept_number, ParseFn parse) {
  col->ResizeFixed(base_rows + nrec);
  T* dst = col->data<T>() + base_rows;
  if (col->has_validity())
    for (uint32_t r = 0; r < nrec; ++r) col->SetValid(base_rows + r);
  const Cell* cells = cells_.data() + slot_of_output_[out_col];
  const size_t stride = key_names_.size();
  for (uint32_t r = 0; r < nrec; ++r) {
    const Cell& cell = cells[size_t{r} * stride];
    dst[r] = T{};
    std::string_view text;
    switch (cell.kind) {
      case Kind::kMissing:
      case Kind::kNull:
        col->SetNull(base_rows + r);
        continue;
      case Kind::kNumber:
        if (!accept_number) {
          MarkMismatch(r, out_col, cell.kind);
          continue;
        }
        text = std::string_view(cell.text, cell.size);
        break;
      case Kind::kString:
      case Kind::kEscapedString:
        if (!CellText(cell, r, out_col, &text)) continue;
        if (text.empty()) {
          col->SetNull(base_rows + r);
          continue;
        }
        break;
      case Kind::kTrue:
      case Kind::kFalse:
      case Kind::kNested:
        MarkMismatch(r, out_col, cell.kind);
        continue;
    }
    CellParse result = parse(text, &dst[r]);
    if (__builtin_expect(result != CellParse::kOk, 0)) {
      dst[r] = T{};
      const Field& f = output_schema_->field(out_col);
      bad_.push_back(
          BadRow{r, static_cast<int32_t>(out_col), BadValueReason(f.name, f.type, result, text)});
    }
  }
}

void JsonDecoder::ParseBoolColumn(uint32_t nrec, size_t out_col, Column* col, int64_t base_rows) {
  col->ResizeFixed(base_rows + nrec);
  uint8_t* dst = col->data<uint8_t>() + base_rows;
  if (col->has_validity())
    for (uint32_t r = 0; r < nrec; ++r) col->SetValid(base_rows + r);
  const Cell* cells = cells_.data() + slot_of_output_[out_col];
  const size_t stride = key_names_.size();
  for (uint32_t r = 0; r < nrec; ++r) {
    const Cell& cell = cells[size_t{r} * stride];
    dst[r] = 0;
    std::string_view text;
    switch (cell.kind) {
      case Kind::kTrue:
        dst[r] = 1;
        continue;
      case Kind::kFalse:
        continue;
      case Kind::kMissing:
      case Kind::kNull:
        col->SetNull(base_rows + r);
        continue;
      case Kind::kNested:
        MarkMismatch(r, out_col, cell.kind);
        continue;
      case Kind::kNumber:
      case Kind::kString:
      case Kind::kEscapedString:
        if (!CellText(cell, r, out_col, &text)) continue;
        if (text.empty() && cell.kind != Kind::kNumber) {
          col->SetNull(base_rows + r);
          continue;
        }
        break;
    }
    CellParse result = ParseBoolCell(text, &dst[r]);
    if (result != CellParse::kOk) {
      dst[r] = 0;
      const Field& f = output_schema_->field(out_col);
      bad_.push_back(
          BadRow{r, static_cast<int32_t>(out_col), BadValueReason(f.name, f.type, result, text)});
    }
  }
}

void JsonDecoder::ParseVarcharColumn(uint32_t nrec, size_t out_col, Column* col,
                                     int64_t base_rows) {
  const Cell* cells = cells_.data() + slot_of_output_[out_col];
  const size_t stride = key_names_.size();
  int64_t bytes = 0;
  for (uint32_t r = 0; r < nrec; ++r) bytes += cells[size_t{r} * stride].size;
  col->Reserve(nrec, bytes);
  for (uint32_t r = 0; r < nrec; ++r) {
    const Cell& cell = cells[size_t{r} * stride];
    std::string_view text;
    switch (cell.kind) {
      case Kind::kMissing:
      case Kind::kNull:
        col->AppendNull();
        continue;
      case Kind::kString:
      case Kind::kEscapedString:
        if (!CellText(cell, r, out_col, &text)) {
          col->AppendNull();
          continue;
        }
        break;
      case Kind::kNumber:
      case Kind::kTrue:
      case Kind::kFalse:
      case Kind::kNested:
        MarkMismatch(r, out_col, cell.kind);
        col->AppendNull();
        continue;
    }
    if (!IsValidUtf8(text.data(), text.size())) {
      const Field& f = output_schema_->field(out_col);
      bad_.push_back(BadRow{r, static_cast<int32_t>(out_col),
                            fmt::format("column '{}': invalid UTF-8 in VARCHAR", f.name)});
      col->AppendNull();
      continue;
    }
    col->AppendString(text);
  }
}

Status JsonDecoder::HandleBadRows(const char* data, RecordBatch* out, int64_t base_rows,
                                  uint32_t nrec) {
  return DropBadRecords(data, records_.data(), nrec, &bad_, record_bytes_max_, base_rows, handler_, out, &keep_,
                        &compact_scratch_);
}

Result<std::unique_ptr<Decoder>> MakeJsonDecoder(SchemaPtr schema, std::vector<int> projection,
                                                 size_t record_bytes_max,
                                                 BadRecordHandler* handler) {
  return std::unique_ptr<Decoder>(
      new JsonDecoder(std::move(schema), std::move(projection), record_bytes_max, handler));
}

}  // namespace weir
