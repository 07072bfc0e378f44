// count(*), count(x), sum(x), avg(x): the additive accumulators. Retraction subtracts, so the
// append-only and retractable forms differ only where overflow is detected (sum over integers
// and DECIMAL) and in how DOUBLE sums survive NaN / infinities being retracted.
//
// State layouts (bytes per group):
//   count(*), count(x)                     {int64 count}                                     8
//   sum(INT|BIGINT|DECIMAL), append-only    {int64 sum, int64 count}                         16
//   sum(INT|BIGINT|DECIMAL), retractable    {int128 sum, int64 count}                        24
//   avg(INT|BIGINT|DECIMAL)                 {int128 sum, int64 count}                        24
//   sum/avg(DOUBLE), append-only            {double sum, int64 count}                        16
//   sum/avg(DOUBLE), retractable            {double sum, int64 count, nan, +inf, -inf counts} 40
// `count` is the number of non-NULL values (insertions minus retractions); a group with
// count <= 0 finalizes to NULL (0 for count).
#include <cmath>
#include <limits>

#include "exec/aggregate/aggregate_kernel.h"

namespace weir::agg {
namespace {

// ---- count ----------------------------------------------------------------------------------

enum class CountKind { kStar, kNonNull, kNullArg };

/// count(*) (every selected row), count(x) (non-NULL rows), count(NULL) (always 0: an argument
/// of the NULL type is never read, whatever its column holds).
template <CountKind kKind>
class Count final : public AggregateKernel<Count<kKind>> {
 public:
  struct State {
    int64_t count;
  };
  using Value = NoValue;
  static constexpr bool kReadsArg = kKind == CountKind::kNonNull;
  struct Acc {};

  Count() : AggregateKernel<Count<kKind>>(DataType::Int64()) {}

  void Step(State& s, NoValue, int64_t sign, Acc&) const {
    if constexpr (kKind != CountKind::kNullArg) s.count += sign;
  }
  Status Finish(const Acc&, uint8_t* const*, uint32_t, const uint8_t*, int64_t) const {
    return Status::OK();
  }

  Status Merge(uint8_t* dst, const uint8_t* src) const override {
    StateAt<State>(dst).count += StateAt<State>(src).count;
    return Status::OK();
  }
  void Finalize(const uint8_t* state, Column* out) const override {
    out->Append<int64_t>(StateAt<State>(state).count);
  }
  int64_t RowCount(const uint8_t* state) const override { return StateAt<State>(state).count; }
  std::string_view name() const override { return "count"; }
};

// ---- exact sums: sum(INT | BIGINT | DECIMAL) --------------------------------------------------

/// Append-only exact sum into an int64: every row is checked, and the first row that takes the
/// running sum out of range (int64 for BIGINT, +-(10^18 - 1) for DECIMAL(18,s)) fails Update.
template <typename In, bool kDecimal>
class SumExactAppend final : public AggregateKernel<SumExactAppend<In, kDecimal>> {
  using Base = AggregateKernel<SumExactAppend<In, kDecimal>>;

 public:
  struct State {
    int64_t sum;
    int64_t count;
  };
  using Value = In;
  static constexpr bool kReadsArg = true;
  struct Acc {
    bool overflow;
  };

  explicit SumExactAppend(DataType result) : Base(result) {}

  void Step(State& s, In v, int64_t sign, Acc& acc) const {
    const int64_t x = v;
    bool o = sign > 0 ? __builtin_add_overflow(s.sum, x, &s.sum)
                      : __builtin_sub_overflow(s.sum, x, &s.sum);
    if constexpr (kDecimal) o |= (s.sum > kDecimal18Bound) | (s.sum < -kDecimal18Bound);
    acc.overflow |= o;
    s.count += sign;
  }
  Status Finish(const Acc& acc, uint8_t* const*, uint32_t, const uint8_t*, int64_t) const {
    return acc.overflow ? OverflowError() : Status::OK();
  }

  Status Merge(uint8_t* dst, const uint8_t* src) const override {
    State& d = StateAt<State>(dst);
    const State& s = StateAt<State>(src);
    bool o = __builtin_add_overflow(d.sum, s.sum, &d.sum);
    if constexpr (kDecimal) o |= (d.sum > kDecimal18Bound) | (d.sum < -kDecimal18Bound);
    d.count += s.count;
    return o ? OverflowError() : Status::OK();
  }
  void Finalize(const uint8_t* state, Column* out) const override {
    const State& s = StateAt<State>(state);
    if (s.count <= 0) {
      out->AppendNull();
    } else {
      out->Append<int64_t>(s.sum);
    }
  }
  std::string_view name() const override { return "sum"; }

 private:
  Status OverflowError() const {
    if constexpr (kDecimal) {
      return DataError("numeric field overflow: sum() does not fit {}", this->result_.ToString());
    } else {
      return DataError("BIGINT out of range in sum()");
    }
  }
};

/// Retractable exact sum in 128 bits: a running sum may leave the result range inside a batch
/// and come back (insert MAX, insert 1, delete 1). Update fails only if a group it touched is out
/// of range once the whole batch is applied; Merge fails if the merged sum is out of range.
template <typename In, bool kDecimal>
class SumExactRetract final : public AggregateKernel<SumExactRetract<In, kDecimal>> {
  using Base = AggregateKernel<SumExactRetract<In, kDecimal>>;

 public:
  struct State {
    Int128Slot sum;
    int64_t count;
  };
  using Value = In;
  static constexpr bool kReadsArg = true;
  struct Acc {
    bool left_range;  // some group was out of range after some row (maybe only transiently)
  };

  explicit SumExactRetract(DataType result) : Base(result) {}

  void Step(State& s, In v, int64_t sign, Acc& acc) const {
    s.sum.Add(v, sign);
    acc.left_range |= !InRange(s.sum);
    s.count += sign;
  }
  Status Finish(const Acc& acc, uint8_t* const* states, uint32_t offset, const uint8_t* mask,
                int64_t n) const {
    if (!acc.left_range) return Status::OK();
    bool bad = false;
    ForEachSelected(mask, n,
                    [&](int64_t i) { bad |= !InRange(StateAt<State>(states[i] + offset).sum); });
    return bad ? OverflowError() : Status::OK();
  }

  Status Merge(uint8_t* dst, const uint8_t* src) const override {
    State& d = StateAt<State>(dst);
    const State& s = StateAt<State>(src);
    d.sum.set(d.sum.get() + s.sum.get());
    d.count += s.count;
    return InRange(d.sum) ? Status::OK() : OverflowError();
  }
  void Finalize(const uint8_t* state, Column* out) const override {
    const State& s = StateAt<State>(state);
    // Out of range is unreachable unless the caller ignored an Update/Merge error.
    if (s.count <= 0 || !InRange(s.sum)) {
      out->AppendNull();
    } else {
      out->Append<int64_t>(s.sum.low());
    }
  }
  std::string_view name() const override { return "sum"; }

 private:
  static bool InRange(const Int128Slot& v) {
    if constexpr (kDecimal) {
      return v.FitsInt64() && v.low() <= kDecimal18Bound && v.low() >= -kDecimal18Bound;
    } else {
      return v.FitsInt64();
    }
  }
  Status OverflowError() const {
    if constexpr (kDecimal) {
      return DataError("numeric field overflow: sum() does not fit {}", this->result_.ToString());
    } else {
      return DataError("BIGINT out of range in sum()");
    }
  }
};

// ---- avg(INT | BIGINT) -> DOUBLE ---------------------------------------------------------------

/// Exact 128-bit sum (cannot overflow: |sum| < 2^63 * 2^63 for fewer than 2^63 live rows), the
/// average is (double)sum / count, rounded once from the exact sum. Same form for both modes.
template <typename In>
class AvgInt final : public AggregateKernel<AvgInt<In>> {
 public:
  struct State {
    Int128Slot sum;
    int64_t count;
  };
  using Value = In;
  static constexpr bool kReadsArg = true;
  struct Acc {};

  AvgInt() : AggregateKernel<AvgInt<In>>(DataType::Double()) {}

  void Step(State& s, In v, int64_t sign, Acc&) const {
    s.sum.Add(v, sign);
    s.count += sign;
  }
  Status Finish(const Acc&, uint8_t* const*, uint32_t, const uint8_t*, int64_t) const {
    return Status::OK();
  }

  Status Merge(uint8_t* dst, const uint8_t* src) const override {
    State& d = StateAt<State>(dst);
    const State& s = StateAt<State>(src);
    d.sum.set(d.sum.get() + s.sum.get());
    d.count += s.count;
    return Status::OK();
  }
  void Finalize(const uint8_t* state, Column* out) const override {
    const State& s = StateAt<State>(state);
    if (s.count <= 0) {
      out->AppendNull();
    } else {
      out->Append<double>(static_cast<double>(s.sum.get()) / static_cast<double>(s.count));
    }
  }
  std::string_view name() const override { return "avg"; }
};

// ---- avg(DECIMAL(p,s)) -> DECIMAL(18, max(s,6)) -------------------------------------------------

/// sum * 10^(rs - s) / count rounded half away from zero, exactly, for count > 0. Requires
/// |sum / count| < 2^63 (true for any set of DECIMAL values) and multiplier <= 10^6.
inline __int128 ScaledAverage(__int128 sum, int64_t multiplier, int64_t count) {
  const __int128 q = sum / count;
  const __int128 r = sum % count;  // sign of sum, |r| < count
  const __int128 f = r * multiplier;
  const __int128 q2 = f / count;
  const __int128 r2 = f % count;
  __int128 result = q * multiplier + q2;
  if (2 * (r2 < 0 ? -r2 : r2) >= count) result += sum < 0 ? -1 : 1;
  return result;
}

class AvgDecimal final : public AggregateKernel<AvgDecimal> {
 public:
  struct State {
    Int128Slot sum;
    int64_t count;
  };
  using Value = int64_t;
  static constexpr bool kReadsArg = true;
  struct Acc {
    bool suspect;  // an input large enough that the average might not fit
  };

  AvgDecimal(DataType arg, DataType result)
      : AggregateKernel<AvgDecimal>(result),
        multiplier_(PowerOfTen(result.scale - arg.scale)),
        // An average lies between the smallest and largest input, so when every input scaled by
        // `multiplier_` fits DECIMAL(18, rs), so does the average.
        safe_(kDecimal18Bound / multiplier_) {}

  void Step(State& s, int64_t v, int64_t sign, Acc& acc) const {
    s.sum.Add(v, sign);
    s.count += sign;
    acc.suspect |= (v > safe_) | (v < -safe_);
  }
  Status Finish(const Acc& acc, uint8_t* const* states, uint32_t offset, const uint8_t* mask,
                int64_t n) const {
    if (!acc.suspect) return Status::OK();
    bool bad = false;
    ForEachSelected(mask, n, [&](int64_t i) { bad |= !Fits(StateAt<State>(states[i] + offset)); });
    return bad ? OverflowError() : Status::OK();
  }

  Status Merge(uint8_t* dst, const uint8_t* src) const override {
    State& d = StateAt<State>(dst);
    const State& s = StateAt<State>(src);
    d.sum.set(d.sum.get() + s.sum.get());
    d.count += s.count;
    return Fits(d) ? Status::OK() : OverflowError();
  }
  void Finalize(const uint8_t* state, Column* out) const override {
    const State& s = StateAt<State>(state);
    // Not fitting is unreachable unless the caller ignored an Update/Merge error.
    if (s.count <= 0 || !Fits(s)) {
      out->AppendNull();
    } else {
      out->Append<int64_t>(static_cast<int64_t>(ScaledAverage(s.sum.get(), multiplier_, s.count)));
    }
  }
  std::string_view name() const override { return "avg"; }

 private:
  bool Fits(const State& s) const {
    if (s.count <= 0) return true;  // finalizes to NULL
    const __int128 v = ScaledAverage(s.sum.get(), multiplier_, s.count);
    return (v <= kDecimal18Bound) & (v >= -kDecimal18Bound);
  }
  Status OverflowError() const {
    return DataError("numeric field overflow: avg() does not fit {}", result_.ToString());
  }

  int64_t multiplier_;  // 10^(result scale - argument scale), <= 10^6
  int64_t safe_;        // inputs with |v| <= safe_ cannot make the average overflow
};

// ---- sum(DOUBLE), avg(DOUBLE) ---------------------------------------------------------------

/// Plain double additions in input order (no compensation): the result depends on the order
/// of the rows, as in PostgreSQL. The same row subtracted later does not always restore the
/// earlier sum bit for bit.
template <bool kAvg>
class DoubleAppend final : public AggregateKernel<DoubleAppend<kAvg>> {
 public:
  struct State {
    double sum;
    int64_t count;
  };
  using Value = double;
  static constexpr bool kReadsArg = true;
  struct Acc {};

  DoubleAppend() : AggregateKernel<DoubleAppend<kAvg>>(DataType::Double()) {}

  void Step(State& s, double v, int64_t sign, Acc&) const {
    s.sum += sign > 0 ? v : -v;
    s.count += sign;
  }
  Status Finish(const Acc&, uint8_t* const*, uint32_t, const uint8_t*, int64_t) const {
    return Status::OK();
  }

  Status Merge(uint8_t* dst, const uint8_t* src) const override {
    State& d = StateAt<State>(dst);
    const State& s = StateAt<State>(src);
    d.sum += s.sum;
    d.count += s.count;
    return Status::OK();
  }
  void Finalize(const uint8_t* state, Column* out) const override {
    const State& s = StateAt<State>(state);
    if (s.count <= 0) {
      out->AppendNull();
    } else {
      out->Append<double>(kAvg ? s.sum / static_cast<double>(s.count) : s.sum);
    }
  }
  std::string_view name() const override { return kAvg ? "avg" : "sum"; }
};

/// Retractable double sum: NaN and infinities are counted apart from the finite sum, so that
/// retracting them restores a finite result (a NaN added into a plain sum could never be taken
/// out again). The finite sum is reset to exactly 0 whenever the group becomes empty, so
/// rounding residue does not outlive the rows that caused it.
template <bool kAvg>
class DoubleRetract final : public AggregateKernel<DoubleRetract<kAvg>> {
 public:
  struct State {
    double sum;  // of the finite values
    int64_t count;
    int64_t nans;
    int64_t pos_infs;
    int64_t neg_infs;
  };
  using Value = double;
  static constexpr bool kReadsArg = true;
  struct Acc {};

  DoubleRetract() : AggregateKernel<DoubleRetract<kAvg>>(DataType::Double()) {}

  void Step(State& s, double v, int64_t sign, Acc&) const {
    if (__builtin_expect(std::isfinite(v), 1)) {
      s.sum += sign > 0 ? v : -v;
    } else if (std::isnan(v)) {
      s.nans += sign;
    } else if (v > 0) {
      s.pos_infs += sign;
    } else {
      s.neg_infs += sign;
    }
    s.count += sign;
    if (s.count == 0) s.sum = 0.0;
  }
  Status Finish(const Acc&, uint8_t* const*, uint32_t, const uint8_t*, int64_t) const {
    return Status::OK();
  }

  Status Merge(uint8_t* dst, const uint8_t* src) const override {
    State& d = StateAt<State>(dst);
    const State& s = StateAt<State>(src);
    d.sum += s.sum;
    d.count += s.count;
    d.nans += s.nans;
    d.pos_infs += s.pos_infs;
    d.neg_infs += s.neg_infs;
    if (d.count == 0) d.sum = 0.0;
    return Status::OK();
  }
  void Finalize(const uint8_t* state, Column* out) const override {
    const State& s = StateAt<State>(state);
    if (s.count <= 0) {
      out->AppendNull();
      return;
    }
    double v = s.sum;
    if (s.nans > 0 || (s.pos_infs > 0 && s.neg_infs > 0)) {
      v = std::numeric_limits<double>::quiet_NaN();
    } else if (s.pos_infs > 0) {
      v = std::numeric_limits<double>::infinity();
    } else if (s.neg_infs > 0) {
      v = -std::numeric_limits<double>::infinity();
    }
    out->Append<double>(kAvg ? v / static_cast<double>(s.count) : v);
  }
  std::string_view name() const override { return kAvg ? "avg" : "sum"; }
};

}  // namespace

std::unique_ptr<AggregateFunction> MakeCountStar() {
  return std::make_unique<Count<CountKind::kStar>>();
}

std::unique_ptr<AggregateFunction> MakeCount(DataType arg) {
  if (arg.id == TypeId::kNull) return std::make_unique<Count<CountKind::kNullArg>>();
  return std::make_unique<Count<CountKind::kNonNull>>();
}

std::unique_ptr<AggregateFunction> MakeSum(DataType arg, bool retractable) {
  switch (arg.id) {
    case TypeId::kInt32:
      if (retractable) return std::make_unique<SumExactRetract<int32_t, false>>(DataType::Int64());
      return std::make_unique<SumExactAppend<int32_t, false>>(DataType::Int64());
    case TypeId::kInt64:
      if (retractable) return std::make_unique<SumExactRetract<int64_t, false>>(DataType::Int64());
      return std::make_unique<SumExactAppend<int64_t, false>>(DataType::Int64());
    case TypeId::kDecimal: {
      const DataType result = DataType::Decimal(kDecimalPrecisionMax, arg.scale);
      if (retractable) return std::make_unique<SumExactRetract<int64_t, true>>(result);
      return std::make_unique<SumExactAppend<int64_t, true>>(result);
    }
    case TypeId::kDouble:
      if (retractable) return std::make_unique<DoubleRetract<false>>();
      return std::make_unique<DoubleAppend<false>>();
    default:
      return nullptr;
  }
}

std::unique_ptr<AggregateFunction> MakeAvg(DataType arg, bool retractable) {
  switch (arg.id) {
    case TypeId::kInt32:
      return std::make_unique<AvgInt<int32_t>>();
    case TypeId::kInt64:
      return std::make_unique<AvgInt<int64_t>>();
    case TypeId::kDecimal: {
      const uint8_t scale = arg.scale > 6 ? arg.scale : uint8_t{6};
      return std::make_unique<AvgDecimal>(arg, DataType::Decimal(kDecimalPrecisionMax, scale));
    }
    case TypeId::kDouble:
      if (retractable) return std::make_unique<DoubleRetract<true>>();
      return std::make_unique<DoubleAppend<true>>();
    default:
      return nullptr;
  }
}

}  // namespace weir::agg
