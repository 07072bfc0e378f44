// Column: one typed vector of values with an optional validity bitmap (Arrow layout).
//
// Layout (see types/data_type.h for the per-type value representation):
//   validity  bit i (LSB-first within each byte) is 1 when row i is non-NULL; when the column has
//             no validity buffer (`has_validity() == false`) every row is valid.
//   values    `length` fixed-width values, or for VARCHAR `length + 1` int32 offsets into `chars`.
//   chars     VARCHAR bytes (UTF-8); row i is chars[offsets[i], offsets[i+1]).
// A *constant* column holds one value that stands for every row (length() reports the logical
// row count); kernels use it for literals without materializing them.
//
// Ownership: a Column owns its buffers. Batches share columns through ColumnPtr (shared_ptr), so
// a projection that passes a column through copies a pointer, not data. A column is written only
// by its producer before it is published in a batch; after that it is read-only until the
// producer reuses it (which it may only do when it holds the last reference).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "batch/buffer.h"
#include "types/data_type.h"

namespace weir {

class Column {
 public:
  explicit Column(DataType type) : type_(type) { ResetEmpty(); }

  DataType type() const { return type_; }
  int64_t length() const { return length_; }
  bool is_constant() const { return constant_; }

  // ---- validity ---------------------------------------------------------------------------
  bool has_validity() const { return has_validity_; }
  const uint8_t* validity() const { return has_validity_ ? validity_.data() : nullptr; }
  bool IsValid(int64_t i) const {
    if (!has_validity_) return true;
    int64_t k = constant_ ? 0 : i;
    return (validity_.data()[k >> 3] >> (k & 7)) & 1;
  }
  bool IsNull(int64_t i) const { return !IsValid(i); }
  /// Allocates a validity bitmap for the current length with every row valid, and returns it.
  uint8_t* EnsureValidity();
  /// Mutable bitmap; requires has_validity().
  uint8_t* mutable_validity() { return validity_.data(); }
  /// Drops the bitmap (every row valid).
  void DropValidity() { has_validity_ = false; }
  void SetNull(int64_t i) {
    uint8_t* v = EnsureValidity();
    v[i >> 3] &= static_cast<uint8_t>(~(1u << (i & 7)));
  }
  void SetValid(int64_t i) {
    if (has_validity_) validity_.data()[i >> 3] |= static_cast<uint8_t>(1u << (i & 7));
  }

  // ---- fixed-width values -----------------------------------------------------------------
  template <typename T>
  T* data() { return values_.as<T>(); }
  template <typename T>
  const T* data() const { return values_.as<T>(); }
  template <typename T>
  T Get(int64_t i) const { return values_.as<T>()[constant_ ? 0 : i]; }

  // ---- VARCHAR ------------------------------------------------------------------------------
  const int32_t* offsets() const { return values_.as<int32_t>(); }
  int32_t* offsets() { return values_.as<int32_t>(); }
  const char* chars() const { return reinterpret_cast<const char*>(chars_.data()); }
  Buffer& chars_buffer() { return chars_; }
  std::string_view GetString(int64_t i) const {
    int64_t k = constant_ ? 0 : i;
    const int32_t* o = offsets();
    return {chars() + o[k], static_cast<size_t>(o[k + 1] - o[k])};
  }

  // ---- building -----------------------------------------------------------------------------
  /// Empties the column, keeping capacity; it becomes non-constant with no validity bitmap.
  void ResetEmpty();
  /// Changes the type (and empties the column).
  void Reset(DataType type) {
    type_ = type;
    ResetEmpty();
  }
  /// Sets the length of a fixed-width column to `n` rows (values uninitialized), non-constant.
  /// A present validity bitmap is resized too (new bits unspecified).
  void ResizeFixed(int64_t n);
  /// Reserves room for `rows` more rows (and `bytes` more chars for VARCHAR).
  void Reserve(int64_t rows, int64_t chars_bytes = 0);

  template <typename T>
  void Append(T v) {
    WEIR_DCHECK(!constant_);
    values_.Append(&v, sizeof(T));
    ++length_;
    if (has_validity_) GrowValidity(true);
  }
  void AppendString(std::string_view s) {
    WEIR_DCHECK(!constant_ && type_.id == TypeId::kVarchar);
    chars_.Append(s.data(), s.size());
    int32_t end = static_cast<int32_t>(chars_.size());
    values_.Append(&end, sizeof(end));
    ++length_;
    if (has_validity_) GrowValidity(true);
  }
  /// Appends a NULL (a zero value / empty string underneath).
  void AppendNull();
  /// Appends row `i` of `src` (same type).
  void AppendFrom(const Column& src, int64_t i);
  /// Replaces contents with the rows of `src` at `sel[0..n)` (a gather); same type.
  void Gather(const Column& src, const uint32_t* sel, int64_t n);
  /// Replaces contents with a copy of `src`.
  void CopyFrom(const Column& src);
  /// Appends rows [offset, offset + n) of `src` (same type; constant sources are expanded).
  void AppendRange(const Column& src, int64_t offset, int64_t n);

  /// Turns the column into a constant: one value (row 0 after a single Append/AppendNull)
  /// standing for `logical_length` rows.
  void MakeConstant(int64_t logical_length) {
    constant_ = true;
    length_ = logical_length;
  }
  /// For a constant column: changes the number of rows it stands for.
  void SetConstantLength(int64_t n) { length_ = n; }
  /// Expands a constant column into `length()` materialized rows.
  void Materialize();

  /// Number of NULL rows (counts bits; O(n)).
  int64_t CountNulls() const;
  /// Bytes of memory held (capacity), for stats.
  size_t MemoryBytes() const { return values_.capacity() + chars_.capacity() + validity_.capacity(); }

  /// Debug text of row i ("NULL" for nulls).
  std::string ValueToString(int64_t i) const;

 private:
  void GrowValidity(bool valid);

  DataType type_;
  int64_t length_ = 0;
  bool constant_ = false;
  bool has_validity_ = false;
  Buffer validity_;
  Buffer values_;
  Buffer chars_;
};

using ColumnPtr = std::shared_ptr<Column>;

/// Bitmap helpers (LSB-first, Arrow order).
inline int64_t BitmapBytes(int64_t bits) { return (bits + 7) >> 3; }
inline bool GetBit(const uint8_t* bm, int64_t i) { return (bm[i >> 3] >> (i & 7)) & 1; }
inline void SetBitTo(uint8_t* bm, int64_t i, bool v) {
  bm[i >> 3] = static_cast<uint8_t>((bm[i >> 3] & ~(1u << (i & 7))) | (unsigned{v} << (i & 7)));
}

}  // namespace weir
