// Building blocks for vectorized scalar kernels (the kernel contract is in expr/function.h).
//
// Every scalar function is a template instantiation of one of a few loop shapes, specialised at
// compile time for its concrete value types and at bind time for its call site:
//
//   UnaryKernel<A, R, Op>        fixed-width A -> fixed-width R, one tight loop
//   BinaryKernel<A, B, R, Op>    fixed-width (A, B) -> R, four loops for the {column, constant}²
//                                input shapes, so a constant operand is a register, not a load
//   RowKernel<R, Op>             any arity / VARCHAR inputs -> fixed-width R, row at a time
//   StringKernel<Op>             any arity -> VARCHAR, written straight into the output buffers
//
// An Op is a small struct constructed once per batch from KernelContext::state (derive from
// `Stateless` when it needs none). Fixed-width ops have the shape
//     bool operator()(A a, B b, R* r) const;   // returns true when the row is in error
//     Status Error(A a, B b) const;            // the message for such a row (cold path)
// (the error flag may also be an unsigned word, nonzero on error: a bool made from a 64-bit
// signed compare keeps GCC from vectorizing the loop with SSE2).
// They run branch-free over *every* row, including NULL and inactive rows (whose values are
// arbitrary), so they must never trap: divide by a sanitized divisor, use __builtin_*_overflow.
// The loop ORs the error flags together; only when the flag is set does the kernel go back to
// find the first valid, active row in error (rows that are NULL or inactive never raise).
// Validity is the AND of the inputs' bitmaps, computed bytewise (no bitmap: every row valid).
// When every input is a constant column, the kernel computes one value and returns a constant
// column (how the binder folds constants).
//
// Values under NULL rows of an output are unspecified (not necessarily zero).
// Thread-safety: pure functions over caller-owned columns; reentrant.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "batch/column.h"
#include "expr/function.h"

namespace weir::fn {

// ---- rows ---------------------------------------------------------------------------------

/// True when at least one of the ctx.rows rows is active (a constant's error matters only then).
inline bool AnyActive(const KernelContext& ctx) {
  if (ctx.active == nullptr) return ctx.rows > 0;
  for (int64_t i = 0; i < ctx.rows; ++i)
    if (ctx.active[i]) return true;
  return false;
}

/// True when row `i` is active and valid in `validity` (nullptr = all valid).
inline bool RowLive(const KernelContext& ctx, const uint8_t* validity, int64_t i) {
  return (ctx.active == nullptr || ctx.active[i] != 0) &&
         (validity == nullptr || GetBit(validity, i));
}

/// Sets `out` (already `rows` long) to the AND of the args' validity; a constant NULL argument
/// makes every row NULL. Returns out's bitmap, or nullptr when every row is valid (then `out`
/// has no bitmap).
const uint8_t* PropagateValidity(const Column* const* args, int nargs, int64_t rows, Column* out);

/// Per-thread scratch memory for kernels that need a temporary array (a validity byte per row,
/// LIKE tokens); it grows to the high-water mark and is reused, so steady-state batches do not
/// allocate. One buffer per thread: a kernel must not hold it across a call to another kernel.
uint8_t* ScratchBytes(size_t bytes);

/// Ops that need no per-call-site state.
struct Stateless {
  explicit Stateless(const void* /*state*/) {}
};

// ---- fixed-width unary / binary -----------------------------------------------------------

// The element loops. Rows go in blocks with a compile-time trip count through restrict
// pointers, and the error flags are OR-ed into a word: that is the shape GCC's -O2 ("very
// cheap") vectorizer accepts (an unknown trip count, possible aliasing or a bool reduction each
// keep a loop scalar). The tail runs row by row.
inline constexpr int kBlockRows = 16;

template <typename A, typename R, typename Op>
inline bool UnaryLoop(const Op& op, const A* __restrict pa, R* __restrict o, int64_t n) {
  uint64_t bad = 0;
  int64_t i = 0;
  for (; i + kBlockRows <= n; i += kBlockRows)
    for (int j = 0; j < kBlockRows; ++j) bad |= op(pa[i + j], &o[i + j]);
  for (; i < n; ++i) bad |= op(pa[i], &o[i]);
  return bad != 0;
}

template <bool kConstA, bool kConstB, typename A, typename B, typename R, typename Op>
inline bool BinaryLoop(const Op& op, const A* __restrict pa, const B* __restrict pb,
                       R* __restrict o, int64_t n) {
  const A a0 = pa[0];
  const B b0 = pb[0];
  uint64_t bad = 0;
  int64_t i = 0;
  for (; i + kBlockRows <= n; i += kBlockRows)
    for (int j = 0; j < kBlockRows; ++j)
      bad |= op(kConstA ? a0 : pa[i + j], kConstB ? b0 : pb[i + j], &o[i + j]);
  for (; i < n; ++i) bad |= op(kConstA ? a0 : pa[i], kConstB ? b0 : pb[i], &o[i]);
  return bad != 0;
}

template <typename A, typename R, typename Op>
Status UnaryKernel(const KernelContext& ctx, const Column* const* args, Column* out) {
  const Column& ca = *args[0];
  const Op op(ctx.state);
  const A* pa = ca.data<A>();
  out->ResetEmpty();
  if (ca.is_constant()) {
    out->ResizeFixed(1);
    const bool valid = ca.IsValid(0);
    R r{};
    if (op(pa[0], &r) && valid && AnyActive(ctx)) return op.Error(pa[0]);
    out->data<R>()[0] = valid ? r : R{};
    if (!valid) out->SetNull(0);
    out->MakeConstant(ctx.rows);
    return Status::OK();
  }
  const int64_t n = ctx.rows;
  out->ResizeFixed(n);
  R* o = out->data<R>();
  const bool bad = UnaryLoop(op, pa, o, n);
  const uint8_t* valid = PropagateValidity(args, 1, n, out);
  if (__builtin_expect(bad, 0)) {
    for (int64_t i = 0; i < n; ++i) {
      R t;
      if (RowLive(ctx, valid, i) && op(pa[i], &t)) return op.Error(pa[i]);
    }
  }
  return Status::OK();
}

template <typename A, typename B, typename R, typename Op>
Status BinaryKernel(const KernelContext& ctx, const Column* const* args, Column* out) {
  const Column& ca = *args[0];
  const Column& cb = *args[1];
  const Op op(ctx.state);
  const A* pa = ca.data<A>();
  const B* pb = cb.data<B>();
  out->ResetEmpty();
  if (ca.is_constant() && cb.is_constant()) {
    out->ResizeFixed(1);
    const bool valid = ca.IsValid(0) && cb.IsValid(0);
    R r{};
    if (op(pa[0], pb[0], &r) && valid && AnyActive(ctx)) return op.Error(pa[0], pb[0]);
    out->data<R>()[0] = valid ? r : R{};
    if (!valid) out->SetNull(0);
    out->MakeConstant(ctx.rows);
    return Status::OK();
  }
  const int64_t n = ctx.rows;
  out->ResizeFixed(n);
  R* o = out->data<R>();
  const bool bad = ca.is_constant()   ? BinaryLoop<true, false>(op, pa, pb, o, n)
                   : cb.is_constant() ? BinaryLoop<false, true>(op, pa, pb, o, n)
                                      : BinaryLoop<false, false>(op, pa, pb, o, n);
  const uint8_t* valid = PropagateValidity(args, 2, n, out);
  if (__builtin_expect(bad, 0)) {
    const int64_t sa = ca.is_constant() ? 0 : 1, sb = cb.is_constant() ? 0 : 1;
    for (int64_t i = 0; i < n; ++i) {
      R t;
      if (RowLive(ctx, valid, i) && op(pa[i * sa], pb[i * sb], &t))
        return op.Error(pa[i * sa], pb[i * sb]);
    }
  }
  return Status::OK();
}

// ---- bytes --------------------------------------------------------------------------------

/// memcpy / memcmp that accept empty ranges with null pointers (an empty VARCHAR column may
/// have no chars buffer at all).
inline void CopyBytes(void* dst, const void* src, size_t n) {
  if (n != 0) std::memcpy(dst, src, n);
}
inline bool BytesEqual(const void* a, const void* b, size_t n) {
  return n == 0 || std::memcmp(a, b, n) == 0;
}
inline bool StrEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && BytesEqual(a.data(), b.data(), a.size());
}

/// Runs kernel K on the arguments after the first (a constant the binding already consumed,
/// such as the unit of date_trunc).
template <KernelFn K>
Status SkipFirstArg(const KernelContext& ctx, const Column* const* args, Column* out) {
  return K(ctx, args + 1, out);
}

// ---- row-at-a-time kernels over any argument types ------------------------------------------

/// Read access to one argument with the constant case folded into an index mask (0 for a
/// constant, all ones otherwise), so row loops need no per-row branch on constness.
struct ArgReader {
  const uint8_t* values = nullptr;
  const char* chars = nullptr;
  const uint8_t* validity = nullptr;
  int64_t mask = -1;

  ArgReader() = default;
  explicit ArgReader(const Column& c)
      : values(reinterpret_cast<const uint8_t*>(c.data<uint8_t>())),
        chars(c.type().id == TypeId::kVarchar ? c.chars() : nullptr),
        validity(c.validity()),
        mask(c.is_constant() ? 0 : -1) {}

  bool Valid(int64_t i) const { return validity == nullptr || GetBit(validity, i & mask); }
  template <typename T>
  T Get(int64_t i) const {
    return reinterpret_cast<const T*>(values)[i & mask];
  }
  std::string_view Str(int64_t i) const {
    const int32_t* o = reinterpret_cast<const int32_t*>(values);
    const int64_t k = i & mask;
    return {chars + o[k], static_cast<size_t>(o[k + 1] - o[k])};
  }
};

/// Up to this many arguments are read through a fixed array (variadic functions beyond it use
/// the heap once per batch).
inline constexpr int kInlineArgsMax = 8;

/// Appends VARCHAR rows to `out` writing the bytes straight into its chars buffer.
/// Usage: `char* p = w.Reserve(max_len); ...; w.Commit(len);` or `w.Append(sv)`; then Finish().
class VarcharWriter {
 public:
  VarcharWriter(Column* out, int64_t rows, int64_t bytes_hint) : out_(out) {
    out_->Reserve(rows);
    Buffer& b = out_->chars_buffer();
    b.Resize(static_cast<size_t>(bytes_hint < 64 ? 64 : bytes_hint));
    base_ = reinterpret_cast<char*>(b.data());
    cap_ = b.size();
  }
  /// Returns room for `len` more bytes of the current row.
  char* Reserve(size_t len) {
    if (__builtin_expect(pos_ + len > cap_, 0)) Grow(pos_ + len);
    return base_ + pos_;
  }
  /// Ends the current row after `len` bytes written at Reserve()'s pointer.
  void Commit(size_t len) {
    pos_ += len;
    out_->Append<int32_t>(static_cast<int32_t>(pos_));
  }
  /// Adds `len` bytes to the current row without ending it.
  void Advance(size_t len) { pos_ += len; }
  void Append(std::string_view s) {
    char* p = Reserve(s.size());
    CopyBytes(p, s.data(), s.size());
    Commit(s.size());
  }
  void AppendEmpty() { out_->Append<int32_t>(static_cast<int32_t>(pos_)); }
  void Finish() { out_->chars_buffer().Resize(pos_); }

 private:
  void Grow(size_t need) {
    Buffer& b = out_->chars_buffer();
    size_t cap = cap_ * 2;
    if (cap < need) cap = need;
    b.Resize(cap);
    base_ = reinterpret_cast<char*>(b.data());
    cap_ = cap;
  }
  Column* out_;
  char* base_ = nullptr;
  size_t pos_ = 0;
  size_t cap_ = 0;
};

/// Fills the shared prologue of the row kernels: readers, all-constant flag.
struct RowArgs {
  ArgReader inline_readers[kInlineArgsMax];
  const ArgReader* r = inline_readers;
  int n = 0;
  bool all_constant = true;
  std::unique_ptr<ArgReader[]> heap;

  RowArgs(const Column* const* args, int nargs) : n(nargs) {  // NOLINT(*-member-init)
    ArgReader* dst = inline_readers;
    if (nargs > kInlineArgsMax) {
      heap = std::make_unique<ArgReader[]>(static_cast<size_t>(nargs));
      dst = heap.get();
      r = dst;
    }
    for (int k = 0; k < nargs; ++k) {
      dst[k] = ArgReader(*args[k]);
      all_constant &= args[k]->is_constant();
    }
  }
  bool Valid(int64_t i) const {
    for (int k = 0; k < n; ++k)
      if (!r[k].Valid(i)) return false;
    return true;
  }
};

/// Row-wise kernel with a fixed-width result. NULL in any argument -> NULL (Op not called).
/// Op: `bool operator()(const ArgReader* a, int64_t i, R* r) const` returns false on error;
///     `Status Error(const ArgReader* a, int64_t i) const`.
/// `kArity` is the number of arguments (variadic functions read theirs from their state).
template <typename R, typename Op, int kArity>
Status RowKernel(const KernelContext& ctx, const Column* const* args, Column* out) {
  const Op op(ctx.state);
  const RowArgs a(args, kArity);
  out->ResetEmpty();
  const int64_t rows = a.all_constant ? 1 : ctx.rows;
  out->ResizeFixed(rows);
  R* o = out->data<R>();
  for (int64_t i = 0; i < rows; ++i) {
    if (!a.Valid(i)) {
      o[i] = R{};
      continue;
    }
    if (__builtin_expect(!op(a.r, i, &o[i]), 0)) {
      if (a.all_constant ? AnyActive(ctx) : (ctx.active == nullptr || ctx.active[i]))
        return op.Error(a.r, i);
      o[i] = R{};
    }
  }
  PropagateValidity(args, kArity, rows, out);
  if (a.all_constant) out->MakeConstant(ctx.rows);
  return Status::OK();
}

/// Row-wise kernel with a VARCHAR result. NULL in any argument -> NULL (Op not called).
/// Op: `bool operator()(const ArgReader* a, int64_t i, VarcharWriter* w) const` writes exactly
///     one row (Append, or Reserve+Commit) and returns true, or returns false on error
///     (writing nothing); `Status Error(const ArgReader* a, int64_t i) const`;
///     `static int64_t BytesHint(const ArgReader* a, const Column* const* args, int64_t rows)`.
template <typename Op, int kArity>
Status StringKernel(const KernelContext& ctx, const Column* const* args, Column* out) {
  const Op op(ctx.state);
  const RowArgs a(args, kArity);
  out->ResetEmpty();
  const int64_t rows = a.all_constant ? 1 : ctx.rows;
  VarcharWriter w(out, rows, Op::BytesHint(a.r, args, rows));
  for (int64_t i = 0; i < rows; ++i) {
    if (!a.Valid(i)) {
      w.AppendEmpty();
      continue;
    }
    if (__builtin_expect(!op(a.r, i, &w), 0)) {
      if (a.all_constant ? AnyActive(ctx) : (ctx.active == nullptr || ctx.active[i]))
        return op.Error(a.r, i);
      w.AppendEmpty();
    }
  }
  w.Finish();
  PropagateValidity(args, kArity, rows, out);
  if (a.all_constant) out->MakeConstant(ctx.rows);
  return Status::OK();
}

/// Total chars bytes of VARCHAR argument `k` over `rows` rows (a constant counts once per row).
inline int64_t VarcharBytes(const Column& c, int64_t rows) {
  const int32_t* o = c.offsets();
  if (c.is_constant()) return static_cast<int64_t>(o[1] - o[0]) * rows;
  return o[rows] - o[0];
}

/// Ordering key of an interval: its nominal length (a month = 30 days) in 128-bit micros, as
/// PostgreSQL compares intervals.
inline __int128 IntervalKey(const Interval& v) {
  return static_cast<__int128>(v.micros) +
         (static_cast<__int128>(v.days) + static_cast<__int128>(v.months) * 30) * 86'400'000'000LL;
}

// ---- text of values for error messages (cold path) ----------------------------------------

std::string DoubleText(double v);
std::string DecimalText(int64_t v, int scale);
std::string TimestampText(int64_t us);
std::string IntervalText(const Interval& iv);

/// Name of the SQL integer type of C++ type T ("INT" / "BIGINT").
template <typename T>
constexpr const char* IntTypeName() {
  return sizeof(T) == 4 ? "INT" : "BIGINT";
}

// ---- UTF-8 --------------------------------------------------------------------------------

/// Number of bytes of the UTF-8 sequence starting with lead byte `c` (1 for invalid bytes).
inline int Utf8SeqLen(unsigned char c) {
  return c < 0x80 ? 1 : c < 0xE0 ? (c < 0xC0 ? 1 : 2) : c < 0xF0 ? 3 : 4;
}
/// Characters (code points) in `s`: bytes that are not continuation bytes.
inline int64_t Utf8Length(std::string_view s) {
  int64_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}
/// Byte offset after skipping `chars` characters from the start of `s` (clamped to s.size()).
inline size_t Utf8Skip(std::string_view s, int64_t chars) {
  size_t p = 0;
  while (chars > 0 && p < s.size()) {
    p += static_cast<size_t>(Utf8SeqLen(static_cast<unsigned char>(s[p])));
    --chars;
  }
  return p < s.size() ? p : s.size();
}

}  // namespace weir::fn
