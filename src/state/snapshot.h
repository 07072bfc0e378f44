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
// Ownership: the writer owns its buffer; the reader borrows `data`, which must outlive it. A
// by-reference writer (StateWriter::ByReference) also borrows the memory of large Raw spans,
// which must stay unchanged until ForEachPiece has run (a forked snapshot process's frozen
// copy-on-write image: engine/forked_snapshot.h) — the snapshot is then never copied whole.
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
  /// Raw spans of at least kReferenceBytesMin bytes are recorded by address instead of copied;
  /// read the snapshot out with ForEachPiece (buffer() is not the whole snapshot then).
  struct ByReference {};
  static constexpr size_t kReferenceBytesMin = 64 << 10;
  explicit StateWriter(ByReference) : by_reference_(true) {}
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
  void Raw(const void* p, size_t n) {
    if (by_reference_ && n >= kReferenceBytesMin) {
      refs_.push_back({buf_.size(), static_cast<const char*>(p), n});
      ref_bytes_ += n;
      return;
    }
    buf_.append(static_cast<const char*>(p), n);
  }
  /// Like Raw, but always copied; returns the copy, which the caller may edit in place (e.g. to
  /// scrub pointers) until the next write.
  uint8_t* RawCopy(const void* p, size_t n) {
    const size_t at = buf_.size();
    buf_.append(static_cast<const char*>(p), n);
    return reinterpret_cast<uint8_t*>(buf_.data()) + at;
  }
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

  /// The snapshot (a writer not ByReference).
  const std::string& buffer() const { return buf_; }
  std::string& buffer() { return buf_; }
  /// Snapshot bytes so far (copied and referenced).
  size_t size() const { return buf_.size() + ref_bytes_; }
  /// The snapshot as consecutive pieces, in order: calls `fn(data, n)` for each; stops early
  /// and returns false when `fn` does.
  template <typename Fn>
  bool ForEachPiece(Fn&& fn) const {
    size_t from = 0;
    for (const Ref& r : refs_) {
      if (r.at > from && !fn(buf_.data() + from, r.at - from)) return false;
      from = r.at;
      if (!fn(r.data, r.bytes)) return false;
    }
    return buf_.size() == from || fn(buf_.data() + from, buf_.size() - from);
  }

 private:
  struct Ref {
    size_t at;  // position in buf_ the referenced bytes follow
    const char* data;
    size_t bytes;
  };
  struct Open {
    size_t length_at;  // offset in buf_ of the section's length field
    size_t start;      // size() after that field
  };
  std::string buf_;
  std::vector<Open> open_;
  bool by_reference_ = false;
  std::vector<Ref> refs_;
  size_t ref_bytes_ = 0;
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
