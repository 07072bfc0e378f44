// JsonEncoder: RecordBatch -> JSON Lines (https://jsonlines.org; RFC 8259 values).
//
// One object per row, keys in schema order: {"a":1,"b":"x"}\n. Values: NULL as null,
// BOOLEAN true/false, integers and DECIMAL as JSON numbers (DECIMAL with exactly `scale`
// fraction digits, so no precision is lost), DOUBLE as the shortest round-trip number, or the
// strings "NaN", "Infinity", "-Infinity" (JSON has no such numbers), VARCHAR as an escaped
// string, TIMESTAMP ('YYYY-MM-DD HH:MM:SS[.ffffff]') and INTERVAL ('1 day 02:00:00') as
// strings. A changelog encoder starts each object with "op":"+" or "op":"-". The JsonDecoder
// reads this output back to the same values.
//
// Method: as CsvEncoder, each column is formatted by one loop specialised for its type into
// reused scratch (constant columns once), then rows are interleaved with the precomputed
// `,"key":` prefixes. Thread-safety: one thread.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "formats/format.h"

namespace weir {

class JsonEncoder final : public Encoder {
 public:
  JsonEncoder(SchemaPtr schema, bool changelog);
  ~JsonEncoder() override;

  /// JSON Lines have no header: appends nothing.
  void WriteHeader(Buffer* out) override {}
  void Encode(const RecordBatch& batch, Buffer* out) override;

 private:
  // Formatted values of one column; cell i is text[offsets[i * stride], offsets[i*stride+1]).
  struct ColumnText {
    Buffer text;
    Buffer offsets;  // size_t, cells + 1
    size_t stride = 1;
  };
  void FormatColumn(const Column& col, int64_t rows, ColumnText* out);

  SchemaPtr schema_;
  bool changelog_;
  // Per-batch view of a column's cells and its key prefix.
  struct Source {
    const char* text;
    const size_t* off;
    size_t stride;
    const char* prefix;
    size_t prefix_size;
  };

  std::string prefixes_;     // `"key":` of each column, ',' first where needed, + zero padding
  size_t prefix_bytes_ = 0;  // without the padding
  std::vector<size_t> prefix_offsets_;  // columns + 1
  std::vector<ColumnText> columns_;
  std::vector<Source> sources_;
};

/// MakeEncoder's JSON branch (no options).
Result<std::unique_ptr<Encoder>> MakeJsonEncoder(SchemaPtr schema, bool changelog);

}  // namespace weir
