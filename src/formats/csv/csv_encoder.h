// CsvEncoder: RecordBatch -> CSV text (RFC 4180, LF line ends).
//
// Output: an optional header line of column names; one line per row, fields separated by the
// delimiter. A field is quoted only when it contains the delimiter, the quote, CR or LF (a
// quote inside is doubled), when it is an empty VARCHAR ("" keeps it apart from NULL, which is
// an empty unquoted field), or when it starts with U+FEFF (read back as a byte-order mark at
// the start of a file otherwise). Values: BOOLEAN true/false, integers and DECIMAL as digits
// (DECIMAL with exactly `scale` fraction digits), DOUBLE as the shortest round-trip text
// (NaN, Infinity, -Infinity), TIMESTAMP 'YYYY-MM-DD HH:MM:SS[.ffffff]', INTERVAL in
// PostgreSQL style ('1 day 02:00:00'). A changelog encoder writes a first column `op` holding
// '+' (insert) or '-' (delete). So the CsvDecoder reads back exactly what this writes, with
// one exception: a single-column VARCHAR NULL is an empty line, which readers skip.
//
// Method: each column is formatted on its own by one loop specialised for its type into a
// reused scratch buffer (constant columns once), then the rows are interleaved with plain
// copies. No per-cell type dispatch; steady state allocates nothing.
// Thread-safety: one thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "formats/format.h"

namespace weir {

struct CsvEncodeOptions {
  char delimiter = ',';
  char quote = '"';
  bool header = true;
};

class CsvEncoder final : public Encoder {
 public:
  CsvEncoder(SchemaPtr schema, bool changelog, CsvEncodeOptions options);
  ~CsvEncoder() override;

  void WriteHeader(Buffer* out) override;
  void Encode(const RecordBatch& batch, Buffer* out) override;

 private:
  // Formatted text of one column of a batch: cell i is text[offsets[i * stride],
  // offsets[i * stride + 1]); stride is 0 for a constant column (one cell stands for all).
  struct ColumnText {
    Buffer text;     // with kCopySlack bytes of spare capacity (see the .cc)
    Buffer offsets;  // size_t, cells + 1
    size_t stride = 1;
  };

  void FormatColumn(const Column& col, int64_t rows, ColumnText* out);
  // Writes `text` as one field, quoted when needed; `w` has room for 2 * size + 2 bytes.
  char* WriteField(const char* text, size_t size, char* w) const;
  // Quotes the cells of a formatted non-VARCHAR column that need it (rare: risky delimiter).
  void QuoteCellsIfNeeded(ColumnText* ct, int64_t cells);

  SchemaPtr schema_;
  bool changelog_;
  CsvEncodeOptions options_;
  // The delimiter could appear inside formatted non-VARCHAR values ('-', ':', ' ', digits...):
  // then those columns go through the quoting check too.
  bool check_all_columns_;
  bool special_[256] = {};  // bytes that force quoting
  std::string null_text_;   // "" normally; "\"\"" for a lone non-VARCHAR column
  // Per-batch view of a column's cells.
  struct Source {
    const char* text;
    const size_t* off;
    size_t stride;
  };

  std::vector<ColumnText> columns_;
  std::vector<Source> sources_;
  std::vector<char> requote_scratch_;
};

/// MakeEncoder's CSV branch: reads header (default true), delimiter and quote.
Result<std::unique_ptr<Encoder>> MakeCsvEncoder(SchemaPtr schema, bool changelog,
                                                const Options& options);

}  // namespace weir
