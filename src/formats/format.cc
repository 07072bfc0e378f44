#include "formats/format.h"

#include <algorithm>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "formats/csv/csv_decoder.h"
#include "formats/csv/csv_encoder.h"
#include "formats/json/json_decoder.h"
#include "formats/json/json_encoder.h"
#include "types/datetime.h"

namespace weir {

// ---- BadRecordHandler ---------------------------------------------------------------------

BadRecordHandler::BadRecordHandler(std::string source_name, ErrorPolicy policy,
                                   std::string dead_letter_path, Env* env)
    : source_name_(std::move(source_name)),
      policy_(policy),
      dead_letter_path_(std::move(dead_letter_path)),
      env_(env) {}

BadRecordHandler::~BadRecordHandler() {
  if (dead_letter_ != nullptr) dead_letter_->Close().IgnoreError();
}

namespace {

// An Env error ("PATH: op: errno text") as "cannot WHAT dead-letter file 'PATH': errno text".
Status DeadLetterError(const Status& st, std::string_view what, const std::string& path) {
  return IOError("cannot {} dead-letter file '{}': {}", what, path, EnvErrorText(st));
}

}  // namespace

Status BadRecordHandler::SaveState(StateWriter* w) {
  int64_t bytes = dead_letter_bytes_;
  if (dead_letter_ != nullptr) {
    Status st = dead_letter_->Sync();
    if (!st.ok()) return DeadLetterError(st, "sync", dead_letter_path_);
    if (dead_letter_created_) {  // the file's directory entry must survive too
      st = env_->SyncDir(DirName(dead_letter_path_));
      if (!st.ok()) return DeadLetterError(st, "sync the directory of", dead_letter_path_);
      dead_letter_created_ = false;
    }
    bytes = static_cast<int64_t>(dead_letter_->Size());
  } else if (bytes < 0 && policy_ == ErrorPolicy::kDeadLetter) {
    // Nothing written by this run yet: whatever the file holds came before.
    Result<uint64_t> size = env_->GetFileSize(dead_letter_path_);
    bytes = size.ok() ? static_cast<int64_t>(*size) : 0;
  }
  w->Begin("bad_records");
  w->I64(skipped_);
  w->I64(dead_lettered_);
  w->I64(bytes);
  w->End();
  return Status::OK();
}

Status BadRecordHandler::RestoreState(StateReader* r) {
  r->Begin("bad_records");
  const int64_t skipped = r->I64();
  const int64_t dead_lettered = r->I64();
  const int64_t bytes = r->I64();
  r->End();
  if (!r->ok()) return r->status();
  if (skipped < 0 || dead_lettered < 0) return DataError("bad-record counters are negative");
  if (dead_letter_ != nullptr) return Internal("BadRecordHandler::RestoreState after a bad record");
  skipped_ = skipped;
  dead_lettered_ = dead_lettered;
  dead_letter_bytes_ = bytes;
  if (bytes >= 0 && policy_ == ErrorPolicy::kDeadLetter) {
    Result<uint64_t> size = env_->GetFileSize(dead_letter_path_);
    if (size.ok() && *size > static_cast<uint64_t>(bytes)) {
      Status st = env_->TruncateFile(dead_letter_path_, static_cast<uint64_t>(bytes));
      if (!st.ok()) return DeadLetterError(st, "truncate", dead_letter_path_);
    }
  }
  return Status::OK();
}

Status BadRecordHandler::OnBadRecord(int64_t line, std::string_view raw, std::string_view reason) {
  switch (policy_) {
    case ErrorPolicy::kFail:
      return DataError("{}:{}: {}", source_name_, line, reason);
    case ErrorPolicy::kSkip:
      ++skipped_;
      return Status::OK();
    case ErrorPolicy::kDeadLetter:
      break;
  }
  if (dead_letter_ == nullptr) {
    dead_letter_created_ = !env_->FileExists(dead_letter_path_);
    Result<std::unique_ptr<WritableFile>> file =
        env_->NewWritableFile(dead_letter_path_, /*truncate=*/false);
    if (!file.ok()) return DeadLetterError(file.status(), "open", dead_letter_path_);
    dead_letter_ = std::move(*file);
  }
  std::string clean_raw, clean_reason;
  AppendUtf8Sanitized(raw, &clean_raw);
  AppendUtf8Sanitized(reason, &clean_reason);
  std::string text;
  text.resize(JsonEscapedBytesMax(source_name_.size()) + JsonEscapedBytesMax(clean_reason.size()) +
              JsonEscapedBytesMax(clean_raw.size()) + 64);
  char* w = text.data();
  auto put = [&](std::string_view lit) {
    std::memcpy(w, lit.data(), lit.size());
    w += lit.size();
  };
  put("{\"source\":");
  w += EscapeJsonString(source_name_, w);
  put(",\"line\":");
  std::string num = std::to_string(line);
  put(num);
  put(",\"reason\":");
  w += EscapeJsonString(clean_reason, w);
  put(",\"raw\":");
  w += EscapeJsonString(clean_raw, w);
  put("}\n");
  size_t n = static_cast<size_t>(w - text.data());
  Status st = dead_letter_->Append({text.data(), n});
  if (st.ok()) st = dead_letter_->Flush();
  if (!st.ok()) return DeadLetterError(st, "write", dead_letter_path_);
  ++dead_lettered_;
  return Status::OK();
}

Result<ErrorPolicy> ParseErrorPolicy(const Options& options, std::string* dead_letter_path) {
  WEIR_ASSIGN_OR_RETURN(std::string on_error,
                        options.GetEnum("on_error", "fail", {"fail", "skip", "dead_letter"}));
  bool has_path = options.Has("dead_letter_path");
  *dead_letter_path = has_path ? options.GetString("dead_letter_path") : std::string();
  if (on_error == "dead_letter") {
    if (dead_letter_path->empty())
      return InvalidArgument("on_error = 'dead_letter' requires option 'dead_letter_path'");
    return ErrorPolicy::kDeadLetter;
  }
  if (has_path)
    return InvalidArgument("option 'dead_letter_path' requires on_error = 'dead_letter'");
  return on_error == "skip" ? ErrorPolicy::kSkip : ErrorPolicy::kFail;
}

// ---- factories ----------------------------------------------------------------------------

Result<std::unique_ptr<Decoder>> MakeDecoder(std::string_view format, SchemaPtr schema,
                                             std::vector<int> projection, const Options& options,
                                             BadRecordHandler* handler) {
  if (schema == nullptr || handler == nullptr) return Internal("MakeDecoder: null argument");
  for (int index : projection) {
    if (index < 0 || static_cast<size_t>(index) >= schema->num_fields())
      return InvalidArgument("projection index {} out of range for schema ({})", index,
                             schema->ToString());
  }
  WEIR_ASSIGN_OR_RETURN(int64_t line_bytes_max,
                        options.GetInt("line_bytes_max", kLineBytesMaxDefault));
  if (line_bytes_max < 1 || line_bytes_max > kLineBytesMaxLimit)
    return InvalidArgument("option 'line_bytes_max' must be between 1 and {}, got {}",
                           kLineBytesMaxLimit, line_bytes_max);
  if (format == "csv")
    return MakeCsvDecoder(std::move(schema), std::move(projection), options,
                          static_cast<size_t>(line_bytes_max), handler);
  if (format == "json")
    return MakeJsonDecoder(std::move(schema), std::move(projection),
                           static_cast<size_t>(line_bytes_max), handler);
  return InvalidArgument("unknown format '{}' (expected 'csv' or 'json')", format);
}

Result<std::unique_ptr<Encoder>> MakeEncoder(std::string_view format, SchemaPtr schema,
                                             bool changelog, const Options& options) {
  if (schema == nullptr) return Internal("MakeEncoder: null schema");
  if (format == "csv") return MakeCsvEncoder(std::move(schema), changelog, options);
  if (format == "json") return MakeJsonEncoder(std::move(schema), changelog);
  return InvalidArgument("unknown format '{}' (expected 'csv' or 'json')", format);
}

// ---- text helpers -------------------------------------------------------------------------

namespace {

// Length of the well-formed UTF-8 sequence at s[0, n) (n >= 1, s[0] >= 0x80), or 0 when it is
// ill-formed (RFC 3629, table 3-7 of the Unicode standard).
size_t Utf8SequenceLength(const unsigned char* s, size_t n) {
  unsigned char c = s[0];
  auto cont = [&](size_t i) { return i < n && (s[i] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (n < 3 || !cont(1) || !cont(2)) return 0;
    if (c == 0xE0 && s[1] < 0xA0) return 0;  // overlong
    if (c == 0xED && s[1] > 0x9F) return 0;  // surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (n < 4 || !cont(1) || !cont(2) || !cont(3)) return 0;
    if (c == 0xF0 && s[1] < 0x90) return 0;  // overlong
    if (c == 0xF4 && s[1] > 0x8F) return 0;  // > U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

bool IsValidUtf8(const char* str, size_t n) {
  const auto* s = reinterpret_cast<const unsigned char*>(str);
  size_t i = 0;
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t word;
      std::memcpy(&word, s + i, 8);
      if ((word & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    if (s[i] < 0x80) {
      ++i;
      continue;
    }
    size_t len = Utf8SequenceLength(s + i, n - i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

void AppendUtf8Sanitized(std::string_view str, std::string* out) {
  const auto* s = reinterpret_cast<const unsigned char*>(str.data());
  size_t n = str.size(), i = 0;
  out->reserve(out->size() + n);
  while (i < n) {
    if (s[i] < 0x80) {
      out->push_back(static_cast<char>(s[i++]));
      continue;
    }
    size_t len = Utf8SequenceLength(s + i, n - i);
    if (len == 0) {
      out->append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
      ++i;
    } else {
      out->append(str.data() + i, len);
      i += len;
    }
  }
}

size_t EscapeJsonString(std::string_view s, char* dst) {
  static constexpr char kHex[] = "0123456789abcdef";
  char* w = dst;
  *w++ = '"';
  const char* p = s.data();
  const char* end = p + s.size();
  const char* run = p;  // start of the pending run of bytes copied verbatim
  for (; p < end; ++p) {
    auto c = static_cast<unsigned char>(*p);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    if (p > run) std::memcpy(w, run, static_cast<size_t>(p - run));
    w += p - run;
    run = p + 1;
    *w++ = '\\';
    switch (c) {
      case '"':
        *w++ = '"';
        break;
      case '\\':
        *w++ = '\\';
        break;
      case '\n':
        *w++ = 'n';
        break;
      case '\r':
        *w++ = 'r';
        break;
      case '\t':
        *w++ = 't';
        break;
      case '\b':
        *w++ = 'b';
        break;
      case '\f':
        *w++ = 'f';
        break;
      default:
        *w++ = 'u';
        *w++ = '0';
        *w++ = '0';
        *w++ = kHex[c >> 4];
        *w++ = kHex[c & 15];
    }
  }
  if (p > run) std::memcpy(w, run, static_cast<size_t>(p - run));
  w += p - run;
  *w++ = '"';
  return static_cast<size_t>(w - dst);
}

// ---- cell parsers -------------------------------------------------------------------------

namespace {

inline bool IsBlank(char c) { return c == ' ' || c == '\t'; }

inline std::string_view TrimBlanks(std::string_view s) {
  if (!s.empty() && (IsBlank(s.front()) || IsBlank(s.back()))) {
    while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
    while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  }
  return s;
}

// ParseInterval (types/datetime.cc) does no overflow checking; keep its input where it cannot
// overflow: <= 16 numbers of <= 7 integer digits (clock components count as numbers).
// Worst case then: months 16 * 9999999 * 12 < 2^31, micros 16 * 9999999 * 3.6e9 < 2^63.
bool IntervalTextBounded(std::string_view s) {
  if (s.size() > 256) return false;
  int numbers = 0, run = 0;
  bool fraction = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      if (fraction) continue;
      if (run == 0) ++numbers;
      if (++run > 7) return false;
      continue;
    }
    run = 0;
    fraction = c == '.';
  }
  return numbers <= 16;
}

}  // namespace

CellParse ParseBoolCell(std::string_view s, uint8_t* out) {
  s = TrimBlanks(s);
  auto lower = [](char c) { return static_cast<char>(c | 0x20); };  // digits are unchanged
  if (s.size() == 1) {
    char c = lower(s[0]);
    if (c == 't' || c == '1') return *out = 1, CellParse::kOk;
    if (c == 'f' || c == '0') return *out = 0, CellParse::kOk;
    return CellParse::kInvalid;
  }
  if (s.size() == 4 && lower(s[0]) == 't' && lower(s[1]) == 'r' && lower(s[2]) == 'u' &&
      lower(s[3]) == 'e')
    return *out = 1, CellParse::kOk;
  if (s.size() == 5 && lower(s[0]) == 'f' && lower(s[1]) == 'a' && lower(s[2]) == 'l' &&
      lower(s[3]) == 's' && lower(s[4]) == 'e')
    return *out = 0, CellParse::kOk;
  return CellParse::kInvalid;
}

CellParse ParseDoubleCell(std::string_view s, double* out) {
  s = TrimBlanks(s);
  if (!s.empty() && s[0] == '+') {
    s.remove_prefix(1);
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) return CellParse::kInvalid;
  }
  if (s.empty()) return CellParse::kInvalid;
  const char* end = s.data() + s.size();
  auto r = std::from_chars(s.data(), end, *out);
  if (r.ec == std::errc::result_out_of_range && r.ptr == end) {
    // Overflow is an error; underflow is a number too small for a double: use strtod's
    // nearest value (0 or a subnormal). Rare path.
    std::string copy(s);
    double v = std::strtod(copy.c_str(), nullptr);
    if (std::isinf(v)) return CellParse::kOutOfRange;
    *out = v;
    return CellParse::kOk;
  }
  if (r.ec != std::errc() || r.ptr != end) return CellParse::kInvalid;
  return CellParse::kOk;
}

CellParse ParseDecimalCell(std::string_view s, DataType type, int64_t* out) {
  return ParseDecimal(s, type.precision, type.scale, out) ? CellParse::kOk : CellParse::kInvalid;
}

CellParse ParseTimestampCell(std::string_view s, int64_t* out) {
  return ParseTimestamp(s, out) ? CellParse::kOk : CellParse::kInvalid;
}

CellParse ParseIntervalCell(std::string_view s, Interval* out) {
  if (!IntervalTextBounded(s)) return CellParse::kInvalid;
  return ParseInterval(s, {}, out) ? CellParse::kOk : CellParse::kInvalid;
}

std::string BadValueReason(std::string_view column, DataType type, CellParse result,
                           std::string_view text) {
  constexpr size_t kShownBytesMax = 64;
  std::string shown(text.substr(0, kShownBytesMax));
  if (text.size() > kShownBytesMax) shown += "...";
  if (result == CellParse::kOutOfRange)
    return fmt::format("column '{}': {} out of range '{}'", column, type.ToString(), shown);
  return fmt::format("column '{}': invalid {} '{}'", column, type.ToString(), shown);
}

Status DropBadRecords(const char* data, const DecodedRecord* records, uint32_t nrec,
                      std::vector<BadRecord>* bad, size_t record_bytes_max, int64_t base_rows,
                      BadRecordHandler* handler, RecordBatch* out, std::vector<uint32_t>* keep,
                      std::shared_ptr<Column>* scratch) {
  std::stable_sort(bad->begin(), bad->end(), [](const BadRecord& a, const BadRecord& b) {
    return a.row != b.row ? a.row < b.row : a.order < b.order;
  });
  keep->clear();
  for (int64_t i = 0; i < base_rows; ++i) keep->push_back(static_cast<uint32_t>(i));
  size_t k = 0;
  Status status;
  for (uint32_t r = 0; r < nrec; ++r) {
    if (k < bad->size() && (*bad)[k].row == r) {
      const DecodedRecord& rec = records[r];
      std::string_view raw(data + rec.begin, rec.end - rec.begin);
      if (raw.size() > record_bytes_max) raw = raw.substr(0, BadRecordHandler::kOverlongRawBytesMax);
      if (status.ok()) status = handler->OnBadRecord(rec.line, raw, (*bad)[k].reason);
      while (k < bad->size() && (*bad)[k].row == r) ++k;
      continue;
    }
    keep->push_back(static_cast<uint32_t>(base_rows + r));
  }
  bad->clear();
  WEIR_RETURN_IF_ERROR(status);
  if (*scratch == nullptr) *scratch = std::make_shared<Column>(DataType::Int64());
  for (ColumnPtr& col : out->columns()) {
    (*scratch)->Reset(col->type());
    (*scratch)->Gather(*col, keep->data(), static_cast<int64_t>(keep->size()));
    col->CopyFrom(**scratch);
  }
  out->set_num_rows(static_cast<int64_t>(keep->size()));
  return Status::OK();
}

}  // namespace weir
