// JsonDecoder: JSON Lines (https://jsonlines.org) -> RecordBatch.
//
// Each line is one JSON object (RFC 8259). Keys are matched to the schema's columns
// case-insensitively; a missing key or null is NULL, unknown keys are ignored (not validated
// beyond their structure), a duplicate key's last value wins. Values by column type:
//   BOOLEAN                      true/false, or a string/number ParseBoolCell accepts
//   INT, BIGINT, DOUBLE, DECIMAL a number, or a string holding one; DECIMAL is parsed from the
//                                number's own text, so it is exact
//   VARCHAR, TIMESTAMP, INTERVAL a string
// An empty string in a non-VARCHAR column is NULL (as a quoted empty CSV field). Anything else
// (an object or array value, a type mismatch, malformed JSON, a line that is not an object or
// has trailing content, a line longer than line_bytes_max) is a bad record with its line
// number. Blank lines and CR before LF are ignored; a UTF-8 byte-order mark is skipped.
//
// Implementation: simdjson On-Demand parses each line (in place when 64 bytes of padding
// follow it inside the caller's buffer, else from a padded copy); the parse only records, per
// projected key, the value's kind and raw text. Then one loop per projected column, specialised
// for its type, converts the raw texts, as the CSV decoder does with its field spans.
//
// Ownership: keeps no pointer into the caller's bytes after Decode() returns; the handler must
// outlive the decoder. Thread-safety: one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "formats/format.h"

namespace weir {

class JsonDecoder final : public Decoder {
 public:
  /// `projection` holds valid schema indices (checked by MakeDecoder).
  JsonDecoder(SchemaPtr schema, std::vector<int> projection, size_t record_bytes_max,
              BadRecordHandler* handler);
  ~JsonDecoder() override;

  Status Decode(const char* data, size_t len, bool at_eof, int64_t rows_max, RecordBatch* out,
                size_t* consumed) override;
  int64_t next_line() const override { return next_line_; }
  void SaveState(StateWriter* w) const override;
  Status RestoreState(StateReader* r) override;
  const SchemaPtr& output_schema() const override { return output_schema_; }

 private:
  enum class Kind : uint8_t {
    kMissing,
    kNull,
    kString,
    kEscapedString,
    kNumber,
    kTrue,
    kFalse,
    kNested
  };
  struct Cell {
    const char* text;  // kString/kEscapedString: the content between the quotes; kNumber: it
    uint32_t size;
    Kind kind;
  };
  using RecordRef = DecodedRecord;
  using BadRow = BadRecord;
  struct ParserState;  // simdjson parser (kept out of this header)

  bool ParseLine(const char* text, size_t size, size_t capacity, Cell* cells, std::string* reason);
  int MatchKey(std::string_view key);
  template <typename T, typename ParseFn>
  void ParseFixedColumn(uint32_t nrec, size_t out_col, Column* col, int64_t base_rows,
                        bool accept_number, ParseFn parse);
  void ParseBoolColumn(uint32_t nrec, size_t out_col, Column* col, int64_t base_rows);
  void ParseVarcharColumn(uint32_t nrec, size_t out_col, Column* col, int64_t base_rows);
  // The text of a string/number cell (unescaped when needed) or false after marking the row.
  bool CellText(const Cell& cell, uint32_t row, size_t out_col, std::string_view* text);
  void MarkMismatch(uint32_t row, size_t out_col, Kind found);
  Status HandleBadRows(const char* data, RecordBatch* out, int64_t base_rows, uint32_t nrec);
  void PrepareBatch(RecordBatch* out);

  SchemaPtr schema_;
  std::vector<int> projection_;
  SchemaPtr output_schema_;
  size_t record_bytes_max_;
  BadRecordHandler* handler_;
  std::unique_ptr<ParserState> parser_;

  // Projected keys: key_names_[k] (a schema column name) fills slot k; output column c reads
  // slot slot_of_output_[c].
  std::vector<std::string> key_names_;
  std::vector<uint32_t> slot_of_output_;
  size_t key_guess_ = 0;  // keys usually come in the same order: try the successor first

  int64_t next_line_ = 1;
  bool started_ = false;
  bool skipping_ = false;  // discarding the rest of a line longer than record_bytes_max

  std::vector<Cell> cells_;  // [record * nslots + slot]
  std::vector<RecordRef> records_;
  std::vector<BadRow> bad_;
  std::string tail_;  // padded copy of the end of the input (lines too close to its end)
  std::string unescaped_;
  std::vector<uint32_t> keep_;
  std::shared_ptr<Column> compact_scratch_;
};

/// Unescapes the content of a JSON string (between its quotes) into `out`: \" \\ \/ \b \f \n
/// \r \t and \uXXXX with surrogate pairs, as UTF-8. False on a malformed escape or a lone
/// surrogate.
bool UnescapeJsonString(std::string_view s, std::string* out);

/// MakeDecoder's JSON branch.
Result<std::unique_ptr<Decoder>> MakeJsonDecoder(SchemaPtr schema, std::vector<int> projection,
                                                 size_t record_bytes_max,
                                                 BadRecordHandler* handler);

}  // namespace weir
