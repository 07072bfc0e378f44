// CsvDecoder: CSV text -> RecordBatch, columnar and projection-aware.
//
// Dialect: RFC 4180 ("Common Format and MIME Type for CSV Files") plus the usual extensions:
// LF or CRLF line ends, a configurable one-byte delimiter and quote, an optional header line
// whose names are matched to the schema case-insensitively (extra header columns are ignored,
// a declared column missing from the header is an error naming it), blank lines skipped, a
// leading UTF-8 byte-order mark ignored. Inside a quoted field "" is a quote, and delimiters and
// line breaks are data. An unquoted empty field is NULL (or a field equal to the `null_string`
// option, when given); a quoted empty field is an empty VARCHAR (NULL for other types). A quote
// character inside an unquoted field is malformed. Line numbers are physical 1-based lines.
//
// Algorithm (two passes over a block of records, both branch-light):
//  1. Structural scan: 64 bytes at a time (SSE2/AVX2 where available, else scalar), build bit
//     masks of quotes, delimiters and LFs; the running prefix-XOR of the quote mask marks the
//     bytes inside quotes, so delimiters and LFs outside quotes are the field and record ends.
//     Only the spans (begin, end) of projected fields are stored.
//  2. Per projected column, one loop specialised for the column's type parses every span of
//     the block into the reused output column. Unprojected columns are never parsed. Blocks
//     without any quote or non-ASCII byte take a path that checks for neither.
// Bad records (wrong field count, unparsable value, invalid UTF-8, unterminated quote, longer
// than line_bytes_max) are reported to the BadRecordHandler in file order; under skip or
// dead_letter they are removed from the batch afterwards (rare path: columns are compacted).
//
// Ownership: keeps no pointer into the caller's bytes after Decode() returns; the handler must
// outlive the decoder. Thread-safety: one thread. Steady state decoding allocates nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "formats/format.h"

namespace weir {

struct CsvDecodeOptions {
  char delimiter = ',';
  char quote = '"';
  bool header = false;
  bool has_null_string = false;
  std::string null_string;  // with has_null_string: an unquoted field equal to it is NULL
  size_t record_bytes_max = static_cast<size_t>(kLineBytesMaxDefault);
};

/// Reads a one-byte CSV option (delimiter, quote): one character, or '\t' / 'tab' for a tab;
/// CR, LF and NUL are refused. `fallback` when absent.
Result<char> GetCsvCharOption(const Options& options, std::string_view key, char fallback);

/// Reads the CSV decoding options: header ('true'/'false', default false), delimiter (one byte;
/// '\t' or 'tab' for a tab; default ','), quote (one byte, default '"'), null_string.
/// Delimiter and quote must differ and be neither CR, LF nor NUL.
Result<CsvDecodeOptions> ParseCsvDecodeOptions(const Options& options);

class CsvDecoder final : public Decoder {
 public:
  /// `projection` holds valid schema indices (checked by MakeDecoder).
  CsvDecoder(SchemaPtr schema, std::vector<int> projection, CsvDecodeOptions options,
             BadRecordHandler* handler);
  ~CsvDecoder() override;

  Status Decode(const char* data, size_t len, bool at_eof, int64_t rows_max, RecordBatch* out,
                size_t* consumed) override;
  int64_t next_line() const override { return next_line_; }
  void SaveState(StateWriter* w) const override;
  Status RestoreState(StateReader* r) override;
  const SchemaPtr& output_schema() const override { return output_schema_; }

 private:
  struct Span {
    uint32_t begin;
    uint32_t end;
  };
  using RecordRef = DecodedRecord;
  using BadRow = BadRecord;
  struct Block;  // the result of Tokenize()

  Status ConsumeHeader(const char* data, size_t len, bool at_eof, size_t* used, bool* done);
  Status BuildFieldMap(const std::vector<std::string>& header_names, int64_t header_line);
  size_t SkipOverlong(const char* data, size_t len, bool at_eof, bool* done);
  Status ReportOverlong(const char* data, size_t len);
  Status Tokenize(const char* data, size_t len, bool at_eof, int64_t rows_max, Block* block);
  template <bool kCareful>
  void ParseColumns(const char* data, const Block& block, RecordBatch* out, int64_t base_rows);
  template <bool kCareful, typename T, typename ParseFn>
  void ParseFixedColumn(const char* data, uint32_t nrec, size_t out_col, Column* col,
                        int64_t base_rows, ParseFn parse);
  template <bool kCareful>
  void ParseVarcharColumn(const char* data, uint32_t nrec, bool any_high, size_t out_col,
                          Column* col, int64_t base_rows);
  template <bool kCareful>
  bool CellText(const char* data, Span span, size_t out_col, uint32_t row, const char** b,
                const char** e, bool* quoted);
  Status HandleBadRows(const char* data, RecordBatch* out, int64_t base_rows, uint32_t nrec);
  void MarkBad(uint32_t row, int32_t order, std::string reason);
  [[gnu::noinline]] void RecordProblem(uint32_t rec, uint32_t fields, size_t bytes, Span* rec_spans,
                                       uint32_t rec_begin);
  void MarkBadValue(uint32_t row, size_t out_col, std::string_view what, const char* b,
                    const char* e);
  void PrepareBatch(RecordBatch* out);

  SchemaPtr schema_;
  std::vector<int> projection_;
  SchemaPtr output_schema_;
  CsvDecodeOptions options_;
  BadRecordHandler* handler_;

  // Field layout of the input: nfields_ fields a record; slot_of_field_[f] is the span slot of
  // field f (-1: not needed); slot_of_output_[c] the slot of output column c.
  uint32_t nfields_ = 0;
  uint32_t nslots_ = 0;
  std::vector<int32_t> slot_of_field_;
  std::vector<uint32_t> slot_of_output_;

  int64_t next_line_ = 1;
  bool started_ = false;         // the byte-order mark check has been done
  bool header_pending_ = false;  // header=true and the header line has not been read yet
  std::vector<std::string> header_names_;  // the header's names once read (checkpoints)
  // Discarding a record longer than record_bytes_max: quote parity and line at the scan point.
  bool skipping_ = false;
  uint64_t skip_quote_carry_ = 0;
  int64_t skip_line_ = 0;

  // Per-block scratch, reused (sized by the largest block seen).
  std::vector<Span> spans_;  // [record * nslots_ + slot]
  std::vector<RecordRef> records_;
  std::vector<BadRow> bad_;
  std::string unquoted_;        // one unquoted field
  std::vector<uint32_t> keep_;  // selection of surviving rows (bad-record path)
  std::shared_ptr<Column> compact_scratch_;
};

/// MakeDecoder's CSV branch: reads the CSV options and builds a CsvDecoder.
Result<std::unique_ptr<Decoder>> MakeCsvDecoder(SchemaPtr schema, std::vector<int> projection,
                                                const Options& options, size_t record_bytes_max,
                                                BadRecordHandler* handler);

}  // namespace weir
