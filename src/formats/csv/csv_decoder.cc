#include "formats/csv/csv_decoder.h"

#include <algorithm>
#include <cstring>

#if defined(__AVX2__) || defined(__SSE2__)
#include <immintrin.h>
#endif

#include "types/datetime.h"

namespace weir {

namespace {

// One Decode() call looks at no more than this many bytes, which keeps every offset within a
// block in 32 bits and every VARCHAR column of one call below its 2 GiB offset limit.
constexpr size_t kDecodeWindowBytesMax = size_t{1} << 30;
static_assert(kDecodeWindowBytesMax >= static_cast<size_t>(kLineBytesMaxLimit));

// Bit masks of one 64-byte chunk: bit i describes byte i.
struct Masks {
  uint64_t quote;
  uint64_t delim;
  uint64_t lf;
  uint64_t high;  // bytes >= 0x80 (non-ASCII)
};

// Builds the masks of 64-byte chunks: AVX2 or SSE2 compares + movemask, else a scalar loop.
class ChunkScanner {
 public:
  ChunkScanner(char quote, char delim) : quote_(quote), delim_(delim) {
#if defined(__AVX2__)
    vq_ = _mm256_set1_epi8(quote);
    vd_ = _mm256_set1_epi8(delim);
    vl_ = _mm256_set1_epi8('\n');
#elif defined(__SSE2__)
    vq_ = _mm_set1_epi8(quote);
    vd_ = _mm_set1_epi8(delim);
    vl_ = _mm_set1_epi8('\n');
#endif
  }

  // `p` has 64 readable bytes.
  Masks Scan(const uint8_t* p) const {
    Masks m;
#if defined(__AVX2__)
    __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32));
    auto mask = [](__m256i a, __m256i b) {
      return static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(a))) |
             (static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(b))) << 32);
    };
    m.quote = mask(_mm256_cmpeq_epi8(lo, vq_), _mm256_cmpeq_epi8(hi, vq_));
    m.delim = mask(_mm256_cmpeq_epi8(lo, vd_), _mm256_cmpeq_epi8(hi, vd_));
    m.lf = mask(_mm256_cmpeq_epi8(lo, vl_), _mm256_cmpeq_epi8(hi, vl_));
    m.high = mask(lo, hi);
#elif defined(__SSE2__)
    m.quote = m.delim = m.lf = m.high = 0;
    for (int k = 0; k < 4; ++k) {
      __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
      auto bits = [k](__m128i v) {
        return static_cast<uint64_t>(static_cast<uint32_t>(_mm_movemask_epi8(v))) << (16 * k);
      };
      m.quote |= bits(_mm_cmpeq_epi8(x, vq_));
      m.delim |= bits(_mm_cmpeq_epi8(x, vd_));
      m.lf |= bits(_mm_cmpeq_epi8(x, vl_));
      m.high |= bits(x);
    }
#else
    m.quote = m.delim = m.lf = m.high = 0;
    for (int i = 0; i < 64; ++i) {
      uint64_t bit = uint64_t{1} << i;
      char c = static_cast<char>(p[i]);
      if (c == quote_) m.quote |= bit;
      if (c == delim_) m.delim |= bit;
      if (c == '\n') m.lf |= bit;
      if (p[i] >= 0x80) m.high |= bit;
    }
#endif
    return m;
  }

  // The last `n` < 64 bytes: scanned from a zero-padded copy (NUL is never quote/delimiter).
  Masks ScanTail(const uint8_t* p, size_t n) const {
    uint8_t chunk[64] = {};
    std::memcpy(chunk, p, n);
    return Scan(chunk);
  }

 private:
  [[maybe_unused]] char quote_;
  [[maybe_unused]] char delim_;
#if defined(__AVX2__)
  __m256i vq_, vd_, vl_;
#elif defined(__SSE2__)
  __m128i vq_, vd_, vl_;
#endif
};

// Bit i of the result is the XOR of bits 0..i of x: with x = quote positions, the bytes inside
// quotes (the opening quote included, the closing one excluded).
inline uint64_t PrefixXor(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

// Bits 0..bit inclusive.
inline uint64_t MaskThrough(unsigned bit) { return ~uint64_t{0} >> (63 - bit); }

inline int Popcount(uint64_t x) { return __builtin_popcountll(x); }

// Sets bits [start, start + n) of a validity bitmap.
void SetBitsValid(uint8_t* bitmap, int64_t start, int64_t n) {
  int64_t i = start, end = start + n;
  for (; i < end && (i & 7) != 0; ++i) bitmap[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
  if (end - i >= 8) {
    std::memset(bitmap + (i >> 3), 0xff, static_cast<size_t>((end - i) >> 3));
    i += (end - i) & ~int64_t{7};
  }
  for (; i < end; ++i) bitmap[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
}

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

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Removes the quotes of a quoted field text `"..."` and turns "" into ", appending to `out`.
// False when the text is not exactly one well-formed quoted field.
bool Unquote(const char* b, const char* e, char quote, std::string* out) {
  out->clear();
  if (e - b < 2 || *b != quote || e[-1] != quote) return false;
  const char* p = b + 1;
  const char* end = e - 1;
  while (p < end) {
    const void* q = std::memchr(p, quote, static_cast<size_t>(end - p));
    if (q == nullptr) {
      out->append(p, static_cast<size_t>(end - p));
      return true;
    }
    const char* qc = static_cast<const char*>(q);
    if (qc + 1 >= end || qc[1] != quote) return false;  // a lone quote inside
    out->append(p, static_cast<size_t>(qc + 1 - p));    // keeps one quote
    p = qc + 2;
  }
  return true;
}

constexpr std::string_view kBom = "\xEF\xBB\xBF";

// Remembers the last timestamp text parsed and its value. Event-time columns are mostly in
// order at second or minute resolution, so consecutive rows often repeat the exact text (the
// flights data: 11 rows a minute on average); a memcmp is much cheaper than a parse.
class TimestampMemo {
 public:
  CellParse Parse(std::string_view s, int64_t* out) {
    if (s.size() == size_ && std::memcmp(s.data(), text_, size_) == 0) {
      *out = value_;
      return CellParse::kOk;
    }
    CellParse r = ParseTimestampCell(s, out);
    if (r == CellParse::kOk && s.size() <= sizeof(text_)) {
      std::memcpy(text_, s.data(), s.size());
      size_ = s.size();
      value_ = *out;
    }
    return r;
  }

 private:
  char text_[32];
  size_t size_ = SIZE_MAX;
  int64_t value_ = 0;
};

}  // namespace

// ---- options and construction -------------------------------------------------------------

Result<char> GetCsvCharOption(const Options& options, std::string_view key, char fallback) {
  if (!options.Has(key)) return fallback;
  std::string v = options.GetString(key);
  if (v == "\\t" || v == "tab") return '\t';
  if (v.size() != 1) return InvalidArgument("option '{}' must be one character, got '{}'", key, v);
  if (v[0] == '\n' || v[0] == '\r' || v[0] == '\0')
    return InvalidArgument("option '{}' cannot be a line break or NUL", key);
  return v[0];
}

Result<CsvDecodeOptions> ParseCsvDecodeOptions(const Options& options) {
  CsvDecodeOptions o;
  WEIR_ASSIGN_OR_RETURN(o.header, options.GetBool("header", false));
  WEIR_ASSIGN_OR_RETURN(o.delimiter, GetCsvCharOption(options, "delimiter", ','));
  WEIR_ASSIGN_OR_RETURN(o.quote, GetCsvCharOption(options, "quote", '"'));
  if (o.delimiter == o.quote)
    return InvalidArgument("options 'delimiter' and 'quote' must differ (both '{}')", o.quote);
  if (options.Has("null_string")) {
    o.has_null_string = true;
    o.null_string = options.GetString("null_string");
  }
  return o;
}

CsvDecoder::CsvDecoder(SchemaPtr schema, std::vector<int> projection, CsvDecodeOptions options,
                       BadRecordHandler* handler)
    : schema_(std::move(schema)),
      projection_(std::move(projection)),
      options_(std::move(options)),
      handler_(handler) {
  std::vector<Field> fields;
  for (int index : projection_) fields.push_back(schema_->field(static_cast<size_t>(index)));
  output_schema_ = std::make_shared<Schema>(std::move(fields));
  header_pending_ = options_.header;
  if (!options_.header) {
    // Without a header, field f is schema column f.
    std::vector<std::string> names;
    for (const Field& f : schema_->fields()) names.push_back(f.name);
    Status st = BuildFieldMap(names, 0);
    WEIR_CHECK(st.ok());  // cannot fail: every column is present
  }
}

CsvDecoder::~CsvDecoder() = default;

Status CsvDecoder::BuildFieldMap(const std::vector<std::string>& names, int64_t header_line) {
  std::vector<int32_t> field_of_column(schema_->num_fields(), -1);
  for (size_t i = 0; i < schema_->num_fields(); ++i) {
    const std::string& want = schema_->field(i).name;
    for (size_t h = 0; h < names.size(); ++h) {
      if (IEquals(TrimSpaces(names[h]), want)) {
        field_of_column[i] = static_cast<int32_t>(h);
        break;
      }
    }
    if (field_of_column[i] < 0) {
      std::string listed;
      for (const std::string& n : names) listed += (listed.empty() ? "" : ", ") + n;
      return DataError("{}:{}: column '{}' not found in the CSV header ({})",
                       handler_->source_name(), header_line, want, listed);
    }
  }
  nfields_ = static_cast<uint32_t>(names.size());
  nslots_ = 0;
  slot_of_field_.assign(nfields_, -1);
  slot_of_output_.assign(projection_.size(), 0);
  for (size_t c = 0; c < projection_.size(); ++c) {
    int32_t f = field_of_column[static_cast<size_t>(projection_[c])];
    if (slot_of_field_[static_cast<size_t>(f)] < 0)
      slot_of_field_[static_cast<size_t>(f)] = static_cast<int32_t>(nslots_++);
    slot_of_output_[c] = static_cast<uint32_t>(slot_of_field_[static_cast<size_t>(f)]);
  }
  return Status::OK();
}

void CsvDecoder::SaveState(StateWriter* w) const {
  w->Begin("csv_decoder");
  w->I64(next_line_);
  w->Bool(started_);
  w->Bool(header_pending_);
  w->U64(header_names_.size());
  for (const std::string& name : header_names_) w->String(name);
  w->Bool(skipping_);
  w->U64(skip_quote_carry_);
  w->I64(skip_line_);
  w->End();
}

Status CsvDecoder::RestoreState(StateReader* r) {
  r->Begin("csv_decoder");
  const int64_t next_line = r->I64();
  const bool started = r->Bool();
  const bool header_pending = r->Bool();
  const uint64_t names = r->U64();
  if (names > r->remaining()) r->Fail("CSV header name count exceeds the state");
  std::vector<std::string> header_names;
  for (uint64_t i = 0; i < names && r->ok(); ++i) header_names.push_back(r->String());
  const bool skipping = r->Bool();
  const uint64_t carry = r->U64();
  const int64_t skip_line = r->I64();
  r->End();
  if (!r->ok()) return r->status();
  if (next_line < 1) return DataError("csv decoder state: line {} < 1", next_line);
  if (header_pending && !options_.header)
    return DataError("csv decoder state: header pending but the source has header = 'false'");
  if (!header_names.empty()) {
    if (!options_.header)
      return DataError("csv decoder state has a header but the source has header = 'false'");
    WEIR_RETURN_IF_ERROR(BuildFieldMap(header_names, 1));
  }
  next_line_ = next_line;
  started_ = started;
  header_pending_ = header_pending;
  header_names_ = std::move(header_names);
  skipping_ = skipping;
  skip_quote_carry_ = carry;
  skip_line_ = skip_line;
  return Status::OK();
}

void CsvDecoder::PrepareBatch(RecordBatch* out) {
  out->set_schema(output_schema_);
  out->DisableOps();
  auto& cols = out->columns();
  cols.resize(projection_.size());
  for (size_t c = 0; c < cols.size(); ++c) ReuseColumn(&cols[c], output_schema_->field(c).type);
}

// ---- Decode -------------------------------------------------------------------------------

struct CsvDecoder::Block {
  uint32_t nrec = 0;  // records tokenized (bad ones included)
  size_t used = 0;    // bytes consumed
  bool any_quote = false;
  bool any_high = false;
};

Status CsvDecoder::Decode(const char* data, size_t len, bool at_eof, int64_t rows_max,
                          RecordBatch* out, size_t* consumed) {
  *consumed = 0;
  if (out->num_rows() == 0) PrepareBatch(out);
  rows_max = std::clamp<int64_t>(rows_max, 1, kBatchRowsMax);
  if (len > kDecodeWindowBytesMax) {
    len = kDecodeWindowBytesMax;
    at_eof = false;
  }
  size_t off = 0;
  if (!started_) {
    size_t n = std::min(len, kBom.size());
    if (std::string_view(data, n) == kBom.substr(0, n)) {
      if (n < kBom.size() && !at_eof) return Status::OK();  // cannot tell yet
      if (n == kBom.size()) off = n;
    }
    started_ = true;
  }
  if (skipping_) {
    bool done = false;
    off += SkipOverlong(data + off, len - off, at_eof, &done);
    if (!done) {
      *consumed = off;
      return Status::OK();
    }
  }
  if (header_pending_) {
    size_t used = 0;
    bool done = false;
    WEIR_RETURN_IF_ERROR(ConsumeHeader(data + off, len - off, at_eof, &used, &done));
    off += used;
    if (!done) {
      *consumed = off;
      return Status::OK();
    }
  }
  const char* block_data = data + off;
  Block block;
  WEIR_RETURN_IF_ERROR(Tokenize(block_data, len - off, at_eof, rows_max, &block));
  *consumed = off + block.used;
  if (block.nrec == 0) return Status::OK();

  const int64_t base_rows = out->num_rows();
  if (block.any_quote) {
    ParseColumns<true>(block_data, block, out, base_rows);
  } else {
    ParseColumns<false>(block_data, block, out, base_rows);
  }
  out->set_num_rows(base_rows + block.nrec);
  if (__builtin_expect(!bad_.empty(), 0))
    return HandleBadRows(block_data, out, base_rows, block.nrec);
  return Status::OK();
}

// Discards the rest of a record longer than record_bytes_max: scans (quote-aware, from the
// carried quote state) for the LF that ends it. Returns the bytes consumed.
size_t CsvDecoder::SkipOverlong(const char* data, size_t len, bool at_eof, bool* done) {
  const auto* u = reinterpret_cast<const uint8_t*>(data);
  ChunkScanner scanner(options_.quote, options_.delimiter);
  uint64_t carry = skip_quote_carry_;
  for (size_t pos = 0; pos < len; pos += 64) {
    size_t avail = len - pos;
    Masks m = avail >= 64 ? scanner.Scan(u + pos) : scanner.ScanTail(u + pos, avail);
    uint64_t inside = PrefixXor(m.quote) ^ carry;
    carry = static_cast<uint64_t>(static_cast<int64_t>(inside) >> 63);
    uint64_t ends = m.lf & ~inside;
    if (ends != 0) {
      unsigned bit = static_cast<unsigned>(__builtin_ctzll(ends));
      skip_line_ += Popcount(m.lf & MaskThrough(bit));
      next_line_ = skip_line_;
      skipping_ = false;
      *done = true;
      return pos + bit + 1;
    }
    skip_line_ += Popcount(m.lf);
  }
  skip_quote_carry_ = carry;
  if (at_eof) {
    skipping_ = false;
    next_line_ = skip_line_;
  }
  *done = !skipping_;
  return len;
}

Status CsvDecoder::ConsumeHeader(const char* data, size_t len, bool at_eof, size_t* used,
                                 bool* done) {
  *done = false;
  *used = 0;
  size_t pos = 0;
  const char quote = options_.quote, delim = options_.delimiter;
  while (true) {
    // Find the LF ending the record that starts at pos (quote-aware), counting LFs inside.
    bool in_quotes = false;
    int64_t lfs_inside = 0;
    size_t end = pos;
    bool found = false;
    for (; end < len; ++end) {
      char c = data[end];
      if (c == quote) {
        in_quotes = !in_quotes;
      } else if (c == '\n') {
        if (!in_quotes) {
          found = true;
          break;
        }
        ++lfs_inside;
      }
    }
    if (!found) {
      if (end - pos > options_.record_bytes_max)
        return DataError("{}:{}: CSV header longer than line_bytes_max ({} bytes)",
                         handler_->source_name(), next_line_, options_.record_bytes_max);
      if (!at_eof) {
        *used = pos;
        return Status::OK();
      }
      if (in_quotes)
        return DataError("{}:{}: unterminated quoted field in the CSV header",
                         handler_->source_name(), next_line_);
    }
    size_t text_end = end;
    if (text_end > pos && data[text_end - 1] == '\r') --text_end;
    if (text_end - pos > options_.record_bytes_max)
      return DataError("{}:{}: CSV header longer than line_bytes_max ({} bytes)",
                       handler_->source_name(), next_line_, options_.record_bytes_max);
    int64_t header_line = next_line_;
    next_line_ += lfs_inside + (found ? 1 : 0);
    size_t next = found ? end + 1 : len;
    if (text_end == pos) {  // blank line before the header
      pos = next;
      if (pos >= len && !found) {
        *used = pos;
        *done = true;  // empty input: no header, no rows
        header_pending_ = false;
        return Status::OK();
      }
      continue;
    }
    // Split the header into names.
    std::vector<std::string> names;
    size_t f = pos;
    while (true) {
      size_t g = f;
      bool q = false;
      while (g < text_end && (q || data[g] != delim)) {
        if (data[g] == quote) q = !q;
        ++g;
      }
      std::string name;
      std::string_view raw = TrimSpaces(std::string_view(data + f, g - f));
      if (!raw.empty() && raw.front() == quote) {
        if (!Unquote(raw.data(), raw.data() + raw.size(), quote, &name))
          return DataError("{}:{}: malformed quoted field in the CSV header",
                           handler_->source_name(), header_line);
      } else {
        name.assign(raw);
      }
      names.push_back(std::move(name));
      if (g >= text_end) break;
      f = g + 1;
    }
    WEIR_RETURN_IF_ERROR(BuildFieldMap(names, header_line));
    header_names_ = std::move(names);
    header_pending_ = false;
    *used = next;
    *done = true;
    return Status::OK();
  }
}

Status CsvDecoder::ReportOverlong(const char* data, size_t len) {
  std::string reason =
      fmt::format("record longer than line_bytes_max ({} bytes)", options_.record_bytes_max);
  return handler_->OnBadRecord(
      next_line_, std::string_view(data, std::min(len, BadRecordHandler::kOverlongRawBytesMax)),
      reason);
}

Status CsvDecoder::Tokenize(const char* data, size_t len, bool at_eof, int64_t rows_max,
                            Block* block) {
  const auto* u = reinterpret_cast<const uint8_t*>(data);
  const auto records_max = static_cast<size_t>(rows_max);
  if (records_.size() < records_max) records_.resize(records_max);
  if (spans_.size() < records_max * nslots_) spans_.resize(records_max * nslots_);
  Span* const spans = spans_.data();
  RecordRef* const records = records_.data();
  const int32_t* const slot_of_field = slot_of_field_.data();
  const uint32_t nfields = nfields_, nslots = nslots_;
  const size_t max_bytes = options_.record_bytes_max;
  ChunkScanner scanner(options_.quote, options_.delimiter);

  uint64_t carry = 0;  // all ones while inside quotes across a chunk boundary
  uint64_t any_quote = 0, any_high = 0;
  uint32_t rec_begin = 0, field_begin = 0, field = 0, nrec = 0;
  int64_t rec_line = next_line_;    // line of the record being scanned
  int64_t chunk_line = next_line_;  // line of the first byte of the current chunk

  // Closes the record ending at `p` (its LF, or len at EOF); a blank line is dropped.
  auto finish_record = [&](uint32_t p) __attribute__((always_inline)) {
    uint32_t end = p;
    if (end > rec_begin && data[end - 1] == '\r') --end;
    if (field == 1 && end == rec_begin) return;  // blank line
    Span* rec_spans = spans + size_t{nrec} * nslots;
    if (end != p && field <= nfields) {
      int32_t last = slot_of_field[field - 1];
      if (last >= 0) rec_spans[last].end = end;  // drop the CR of CRLF
    }
    records[nrec] = RecordRef{rec_begin, end, rec_line};
    if (__builtin_expect(field != nfields || end - rec_begin > max_bytes, 0))
      RecordProblem(nrec, field, end - rec_begin, rec_spans, rec_begin);
    ++nrec;
  };

  for (size_t pos = 0; pos < len; pos += 64) {
    size_t avail = len - pos;
    Masks m = avail >= 64 ? scanner.Scan(u + pos) : scanner.ScanTail(u + pos, avail);
    any_quote |= m.quote;
    any_high |= m.high;
    uint64_t inside = PrefixXor(m.quote) ^ carry;
    carry = static_cast<uint64_t>(static_cast<int64_t>(inside) >> 63);
    uint64_t ends = (m.delim | m.lf) & ~inside;
    // Line numbers without a popcount per record (baseline x86-64 has no POPCNT): unquoted LFs
    // are counted as the loop passes them; LFs inside quotes (rare) are counted by popcount.
    const uint64_t quoted_lf = m.lf & inside;
    int64_t lf_seen = 0;
    while (ends != 0) {
      unsigned bit = static_cast<unsigned>(__builtin_ctzll(ends));
      ends &= ends - 1;
      auto p = static_cast<uint32_t>(pos + bit);
      if (field < nfields) {
        int32_t slot = slot_of_field[field];
        if (slot >= 0)
          spans[size_t{nrec} * nslots + static_cast<uint32_t>(slot)] = Span{field_begin, p};
      }
      ++field;
      field_begin = p + 1;
      if ((m.lf >> bit) & 1) {
        finish_record(p);
        ++lf_seen;
        rec_line = chunk_line + lf_seen;
        if (__builtin_expect(quoted_lf != 0, 0)) rec_line += Popcount(quoted_lf & MaskThrough(bit));
        rec_begin = field_begin;
        field = 0;
        if (nrec == records_max) {
          block->nrec = nrec;
          block->used = rec_begin;
          block->any_quote = any_quote != 0;
          block->any_high = any_high != 0;
          next_line_ = rec_line;
          return Status::OK();
        }
      }
    }
    chunk_line += lf_seen + (quoted_lf != 0 ? Popcount(quoted_lf) : 0);
  }

  block->used = len;
  if (rec_begin < len) {  // a record without its LF
    if (at_eof) {
      if (carry != 0) {  // still inside quotes at the end of the input
        Span* rec_spans = spans + size_t{nrec} * nslots;
        for (uint32_t s = 0; s < nslots; ++s) rec_spans[s] = Span{rec_begin, rec_begin};
        records[nrec] = RecordRef{rec_begin, static_cast<uint32_t>(len), rec_line};
        MarkBad(nrec, -1, "unterminated quoted field");
        ++nrec;
      } else {
        auto p = static_cast<uint32_t>(len);
        if (field < nfields && slot_of_field[field] >= 0)
          spans[size_t{nrec} * nslots + static_cast<uint32_t>(slot_of_field[field])] =
              Span{field_begin, p};
        ++field;
        finish_record(p);
      }
      next_line_ = chunk_line;
    } else if (len - rec_begin > max_bytes && nrec == 0) {
      // The first record is incomplete and already too long: report it now and discard the
      // rest of it as it arrives, so nobody has to buffer it.
      next_line_ = rec_line;
      WEIR_RETURN_IF_ERROR(ReportOverlong(data + rec_begin, len - rec_begin));
      skipping_ = true;
      skip_quote_carry_ = carry;
      skip_line_ = chunk_line;
    } else {
      block->used = rec_begin;  // wait for the rest of the record
      next_line_ = rec_line;
    }
  } else {
    next_line_ = rec_line;
  }
  block->nrec = nrec;
  block->any_quote = any_quote != 0;
  block->any_high = any_high != 0;
  return Status::OK();
}

// ---- typed column parsing -----------------------------------------------------------------

void CsvDecoder::MarkBad(uint32_t row, int32_t order, std::string reason) {
  bad_.push_back(BadRow{row, order, std::move(reason)});
}

// The rare part of closing a record: a wrong field count (missing fields get harmless empty
// spans) or an over-long record.
void CsvDecoder::RecordProblem(uint32_t rec, uint32_t fields, size_t bytes, Span* rec_spans,
                               uint32_t rec_begin) {
  if (fields != nfields_) {
    for (uint32_t f = fields; f < nfields_; ++f)
      if (slot_of_field_[f] >= 0) rec_spans[slot_of_field_[f]] = Span{rec_begin, rec_begin};
    MarkBad(rec, -1, fmt::format("expected {} fields, found {}", nfields_, fields));
  }
  if (bytes > options_.record_bytes_max)
    MarkBad(rec, -1,
            fmt::format("record longer than line_bytes_max ({} bytes)", options_.record_bytes_max));
}

void CsvDecoder::MarkBadValue(uint32_t row, size_t out_col, std::string_view what, const char* b,
                              const char* e) {
  const Field& f = output_schema_->field(out_col);
  std::string shown(b, static_cast<size_t>(std::min<ptrdiff_t>(e - b, 64)));
  if (e - b > 64) shown += "...";
  MarkBad(row, static_cast<int32_t>(out_col),
          fmt::format("column '{}': {} '{}'", f.name, what, shown));
}

// Yields the text of a cell in [*b, *e). In careful mode (the block has quotes) a quoted cell
// is unquoted into `unquoted_`, and a malformed one marks the row bad and returns false.
template <bool kCareful>
inline bool CsvDecoder::CellText(const char* data, Span span, size_t out_col, uint32_t row,
                                 const char** b, const char** e, bool* quoted) {
  *b = data + span.begin;
  *e = data + span.end;
  *quoted = false;
  if constexpr (kCareful) {
    const char quote = options_.quote;
    if (*b == *e) return true;
    if (**b == quote) {
      if (!Unquote(*b, *e, quote, &unquoted_)) {
        MarkBadValue(row, out_col, "malformed quoted field", *b, *e);
        return false;
      }
      *b = unquoted_.data();
      *e = unquoted_.data() + unquoted_.size();
      *quoted = true;
    } else if (std::memchr(*b, quote, static_cast<size_t>(*e - *b)) != nullptr) {
      MarkBadValue(row, out_col, "quote inside an unquoted field", *b, *e);
      return false;
    }
  }
  return true;
}

template <bool kCareful, typename T, typename ParseFn>
void CsvDecoder::ParseFixedColumn(const char* data, uint32_t nrec, size_t out_col, Column* col,
                                  int64_t base_rows, ParseFn parse) {
  col->ResizeFixed(base_rows + nrec);
  T* dst = col->data<T>() + base_rows;
  if (col->has_validity()) SetBitsValid(col->mutable_validity(), base_rows, nrec);
  const Span* spans = spans_.data() + slot_of_output_[out_col];
  const size_t stride = nslots_;
  const bool has_null_string = options_.has_null_string;
  for (uint32_t r = 0; r < nrec; ++r) {
    const char *b, *e;
    bool quoted;
    if (!CellText<kCareful>(data, spans[size_t{r} * stride], out_col, r, &b, &e, &quoted)) {
      dst[r] = T{};
      continue;
    }
    if (b == e || (has_null_string && !quoted &&
                   std::string_view(b, static_cast<size_t>(e - b)) == options_.null_string)) {
      dst[r] = T{};
      col->SetNull(base_rows + r);
      continue;
    }
    CellParse result = parse(std::string_view(b, static_cast<size_t>(e - b)), &dst[r]);
    if (__builtin_expect(result != CellParse::kOk, 0)) {
      dst[r] = T{};
      const Field& f = output_schema_->field(out_col);
      MarkBad(
          r, static_cast<int32_t>(out_col),
          BadValueReason(f.name, f.type, result, std::string_view(b, static_cast<size_t>(e - b))));
    }
  }
}

template <bool kCareful>
void CsvDecoder::ParseVarcharColumn(const char* data, uint32_t nrec, bool any_high, size_t out_col,
                                    Column* col, int64_t base_rows) {
  const Span* spans = spans_.data() + slot_of_output_[out_col];
  const size_t stride = nslots_;
  int64_t bytes = 0;
  for (uint32_t r = 0; r < nrec; ++r) {
    Span s = spans[size_t{r} * stride];
    bytes += s.end - s.begin;
  }
  col->Reserve(nrec, bytes);
  const bool has_null_string = options_.has_null_string;
  for (uint32_t r = 0; r < nrec; ++r) {
    const char *b, *e;
    bool quoted;
    if (!CellText<kCareful>(data, spans[size_t{r} * stride], out_col, r, &b, &e, &quoted)) {
      col->AppendNull();
      continue;
    }
    std::string_view text(b, static_cast<size_t>(e - b));
    if (!quoted && (text.empty() || (has_null_string && text == options_.null_string))) {
      col->AppendNull();
      continue;
    }
    if (any_high && !IsValidUtf8(text.data(), text.size())) {
      MarkBadValue(r, out_col, "invalid UTF-8 in VARCHAR", b, e);
      col->AppendNull();
      continue;
    }
    col->AppendString(text);
  }
}

template <bool kCareful>
void CsvDecoder::ParseColumns(const char* data, const Block& block, RecordBatch* out,
                              int64_t base_rows) {
  const uint32_t n = block.nrec;
  for (size_t c = 0; c < projection_.size(); ++c) {
    Column* col = out->columns()[c].get();
    const DataType type = col->type();
    // Lambdas (not function pointers) so that each instantiation calls its parser directly.
    switch (type.id) {
      case TypeId::kBoolean:
        ParseFixedColumn<kCareful, uint8_t>(
            data, n, c, col, base_rows,
            [](std::string_view s, uint8_t* v) { return ParseBoolCell(s, v); });
        break;
      case TypeId::kInt32:
        ParseFixedColumn<kCareful, int32_t>(
            data, n, c, col, base_rows,
            [](std::string_view s, int32_t* v) { return ParseInt32Cell(s, v); });
        break;
      case TypeId::kInt64:
        ParseFixedColumn<kCareful, int64_t>(
            data, n, c, col, base_rows,
            [](std::string_view s, int64_t* v) { return ParseInt64Cell(s, v); });
        break;
      case TypeId::kDouble:
        ParseFixedColumn<kCareful, double>(
            data, n, c, col, base_rows,
            [](std::string_view s, double* v) { return ParseDoubleCell(s, v); });
        break;
      case TypeId::kDecimal:
        ParseFixedColumn<kCareful, int64_t>(
            data, n, c, col, base_rows,
            [type](std::string_view s, int64_t* v) { return ParseDecimalCell(s, type, v); });
        break;
      case TypeId::kTimestamp: {
        TimestampMemo memo;
        ParseFixedColumn<kCareful, int64_t>(
            data, n, c, col, base_rows,
            [&memo](std::string_view s, int64_t* v) { return memo.Parse(s, v); });
        break;
      }
      case TypeId::kInterval:
        ParseFixedColumn<kCareful, Interval>(
            data, n, c, col, base_rows,
            [](std::string_view s, Interval* v) { return ParseIntervalCell(s, v); });
        break;
      case TypeId::kVarchar:
        ParseVarcharColumn<kCareful>(data, n, block.any_high, c, col, base_rows);
        break;
      case TypeId::kNull:
        // Not a column type (the binder never declares one); every value is NULL.
        for (uint32_t r = 0; r < n; ++r) col->AppendNull();
        break;
    }
  }
}

// Reports the bad rows of the block in file order, then (skip / dead_letter) removes them.
Status CsvDecoder::HandleBadRows(const char* data, RecordBatch* out, int64_t base_rows,
                                 uint32_t nrec) {
  return DropBadRecords(data, records_.data(), nrec, &bad_, options_.record_bytes_max, base_rows, handler_, out, &keep_,
                        &compact_scratch_);
}

Result<std::unique_ptr<Decoder>> MakeCsvDecoder(SchemaPtr schema, std::vector<int> projection,
                                                const Options& options, size_t record_bytes_max,
                                                BadRecordHandler* handler) {
  WEIR_ASSIGN_OR_RETURN(CsvDecodeOptions o, ParseCsvDecodeOptions(options));
  o.record_bytes_max = record_bytes_max;
  return std::unique_ptr<Decoder>(
      new CsvDecoder(std::move(schema), std::move(projection), std::move(o), handler));
}

}  // namespace weir
