// Record formats: decoders (bytes -> RecordBatch) and encoders (RecordBatch -> bytes).
//
// Decoders are columnar: a batch of records is first split into fields, then each column is
// parsed by a loop specialised for its type, so there is no per-cell type dispatch. Malformed
// records go to a BadRecordHandler, which applies the source's `on_error` policy.
//
// Thread-safety: a decoder/encoder instance belongs to one thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "batch/buffer.h"
#include "batch/record_batch.h"
#include "common/status.h"
#include "connectors/options.h"

namespace weir {

enum class ErrorPolicy : uint8_t { kFail, kSkip, kDeadLetter };

/// Applies an on_error policy to malformed records and counts them.
/// kFail: returns DataError("<source>:<line>: <reason>").
/// kSkip: counts, returns OK.
/// kDeadLetter: appends a JSON line {"source","line","reason","raw"} to the dead-letter file,
///   counts, returns OK (an I/O error writing it is returned).
class BadRecordHandler {
 public:
  /// `source_name` is what errors call the input (a file path); `dead_letter_path` is opened
  /// lazily (append mode) on the first bad record under kDeadLetter.
  BadRecordHandler(std::string source_name, ErrorPolicy policy, std::string dead_letter_path = {});
  ~BadRecordHandler();
  BadRecordHandler(const BadRecordHandler&) = delete;
  BadRecordHandler& operator=(const BadRecordHandler&) = delete;

  /// `line` is 1-based; `raw` is the record's text (as read, without its line terminator).
  Status OnBadRecord(int64_t line, std::string_view raw, std::string_view reason);

  ErrorPolicy policy() const { return policy_; }
  int64_t skipped() const { return skipped_; }
  int64_t dead_lettered() const { return dead_lettered_; }
  const std::string& source_name() const { return source_name_; }

 private:
  std::string source_name_;
  ErrorPolicy policy_;
  std::string dead_letter_path_;
  std::FILE* dead_letter_ = nullptr;
  int64_t skipped_ = 0;
  int64_t dead_lettered_ = 0;
};

/// Parses the `on_error` (and `dead_letter_path`) options.
Result<ErrorPolicy> ParseErrorPolicy(const Options& options, std::string* dead_letter_path);

class Decoder {
 public:
  virtual ~Decoder() = default;

  /// Decodes complete records from `data[0, len)` and appends them as rows to `out`, whose
  /// columns are the projected columns (created/reused by the decoder on the first call after
  /// `out` was cleared by the caller: the caller passes a batch with num_rows() == 0).
  /// Stops after `rows_max` rows or when only an incomplete record remains. `*consumed` is
  /// the number of bytes fully consumed (always at a record boundary). When `at_eof` is true,
  /// a final record without a line terminator is consumed too.
  /// Malformed records go to the BadRecordHandler; its error (policy 'fail') is returned.
  virtual Status Decode(const char* data, size_t len, bool at_eof, int64_t rows_max,
                        RecordBatch* out, size_t* consumed) = 0;

  /// 1-based line number of the next record to decode.
  virtual int64_t next_line() const = 0;
};

/// Creates a decoder for `format` ('csv' | 'json'). `schema` is the declared schema;
/// `projection` the schema indices to emit, in order. Reads the format's options
/// (csv: header, delimiter, quote, null_string). `handler` must outlive the decoder.
Result<std::unique_ptr<Decoder>> MakeDecoder(std::string_view format, SchemaPtr schema,
                                             std::vector<int> projection, const Options& options,
                                             BadRecordHandler* handler);

class Encoder {
 public:
  virtual ~Encoder() = default;
  /// Appends what precedes the first record (the CSV header line; nothing for JSON lines).
  virtual void WriteHeader(Buffer* out) = 0;
  /// Appends one line per row of `batch`. A changelog encoder writes each row's op
  /// (CSV: leading column `op`; JSON: field "op") as '+' or '-'.
  virtual void Encode(const RecordBatch& batch, Buffer* out) = 0;
};

/// Creates an encoder for `format` ('csv' | 'json') writing `schema`'s columns. `changelog`
/// adds the op column/field. Reads options (csv: header, delimiter).
Result<std::unique_ptr<Encoder>> MakeEncoder(std::string_view format, SchemaPtr schema,
                                             bool changelog, const Options& options);

}  // namespace weir
