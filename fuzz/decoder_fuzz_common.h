// Shared harness of the decoder fuzz targets (csv_decoder_fuzz, json_decoder_fuzz): a schema
// covering every type, invariant checks on decoded batches, and a driver that reveals the input
// in blocks of a chosen size and collects the decoded rows. Header-only; include it from exactly
// one fuzz target translation unit.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "formats/format.h"

namespace weir {
namespace fuzz {

inline SchemaPtr FuzzSchema() {
  static const SchemaPtr schema =
      std::make_shared<Schema>(std::vector<Field>{{"b", DataType::Boolean()},
                                                  {"i", DataType::Int32()},
                                                  {"l", DataType::Int64()},
                                                  {"d", DataType::Double()},
                                                  {"m", DataType::Decimal(12, 3)},
                                                  {"s", DataType::Varchar()},
                                                  {"t", DataType::Timestamp()},
                                                  {"v", DataType::IntervalType()},
                                                  {"s2", DataType::Varchar()}});
  return schema;
}

[[noreturn]] inline void Fail(const char* what) {
  std::fprintf(stderr, "invariant violated: %s\n", what);
  std::abort();
}

inline void CheckBatch(const RecordBatch& batch, int64_t rows_max) {
  if (batch.num_rows() > rows_max) Fail("batch larger than rows_max");
  for (const ColumnPtr& col : batch.columns()) {
    if (col->length() != batch.num_rows()) Fail("column length != num_rows");
    if (col->type().id != TypeId::kVarchar) continue;
    for (int64_t r = 0; r < batch.num_rows(); ++r) {
      std::string_view s = col->GetString(r);
      if (!IsValidUtf8(s.data(), s.size())) Fail("invalid UTF-8 in a decoded VARCHAR");
    }
  }
}

// Renders rows cell by cell; NULL and "NULL" are told apart.
inline void AppendRows(const RecordBatch& batch, std::vector<std::string>* rows) {
  for (int64_t r = 0; r < batch.num_rows(); ++r) {
    std::string row;
    for (const ColumnPtr& col : batch.columns()) {
      row += col->IsNull(r) ? std::string("\x01N") : col->ValueToString(r);
      row += '\x02';
    }
    rows->push_back(std::move(row));
  }
}

struct Decoded {
  Status status;
  std::vector<std::string> rows;
  std::vector<RecordBatch> batches;
};

inline Decoded Run(const std::string& format, const char* data, size_t size, const Options& options,
            const std::vector<int>& projection, int64_t rows_max, size_t chunk, bool keep) {
  Decoded out;
  std::string dead_letter_path;
  auto policy = ParseErrorPolicy(options, &dead_letter_path);
  if (!policy.ok()) Fail("policy options");
  BadRecordHandler handler("fuzz", *policy);
  auto decoder = MakeDecoder(format, FuzzSchema(), projection, options, &handler);
  if (!decoder.ok()) Fail("decoder options");
  size_t pos = 0, visible = chunk == 0 ? size : std::min(chunk, size);
  for (int step = 0; step < 1'000'000; ++step) {
    bool eof = visible == size;
    // An exactly sized heap copy, so that ASan sees any read past what the decoder was given.
    std::vector<char> window(data + pos, data + visible);
    RecordBatch batch;
    size_t consumed = 0;
    out.status = (*decoder)->Decode(window.data(), window.size(), eof, rows_max, &batch, &consumed);
    if (!out.status.ok()) return out;
    if (consumed > window.size()) Fail("consumed more than given");
    CheckBatch(batch, rows_max);
    pos += consumed;
    AppendRows(batch, &out.rows);
    bool progress = batch.num_rows() > 0 || consumed > 0;
    if (keep && batch.num_rows() > 0) out.batches.push_back(std::move(batch));
    if (!progress) {
      if (eof) return out;
      visible = std::min(size, visible + std::max<size_t>(chunk, 1));
    }
  }
  Fail("no end after 1e6 steps");
}

}  // namespace fuzz
}  // namespace weir
