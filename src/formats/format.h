// Record formats: decoders (bytes -> RecordBatch) and encoders (RecordBatch -> bytes).
//
// Formats: 'csv' (RFC 4180 plus header mapping, CRLF/LF, NULL = unquoted empty field; see
// csv/csv_decoder.h) and 'json' (JSON Lines, https://jsonlines.org: one object a line; see
// json/json_decoder.h). The on-disk rules of each are written down in formats/README.md.
//
// Decoders are columnar: a batch of records is first split into fields, then each column is
// parsed by a loop specialised for its type, so there is no per-cell type dispatch. Malformed
// records go to a BadRecordHandler, which applies the source's `on_error` policy.
//
// Limits: a record longer than `line_bytes_max` bytes (option, default 16 MiB, at most 1 GiB) is
// a bad record; a decoder never buffers more than that on its own behalf.
// Ownership: a decoder does not keep pointers into the bytes it was given once Decode() returns;
// the batch it fills is the caller's. Thread-safety: a decoder/encoder instance belongs to one
// thread.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "batch/buffer.h"
#include "batch/record_batch.h"
#include "common/env.h"
#include "common/status.h"
#include "connectors/options.h"
#include "state/snapshot.h"

namespace weir {

enum class ErrorPolicy : uint8_t { kFail, kSkip, kDeadLetter };

/// Applies an on_error policy to malformed records and counts them.
/// kFail: returns DataError("<source>:<line>: <reason>").
/// kSkip: counts, returns OK.
/// kDeadLetter: appends a JSON line {"source","line","reason","raw"} to the dead-letter file,
///   counts, returns OK (an I/O error writing it is returned). `reason` has no "path:line: "
///   prefix; `raw` has ill-formed UTF-8 replaced by U+FFFD so that the line is valid JSON. Each
///   line is handed to the OS when written (bad records are rare; losing them is worse). The
///   file is written through the handler's Env (a WritableFile appending at the length it had
///   when opened): one handler per dead-letter file — two sources sharing a dead_letter_path
///   would overwrite each other's lines.
class BadRecordHandler {
 public:
  /// Longest `raw` text kept for a dead-letter line of a record that exceeds line_bytes_max
  /// (the start of the record is written; ordinary bad records are written whole).
  static constexpr size_t kOverlongRawBytesMax = 4096;

  /// `source_name` is what errors call the input (a file path); `dead_letter_path` is opened
  /// lazily through `env` (for appending, created if missing) on the first bad record under
  /// kDeadLetter. `env` is not owned and must outlive the handler.
  BadRecordHandler(std::string source_name, ErrorPolicy policy, std::string dead_letter_path = {},
                   Env* env = Env::Default());
  ~BadRecordHandler();
  BadRecordHandler(const BadRecordHandler&) = delete;
  BadRecordHandler& operator=(const BadRecordHandler&) = delete;

  /// `line` is 1-based; `raw` is the record's text (as read, without its line terminator).
  Status OnBadRecord(int64_t line, std::string_view raw, std::string_view reason);

  ErrorPolicy policy() const { return policy_; }

  /// Checkpoints: appends the counters and, under dead_letter, the dead-letter file's length
  /// after syncing it (WritableFile::Sync, fdatasync; and its directory once, when this handler
  /// created the file), so that RestoreState can cut off lines written after
  /// the checkpoint (replay writes them again): the dead-letter file is exactly-once too.
  Status SaveState(StateWriter* w);
  /// Restores the counters and truncates the dead-letter file to the saved length when it is
  /// longer (a shorter file is left alone: lines were lost outside Weir's control).
  Status RestoreState(StateReader* r);

  int64_t skipped() const { return skipped_; }
  int64_t dead_lettered() const { return dead_lettered_; }
  const std::string& source_name() const { return source_name_; }

 private:
  std::string source_name_;
  ErrorPolicy policy_;
  std::string dead_letter_path_;
  Env* env_;
  std::unique_ptr<WritableFile> dead_letter_;  // opened on the first dead-lettered record
  bool dead_letter_created_ = false;  // this handler created it; the directory is not synced yet
  int64_t skipped_ = 0;
  int64_t dead_lettered_ = 0;
  int64_t dead_letter_bytes_ = -1;  // dead-letter file length restored from a checkpoint
};

/// Parses the `on_error` ('fail' default | 'skip' | 'dead_letter') and `dead_letter_path`
/// options. 'dead_letter' requires dead_letter_path; dead_letter_path with another policy is an
/// error (it would be silently ignored). `*dead_letter_path` is set (empty when unused).
Result<ErrorPolicy> ParseErrorPolicy(const Options& options, std::string* dead_letter_path);

/// Default and upper bound of the `line_bytes_max` option.
inline constexpr int64_t kLineBytesMaxDefault = int64_t{16} << 20;
inline constexpr int64_t kLineBytesMaxLimit = int64_t{1} << 30;

/// A record of a decoded block: its bytes [begin, end) in the block (line terminator
/// excluded) and the 1-based physical line of its first byte.
struct DecodedRecord {
  uint32_t begin;
  uint32_t end;
  int64_t line;
};

/// A malformed record of a block: its index, an ordering key within the record (-1 for the
/// record as a whole, else the output column) and the reason.
struct BadRecord {
  uint32_t row;
  int32_t order;
  std::string reason;
};

/// The decoders' shared slow path for malformed records: reports `bad` (records of the block
/// just decoded into rows [base_rows, base_rows + nrec) of `out`) to `handler` in file order —
/// one report per record, its first problem — then removes those rows from `out`. A raw text
/// longer than `record_bytes_max` is reported truncated. Returns the handler's error (policy
/// 'fail'); clears `bad`. `keep` and `scratch` are reusable buffers of the caller.
Status DropBadRecords(const char* data, const DecodedRecord* records, uint32_t nrec,
                      std::vector<BadRecord>* bad, size_t record_bytes_max, int64_t base_rows,
                      BadRecordHandler* handler, RecordBatch* out, std::vector<uint32_t>* keep,
                      std::shared_ptr<Column>* scratch);

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

  /// Checkpoints: appends the decoder's state between two Decode() calls (line number,
  /// byte-order-mark check, CSV header, progress through an overlong record being discarded)
  /// to `w`. Together with the input offset of the next unconsumed byte it lets a fresh
  /// decoder with the same options continue exactly where this one stopped.
  virtual void SaveState(StateWriter* w) const = 0;
  /// Restores what SaveState wrote, on a decoder that has not decoded anything yet. Errors are
  /// the reader's (kDataError) or a header that does not fit the schema any more.
  virtual Status RestoreState(StateReader* r) = 0;

  /// Schema of the rows Decode() appends: the projected columns, in projection order.
  virtual const SchemaPtr& output_schema() const = 0;
};

/// Creates a decoder for `format` ('csv' | 'json'). `schema` is the declared schema;
/// `projection` the schema indices to emit, in order. Reads the format's options
/// (csv: header, delimiter, quote, null_string; both: line_bytes_max). `handler` must outlive
/// the decoder. Errors: InvalidArgument for an unknown format, a bad option or projection.
///
/// Decode() contract details shared by both formats:
///  - `rows_max` is clamped to [1, kBatchRowsMax]; it counts records, so bad records dropped
///    under 'skip'/'dead_letter' make the batch shorter.
///  - A UTF-8 byte-order mark at the very start of the input is ignored.
///  - While discarding a record longer than line_bytes_max, `*consumed` may end inside that
///    record (the decoder remembers where it is); otherwise it is at a record boundary.
///  - Columns that are not projected are not parsed at all, so a malformed value in an
///    unprojected column is not an error (a wrong field count still is).
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
/// adds the op column/field. Reads options (csv: header (default true), delimiter, quote).
Result<std::unique_ptr<Encoder>> MakeEncoder(std::string_view format, SchemaPtr schema,
                                             bool changelog, const Options& options);

// ---- text helpers shared by the formats ---------------------------------------------------

/// Outcome of a cell parser.
enum class CellParse : uint8_t { kOk, kInvalid, kOutOfRange };

/// Cell parsers shared by the decoders. `s` is one field's text (quotes already removed);
/// leading and trailing blanks (space, tab) are ignored. On anything but kOk `*out` is
/// unspecified. Pure and allocation-free (except ParseDoubleCell's out-of-range path).
///   BOOLEAN  true/false/t/f/1/0, case-insensitive
///   INT      optional sign and decimal digits; kOutOfRange outside int32
///   BIGINT   as INT, int64
///   DOUBLE   std::from_chars general form, also inf/infinity/nan (any case) and a leading '+';
///            kOutOfRange for overflow (underflow rounds to 0 or a subnormal)
///   DECIMAL  ParseDecimal (exact, rounded half away from zero to the scale; no exponent)
///   TIMESTAMP ParseTimestamp; INTERVAL ParseInterval without a unit, limited to at most 16
///            numbers of at most 7 integer digits each, 256 bytes (ParseInterval has no
///            overflow checks; within these bounds it cannot overflow)
CellParse ParseBoolCell(std::string_view s, uint8_t* out);
inline CellParse ParseInt32Cell(std::string_view s, int32_t* out);  // inline: hot, below
inline CellParse ParseInt64Cell(std::string_view s, int64_t* out);
CellParse ParseDoubleCell(std::string_view s, double* out);
CellParse ParseDecimalCell(std::string_view s, DataType type, int64_t* out);
CellParse ParseTimestampCell(std::string_view s, int64_t* out);
CellParse ParseIntervalCell(std::string_view s, Interval* out);

inline CellParse ParseInt64Cell(std::string_view s, int64_t* out) {
  const char* p = s.data();
  const char* end = p + s.size();
  if (p < end && (*p == ' ' || *p == '\t' || end[-1] == ' ' || end[-1] == '\t')) {
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) --end;
  }
  bool negative = false;
  if (p < end && (*p == '-' || *p == '+')) {
    negative = *p == '-';
    ++p;
  }
  if (p == end) return CellParse::kInvalid;
  uint64_t v = 0;
  bool overflow = false;
  if (end - p <= 19) {  // 19 digits cannot overflow uint64
    for (; p < end; ++p) {
      unsigned d = static_cast<unsigned char>(*p) - unsigned{'0'};
      if (d > 9) return CellParse::kInvalid;
      v = v * 10 + d;
    }
  } else {
    for (; p < end; ++p) {
      unsigned d = static_cast<unsigned char>(*p) - unsigned{'0'};
      if (d > 9) return CellParse::kInvalid;
      overflow |= __builtin_mul_overflow(v, uint64_t{10}, &v);
      overflow |= __builtin_add_overflow(v, uint64_t{d}, &v);
    }
  }
  constexpr uint64_t kMagnitudeMax = uint64_t{1} << 63;
  if (overflow || v > kMagnitudeMax - (negative ? 0 : 1)) return CellParse::kOutOfRange;
  *out = negative ? static_cast<int64_t>(uint64_t{0} - v) : static_cast<int64_t>(v);
  return CellParse::kOk;
}

inline CellParse ParseInt32Cell(std::string_view s, int32_t* out) {
  int64_t v;
  CellParse r = ParseInt64Cell(s, &v);
  if (r != CellParse::kOk) return r;
  if (v < INT32_MIN || v > INT32_MAX) return CellParse::kOutOfRange;
  *out = static_cast<int32_t>(v);
  return CellParse::kOk;
}

/// "column 'delay': invalid BIGINT 'abc'" / "column 'n': INT out of range '3000000000'"; the
/// value is cut to 64 bytes ("...") so a huge field does not make a huge message.
std::string BadValueReason(std::string_view column, DataType type, CellParse result,
                           std::string_view text);

/// True when `s[0, n)` is well-formed UTF-8 (RFC 3629: shortest form, no surrogates, at most
/// U+10FFFF). Has an ASCII fast path of eight bytes a step.
bool IsValidUtf8(const char* s, size_t n);

/// Copies `s` to `out`, replacing each ill-formed UTF-8 sequence with U+FFFD.
void AppendUtf8Sanitized(std::string_view s, std::string* out);

/// Upper bound of the bytes EscapeJsonString writes for `n` input bytes.
constexpr size_t JsonEscapedBytesMax(size_t n) { return 6 * n + 2; }
/// Writes `s` as a quoted JSON string (RFC 8259 section 7: '"', '\\' and control characters
/// escaped; other bytes copied) to `dst`, which must hold JsonEscapedBytesMax(s.size()) bytes.
/// Returns the bytes written.
size_t EscapeJsonString(std::string_view s, char* dst);

}  // namespace weir
