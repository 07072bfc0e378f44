// Internal to src/exec/aggregate: the row loop shared by every accumulator, and the factories
// of the concrete accumulator families (count_sum_avg.cc, min_max.cc). Not for other modules:
// they use aggregate_function.h.
//
// An accumulator is a final class `Impl : AggregateKernel<Impl>` that declares
//   struct State;                 its per-group state (trivially laid out, alignof <= 8)
//   using Value = T;              what one row contributes: int32_t, int64_t, double, uint8_t,
//                                 Interval, std::string_view, or NoValue (count)
//   static constexpr bool kReadsArg;   false for count(*) (arg may be nullptr)
//   struct Acc;                   per-Update-call flags (overflow seen, ...), value-initialized
//   void Step(State&, Value, int64_t sign, Acc&) const;   one row; sign is +1 or -1
//   Status Finish(const Acc&, states, offset, mask, n) const;   turns flags into a Status
// and the virtual functions Merge / Finalize / name (and Destroy / RowCount where needed).
//
// AggregateKernel::Update decides once per call whether there are signs, a mask, a validity
// bitmap and whether the argument is a constant, and runs one of eight loop instantiations in
// which those tests are compile-time constants; Step is inlined into each. Step never switches
// on a type, makes no virtual call, and allocates only where the header allows it (retractable
// min/max multisets, VARCHAR min/max strings). Errors are collected into Acc as flags rather than
// leaving the loop, so the loop has no early exit; Finish reports them after the batch.
#pragma once

#include <cstdint>
#include <memory>
#include <new>
#include <string_view>
#include <type_traits>

#include "exec/aggregate/aggregate_function.h"

namespace weir::agg {

/// The "value" of a row for aggregates that only count rows.
struct NoValue {};

/// A signed 128-bit accumulator at 8-byte alignment (group states are only 8-byte aligned).
/// The hot path adds with explicit 64-bit carries: GCC routes __int128 temporaries through the
/// stack inside the row loops, and the mismatched store/load sizes stall store forwarding.
struct Int128Slot {
  uint64_t lo;
  uint64_t hi;  // two's complement high half

  /// Adds `v` when sign > 0, subtracts it when sign < 0 (sign is +1 or -1); branch-free.
  void Add(int64_t v, int64_t sign) {
    const uint64_t m = static_cast<uint64_t>(sign >> 63);  // 0, or all ones to negate
    // -x == ~x + 1: complement the sign-extended value and carry one in.
    const uint64_t add_lo = static_cast<uint64_t>(v) ^ m;
    const uint64_t add_hi = static_cast<uint64_t>(v >> 63) ^ m;
    uint64_t t;
    const uint64_t c1 = __builtin_add_overflow(lo, add_lo, &t);
    const uint64_t c2 = __builtin_add_overflow(t, m & 1, &lo);
    hi += add_hi + c1 + c2;
  }
  /// Whether the value is an int64.
  bool FitsInt64() const { return hi == static_cast<uint64_t>(static_cast<int64_t>(lo) >> 63); }
  /// The value when FitsInt64().
  int64_t low() const { return static_cast<int64_t>(lo); }

  __int128 get() const {
    return static_cast<__int128>((static_cast<unsigned __int128>(hi) << 64) | lo);
  }
  void set(__int128 v) {
    lo = static_cast<uint64_t>(v);
    hi = static_cast<uint64_t>(static_cast<unsigned __int128>(v) >> 64);
  }
};

/// Largest magnitude of a DECIMAL(18, s) value: 10^18 - 1.
inline constexpr int64_t kDecimal18Bound = 999'999'999'999'999'999LL;

// ---- argument readers: row i -> Value, with constants hoisted -----------------------------

template <typename T, bool kConst>
struct FixedReader {
  const T* values;
  T operator()(int64_t i) const { return values[i]; }
};
template <typename T>
struct FixedReader<T, true> {
  T value;
  T operator()(int64_t) const { return value; }
};

template <bool kConst>
struct StringReader {
  const int32_t* offsets;
  const char* chars;
  std::string_view operator()(int64_t i) const {
    return {chars + offsets[i], static_cast<size_t>(offsets[i + 1] - offsets[i])};
  }
};
template <>
struct StringReader<true> {
  std::string_view value;
  std::string_view operator()(int64_t) const { return value; }
};

struct NoReader {
  NoValue operator()(int64_t) const { return {}; }
};

template <typename V, bool kConst>
auto MakeReader(const Column* arg) {
  if constexpr (std::is_same_v<V, NoValue>) {
    return NoReader{};
  } else if constexpr (std::is_same_v<V, std::string_view>) {
    if constexpr (kConst) {
      return StringReader<true>{arg->GetString(0)};
    } else {
      return StringReader<false>{arg->offsets(), arg->chars()};
    }
  } else if constexpr (kConst) {
    return FixedReader<V, true>{arg->Get<V>(0)};
  } else {
    return FixedReader<V, false>{arg->data<V>()};
  }
}

/// Calls f(i) for every row i in [0, n) that the mask selects (all rows when mask == nullptr).
/// For the cold second passes of Finish.
template <typename F>
void ForEachSelected(const uint8_t* mask, int64_t n, F&& f) {
  for (int64_t i = 0; i < n; ++i) {
    if (mask == nullptr || mask[i] != 0) f(i);
  }
}

template <typename State>
State& StateAt(uint8_t* p) {
  return *std::launder(reinterpret_cast<State*>(p));
}
template <typename State>
const State& StateAt(const uint8_t* p) {
  return *std::launder(reinterpret_cast<const State*>(p));
}

// ---- the shared driver ----------------------------------------------------------------------

template <class Impl>
class AggregateKernel : public AggregateFunction {
 public:
  explicit AggregateKernel(DataType result) : result_(result) {}

  uint32_t state_bytes() const final {
    using State = typename Impl::State;
    static_assert(alignof(State) <= 8, "states are only 8-byte aligned");
    static_assert(std::is_trivially_copyable_v<State>);
    return static_cast<uint32_t>((sizeof(State) + 7) & ~size_t{7});
  }
  DataType result_type() const final { return result_; }
  void Init(uint8_t* state) const final { new (state) typename Impl::State{}; }

  Status Update(uint8_t* const* states, uint32_t offset, const Column* arg, const Op* signs,
                const uint8_t* mask, int64_t n) const final {
    if (n <= 0) return Status::OK();
    const Impl& self = static_cast<const Impl&>(*this);
    typename Impl::Acc acc{};
    if constexpr (!Impl::kReadsArg) {
      Dispatch(self, NoReader{}, nullptr, states, offset, signs, mask, n, acc);
    } else {
      using V = typename Impl::Value;
      const uint8_t* validity = arg->validity();
      if (arg->is_constant()) {
        if (validity != nullptr && !GetBit(validity, 0)) return Status::OK();  // all NULL
        Dispatch(self, MakeReader<V, true>(arg), nullptr, states, offset, signs, mask, n, acc);
      } else {
        Dispatch(self, MakeReader<V, false>(arg), validity, states, offset, signs, mask, n, acc);
      }
    }
    return self.Finish(acc, states, offset, mask, n);
  }

 protected:
  DataType result_;

 private:
  template <bool kSigns, bool kMask, bool kNulls, class Reader, class Acc>
  static void Loop(const Impl& self, const Reader& read, const uint8_t* validity,
                   uint8_t* const* states, uint32_t offset, const Op* signs, const uint8_t* mask,
                   int64_t n, Acc& acc) {
    using State = typename Impl::State;
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (kMask) {
        if (mask[i] == 0) continue;
      }
      if constexpr (kNulls) {
        if (!GetBit(validity, i)) continue;
      }
      // Op::kInsert is +1 and Op::kDelete is -1.
      const int64_t sign = kSigns ? static_cast<int64_t>(signs[i]) : 1;
      self.Step(StateAt<State>(states[i] + offset), read(i), sign, acc);
    }
  }

  template <class Reader, class Acc>
  static void Dispatch(const Impl& self, const Reader& read, const uint8_t* validity,
                       uint8_t* const* states, uint32_t offset, const Op* signs,
                       const uint8_t* mask, int64_t n, Acc& acc) {
    using T = std::true_type;
    using F = std::false_type;
    auto run = [&](auto signed_rows, auto masked, auto nullable) {
      Loop<decltype(signed_rows)::value, decltype(masked)::value, decltype(nullable)::value>(
          self, read, validity, states, offset, signs, mask, n, acc);
    };
    const int shape =
        (signs != nullptr ? 4 : 0) | (mask != nullptr ? 2 : 0) | (validity != nullptr ? 1 : 0);
    switch (shape) {
      case 0:
        return run(F{}, F{}, F{});
      case 1:
        return run(F{}, F{}, T{});
      case 2:
        return run(F{}, T{}, F{});
      case 3:
        return run(F{}, T{}, T{});
      case 4:
        return run(T{}, F{}, F{});
      case 5:
        return run(T{}, F{}, T{});
      case 6:
        return run(T{}, T{}, F{});
      default:
        return run(T{}, T{}, T{});
    }
  }
};

// ---- factories (return nullptr when the argument type is not supported) --------------------

std::unique_ptr<AggregateFunction> MakeCountStar();
std::unique_ptr<AggregateFunction> MakeCount(DataType arg);
std::unique_ptr<AggregateFunction> MakeSum(DataType arg, bool retractable);
std::unique_ptr<AggregateFunction> MakeAvg(DataType arg, bool retractable);
std::unique_ptr<AggregateFunction> MakeMinMax(bool is_max, DataType arg, bool retractable);

}  // namespace weir::agg
