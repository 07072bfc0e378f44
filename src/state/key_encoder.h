// KeyEncoder: serializes the group-key columns of a batch, row by row, into compact byte keys
// that a HashTable stores and compares bytewise.
//
// Key format (per key column, in column order; all integers little-endian as in memory):
//   fixed-width column   1 null byte (0 = value, 1 = NULL), then the value's byte_width() bytes
//                        (BOOLEAN 1, INT 4, BIGINT/DECIMAL/TIMESTAMP/DOUBLE 8, INTERVAL 16);
//                        a NULL has all-zero value bytes
//   VARCHAR              1 null byte, a 4-byte length L, then L bytes (a NULL has L = 0)
//   NULL-typed column    the null byte only (always 1)
// Two rows get byte-equal keys exactly when they are equal under GROUP BY semantics (NULLs
// group together), with two canonicalizations: DOUBLE -0.0 is stored as +0.0 and every NaN as
// one quiet NaN. When every key column is fixed width the key length is the constant
// fixed_key_bytes() (e.g. 9 for one BIGINT); otherwise keys vary in length.
//
// Ownership and invalidation: the encoder owns one reused buffer; key(i) / key_len(i) address
// row i's key until the next Encode(). Capacity only grows, so an encoder reused batch after
// batch stops allocating at its high-water mark. Memory: MemoryBytes().
// Thread-safety: none; one owner thread (Decode/DecodeBatch use scratch space too).
// Limits: one Encode() holds < 4 GiB of key bytes (checked).
#pragma once

#include <cstdint>
#include <vector>

#include "batch/buffer.h"
#include "batch/column.h"
#include "types/data_type.h"

namespace weir {

class KeyEncoder {
 public:
  explicit KeyEncoder(std::vector<DataType> key_types);

  /// Encodes rows [0, n) of `cols` (one column per key type, same types, each with at least n
  /// rows; constant columns allowed). No allocation once the buffers have reached their
  /// high-water mark. One type switch per column, then a tight loop over the rows.
  void Encode(const std::vector<const Column*>& cols, int64_t n);

  /// Rows encoded by the last Encode().
  int64_t num_keys() const { return num_keys_; }
  const uint8_t* key(int64_t i) const {
    return fixed_ ? keys_.data() + static_cast<size_t>(i) * fixed_key_bytes_
                  : keys_.data() + offsets()[i];
  }
  uint32_t key_len(int64_t i) const {
    return fixed_ ? fixed_key_bytes_ : offsets()[i + 1] - offsets()[i];
  }
  /// All keys, back to back: key i starts at data() + i * fixed_key_bytes() when fixed(),
  /// else at data() + offsets()[i] and ends at data() + offsets()[i + 1].
  const uint8_t* data() const { return keys_.data(); }
  const uint32_t* offsets() const { return offsets_.as<uint32_t>(); }

  bool fixed() const { return fixed_; }
  /// The constant key length when fixed(), else 0 (what HashTable's constructor takes).
  uint32_t fixed_key_bytes() const { return fixed_ ? fixed_key_bytes_ : 0; }
  const std::vector<DataType>& key_types() const { return types_; }
  size_t MemoryBytes() const { return keys_.capacity() + offsets_.capacity() + cursor_.capacity(); }

  /// Decodes one key (as produced by Encode) by appending one value — or NULL — to each of
  /// `out` (one column per key type, same types). A per-row convenience; emitting many groups
  /// should use DecodeBatch.
  void Decode(const uint8_t* key, uint32_t len, const std::vector<Column*>& out) const;
  /// Decodes keys[0..n) (lengths lens[0..n)) column at a time, appending n values to each of
  /// `out`. One type switch per column.
  void DecodeBatch(const uint8_t* const* keys, const uint32_t* lens, int64_t n,
                   const std::vector<Column*>& out);

 private:
  std::vector<DataType> types_;
  std::vector<uint32_t> fixed_offsets_;  // fixed_: byte offset of each column within a key
  bool fixed_ = true;
  uint32_t fixed_key_bytes_ = 0;  // fixed_: key length; else the fixed-size part of each key
  int64_t num_keys_ = 0;
  Buffer keys_;     // key bytes
  Buffer offsets_;  // !fixed_: num_keys_ + 1 uint32 offsets into keys_
  Buffer cursor_;   // !fixed_: per-row write (Encode) / read (DecodeBatch) positions, uint32
};

}  // namespace weir
