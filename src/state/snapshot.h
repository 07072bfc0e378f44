// StateWriter / StateReader: the byte format of operator state in checkpoints.
//
// An operator's snapshot is a flat byte string: little-endian fixed-width integers and doubles,
// length-prefixed byte strings, and raw spans of dense arrays (hash-table slots, arena chunks),
// framed by tagged sections (Begin("hash_join") … End()) so a reader detects a mismatch between
// the state and the operator reading it. The string is stored and checksummed by the checkpoint
// store (docs/checkpoint-format.md); these classes only encode and decode.
//
// Errors: the reader is sticky — the first problem (truncation, a wrong section tag, a length
// larger than the bytes left, an invalid value reported through Fail()) records a kDataError
// naming `what` and the byte offset, and every later read returns zero / empty. Callers read
// everything, then check status(). A length is never trusted beyond the bytes remaining, so a
// corrupt snapshot cannot make a reader allocate more than the snapshot's size.
// Ownership: the writer owns its buffer; the reader borrows `data`, which must outlive it.
// Thread-safety: none (one thread per object).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/status.h"

namespace weir {

class StateWriter {
 public:
  StateWriter() = default;
  /// Writes into `reuse` (cleared; its capacity kept: a recycled buffer from an earlier
  /// snapshot avoids re-faulting and copying memory as the buffer grows).
  explicit StateWriter(std::string reuse) : buf_(std::move(reuse)) { buf_.clear(); }
  void U8(uint8_t v) { Raw(&v, 1); }
  void Bool(bool v) { U8(v ? 1 : 0); }
  void U32(uint32_t v) { Raw(&v, 4); }
  void U64(uint64_t v) { Raw(&v, 8); }
  void I64(int64_t v) { Raw(&v, 8); }
  void F64(double v) { Raw(&v, 8); }
  /// u64 length, then the bytes.
  void Bytes(const void* p, size_t n) {
    U64(n);
    Raw(p, n);
  }
  void String(std::string_view s) { Bytes(s.data(), s.size()); }
  /// Bytes only: the reader must know `n` (e.g. from an earlier field).
  void Raw(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  /// u64 count, then the elements' bytes (trivially copyable T).
  template <typename T>
  void PodVector(const std::vector<T>& v) {
    static_assert(std::is_trivially_copyable_v<T>);
    U64(v.size());
    Raw(v.data(), v.size() * sizeof(T));
  }
  /// A section: the tag and the section's byte length are written, so a reader checks both.
  void Begin(std::string_view tag);
  void End();

  const std::string& buffer() const { return buf_; }
  std::string& buffer() { return buf_; }
  size_t size() const { return buf_.size(); }

 private:
  std::string buf_;
  std::vector<size_t> open_;  // offsets of open sections' length fields
};

class StateReader {
 public:
  /// `what` names the state in errors ("checkpoint 7, view q9, operator 2").
  StateReader(std::string_view data, std::string what) : data_(data), what_(std::move(what)) {}

  uint8_t U8() { return Fixed<uint8_t>("u8"); }
  bool Bool() { return U8() != 0; }
  uint32_t U32() { return Fixed<uint32_t>("u32"); }
  uint64_t U64() { return Fixed<uint64_t>("u64"); }
  int64_t I64() { return Fixed<int64_t>("i64"); }
  double F64() { return Fixed<double>("f64"); }
  /// A length-prefixed byte string, as a view into the reader's data.
  std::string_view Bytes();
  std::string String() { return std::string(Bytes()); }
  /// Exactly `n` bytes, as a view into the reader's data (empty on error).
  std::string_view Raw(size_t n);
  template <typename T>
  std::vector<T> PodVector() {
    static_assert(std::is_trivially_copyable_v<T>);
    const uint64_t n = U64();
    std::vector<T> out;
    if (!ok() || n > remaining() / (sizeof(T) ? sizeof(T) : 1)) {
      Fail("vector length exceeds the snapshot");
      return out;
    }
    out.resize(n);
    std::string_view raw = Raw(n * sizeof(T));
    if (ok() && n) std::memcpy(out.data(), raw.data(), raw.size());
    return out;
  }
  /// Checks the next section's tag; End() checks the section was read exactly to its end.
  void Begin(std::string_view tag);
  void End();

  /// Records an error (the first one wins): "WHAT: MESSAGE at byte N".
  void Fail(std::string_view message);
  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool at_end() const { return pos_ == data_.size(); }

 private:
  template <typename T>
  T Fixed(const char* field) {
    T v{};
    if (!ok()) return v;
    if (remaining() < sizeof(T)) {
      Fail(std::string("truncated reading ") + field);
      return v;
    }
    std::memcpy(&v, data_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string_view data_;
  size_t pos_ = 0;
  std::string what_;
  Status status_;
  std::vector<size_t> ends_;  // end offsets of open sections
};

}  // namespace weir
