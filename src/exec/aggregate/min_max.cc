// min(x), max(x) over BOOLEAN, INT, BIGINT, DOUBLE, DECIMAL, TIMESTAMP, INTERVAL, VARCHAR.
//
// Ordering (one strict total order per physical type, so that the result never depends on the
// order rows arrive in, and Merge gives the same answer as one state fed both inputs):
//   BOOLEAN false < true; integers, DECIMAL (same scale within a call site), TIMESTAMP
//   numerically; VARCHAR bytewise (unsigned bytes, C collation);
//   DOUBLE numerically with NaN above +Infinity (all NaNs equal, as PostgreSQL) and, as the one
//   refinement of SQL equality, -0.0 < +0.0;
//   INTERVAL by nominal length (a month = 30 days, as the comparison operators), ties between
//   equal lengths ('1 month' vs '30 days') broken by months, then days.
//
// State layouts (bytes per group):
//   append-only, fixed width T     {T value, uint8 has}          8 / 16 / 24 (INTERVAL)
//   append-only, VARCHAR           {char* data, uint32 size, uint32 capacity, uint8 has}   24
//   retractable, any type          {std::map<T, int64 count>* multiset}                    8
// The append-only VARCHAR string is a malloc'ed copy reused while it is large enough (it is
// reallocated only when a longer string becomes the extreme); the retractable multiset is
// created on the first insertion. Destroy() frees both.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <string>

#include "exec/aggregate/aggregate_kernel.h"

namespace weir::agg {
namespace {

// ---- orderings ------------------------------------------------------------------------------

/// Maps a double to an int64 whose signed order is the total order above.
inline int64_t DoubleOrderKey(double v) {
  const int64_t bits = std::bit_cast<int64_t>(v);
  const int64_t key = bits ^ ((bits >> 63) & std::numeric_limits<int64_t>::max());
  return std::isnan(v) ? std::numeric_limits<int64_t>::max() : key;
}

inline __int128 IntervalNominalMicros(const Interval& v) {
  return static_cast<__int128>(v.micros) +
         (static_cast<__int128>(v.days) + static_cast<__int128>(v.months) * 30) * 86'400'000'000LL;
}

template <typename T>
struct OrderLess {
  bool operator()(const T& a, const T& b) const {
    if constexpr (std::is_same_v<T, double>) {
      return DoubleOrderKey(a) < DoubleOrderKey(b);
    } else if constexpr (std::is_same_v<T, Interval>) {
      const __int128 ka = IntervalNominalMicros(a), kb = IntervalNominalMicros(b);
      if (ka != kb) return ka < kb;
      if (a.months != b.months) return a.months < b.months;
      return a.days < b.days;
    } else {
      return a < b;  // integers, uint8_t booleans, std::string_view (unsigned bytewise)
    }
  }
};

/// True when `candidate` should replace `current` as the min (kMax = false) or max.
template <bool kMax, typename T>
inline bool Better(const T& candidate, const T& current) {
  return kMax ? OrderLess<T>()(current, candidate) : OrderLess<T>()(candidate, current);
}

template <bool kMax>
constexpr std::string_view MinMaxName() {
  return kMax ? "max" : "min";
}

Status AppendOnlyRetraction(std::string_view name) {
  return Internal("{}() was created append-only but received a retraction", name);
}
Status MissingRetraction(std::string_view name) {
  return DataError("{}(): retraction of a value that is not in its group", name);
}

template <typename T>
void AppendValue(Column* out, const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    out->AppendString(v);
  } else {
    out->Append<T>(v);
  }
}

// ---- append-only, fixed width ----------------------------------------------------------------

template <typename T, bool kMax>
class MinMaxAppend final : public AggregateKernel<MinMaxAppend<T, kMax>> {
 public:
  struct State {
    T value;
    uint8_t has;
  };
  using Value = T;
  static constexpr bool kReadsArg = true;
  struct Acc {
    bool retraction;
  };

  explicit MinMaxAppend(DataType type) : AggregateKernel<MinMaxAppend<T, kMax>>(type) {}

  void Step(State& s, const T& v, int64_t sign, Acc& acc) const {
    if (sign < 0) {
      acc.retraction = true;
      return;
    }
    const bool take = (s.has == 0) | Better<kMax>(v, s.value);
    s.value = take ? v : s.value;
    s.has = 1;
  }
  Status Finish(const Acc& acc, uint8_t* const*, uint32_t, const uint8_t*, int64_t) const {
    return acc.retraction ? AppendOnlyRetraction(name()) : Status::OK();
  }

  Status Merge(uint8_t* dst, const uint8_t* src) const override {
    State& d = StateAt<State>(dst);
    const State& s = StateAt<State>(src);
    if (s.has && (!d.has || Better<kMax>(s.value, d.value))) {
      d.value = s.value;
      d.has = 1;
    }
    return Status::OK();
  }
  void Finalize(const uint8_t* state, Column* out) const override {
    const State& s = StateAt<State>(state);
    if (s.has) {
      out->Append<T>(s.value);
    } else {
      out->AppendNull();
    }
  }
  std::string_view name() const override { return MinMaxName<kMax>(); }
};

// ---- append-only, VARCHAR --------------------------------------------------------------------

template <bool kMax>
class MinMaxStringAppend final : public AggregateKernel<MinMaxStringAppend<kMax>> {
 public:
  struct State {
    char* data;  // malloc'ed, `capacity` bytes; nullptr while capacity == 0
    uint32_t size;
    uint32_t capacity;
    uint8_t has;
    std::string_view view() const { return {data, size}; }
  };
  using Value = std::string_view;
  static constexpr bool kReadsArg = true;
  struct Acc {
    bool retraction;
  };

  MinMaxStringAppend() : AggregateKernel<MinMaxStringAppend<kMax>>(DataType::Varchar()) {}

  void Step(State& s, std::string_view v, int64_t sign, Acc& acc) const {
    if (sign < 0) {
      acc.retraction = true;
      return;
    }
    if (s.has == 0 || Better<kMax>(v, s.view())) Assign(s, v);
  }
  Status Finish(const Acc& acc, uint8_t* const*, uint32_t, const uint8_t*, int64_t) const {
    return acc.retraction ? AppendOnlyRetraction(name()) : Status::OK();
  }

  Status Merge(uint8_t* dst, const uint8_t* src) const override {
    State& d = StateAt<State>(dst);
    const State& s = StateAt<State>(src);
    if (s.has && (!d.has || Better<kMax>(s.view(), d.view()))) Assign(d, s.view());
    return Status::OK();
  }
  void Finalize(const uint8_t* state, Column* out) const override {
    const State& s = StateAt<State>(state);
    if (s.has) {
      out->AppendString(s.view());
    } else {
      out->AppendNull();
    }
  }
  void Destroy(uint8_t* state) const override {
    State& s = StateAt<State>(state);
    std::free(s.data);
    s = State{};
  }
  // Checkpoints: the raw copy is all zero; {has, string} follow out of line. The buffer is
  // rebuilt with exactly the string's size (capacity is not state: Assign grows it).
  bool has_out_of_line_state() const override { return true; }
  void ScrubState(uint8_t* state) const override { std::memset(state, 0, sizeof(State)); }
  void SaveState(const uint8_t* state, StateWriter* w) const override {
    const State& s = StateAt<State>(state);
    w->Bool(s.has != 0);
    w->Bytes(s.data, s.size);
  }
  void LoadState(uint8_t* state, StateReader* r) const override {
    State& s = StateAt<State>(state);
    s = State{};
    const bool has = r->Bool();
    std::string_view v = r->Bytes();
    if (!r->ok()) return;
    if (!v.empty()) {
      s.data = static_cast<char*>(std::malloc(v.size()));
      WEIR_CHECK(s.data != nullptr);
      s.capacity = static_cast<uint32_t>(v.size());
      std::memcpy(s.data, v.data(), v.size());
    }
    s.size = static_cast<uint32_t>(v.size());
    s.has = has ? 1 : 0;
  }
  std::string_view name() const override { return MinMaxName<kMax>(); }

 private:
  /// Copies `v` into the state's buffer, growing it (by at least 2x, from 16 bytes) if needed.
  static void Assign(State& s, std::string_view v) {
    const uint32_t size = static_cast<uint32_t>(v.size());
    if (size > s.capacity) {
      uint64_t capacity = s.capacity < 16 ? 16 : uint64_t{s.capacity} * 2;
      if (capacity < size) capacity = size;
      if (capacity > std::numeric_limits<uint32_t>::max()) capacity = size;
      std::free(s.data);
      s.data = static_cast<char*>(std::malloc(capacity));
      WEIR_CHECK(s.data != nullptr);
      s.capacity = static_cast<uint32_t>(capacity);
    }
    if (size != 0) std::memcpy(s.data, v.data(), size);
    s.size = size;
    s.has = 1;
  }
};

// ---- retractable: ordered multiset out of line ----------------------------------------------

/// Key type of the multiset for a row value type.
template <typename V>
struct KeyOf {
  using type = V;
};
template <>
struct KeyOf<std::string_view> {
  using type = std::string;
};

template <typename V>
struct KeyLess : OrderLess<V> {};
template <>
struct KeyLess<std::string_view> : std::less<> {};  // heterogeneous: finds by string_view

template <typename V, bool kMax>
class MinMaxRetract final : public AggregateKernel<MinMaxRetract<V, kMax>> {
  using Key = typename KeyOf<V>::type;
  using Multiset = std::map<Key, int64_t, KeyLess<V>>;  // value -> live copies (> 0)

 public:
  struct State {
    Multiset* multiset;  // nullptr until the first insertion
  };
  using Value = V;
  static constexpr bool kReadsArg = true;
  struct Acc {
    bool missing;  // a retraction of a value the group does not hold
  };

  explicit MinMaxRetract(DataType type) : AggregateKernel<MinMaxRetract<V, kMax>>(type) {}

  void Step(State& s, const V& v, int64_t sign, Acc& acc) const {
    if (sign > 0) {
      if (s.multiset == nullptr) s.multiset = new Multiset();
      auto it = s.multiset->lower_bound(v);
      if (it != s.multiset->end() && !s.multiset->key_comp()(v, it->first)) {
        ++it->second;
      } else {
        s.multiset->emplace_hint(it, Key(v), 1);
      }
      return;
    }
    if (s.multiset == nullptr) {
      acc.missing = true;
      return;
    }
    auto it = s.multiset->find(v);
    if (it == s.multiset->end()) {
      acc.missing = true;
    } else if (--it->second == 0) {
      s.multiset->erase(it);
    }
  }
  Status Finish(const Acc& acc, uint8_t* const*, uint32_t, const uint8_t*, int64_t) const {
    return acc.missing ? MissingRetraction(name()) : Status::OK();
  }

  Status Merge(uint8_t* dst, const uint8_t* src) const override {
    State& d = StateAt<State>(dst);
    const State& s = StateAt<State>(src);
    if (s.multiset == nullptr || s.multiset->empty()) return Status::OK();
    if (d.multiset == nullptr) {
      d.multiset = new Multiset(*s.multiset);
      return Status::OK();
    }
    auto hint = d.multiset->begin();
    for (const auto& [key, copies] : *s.multiset) {
      hint = d.multiset->lower_bound(key);
      if (hint != d.multiset->end() && !d.multiset->key_comp()(key, hint->first)) {
        hint->second += copies;
      } else {
        hint = d.multiset->emplace_hint(hint, key, copies);
      }
    }
    return Status::OK();
  }
  void Finalize(const uint8_t* state, Column* out) const override {
    const State& s = StateAt<State>(state);
    if (s.multiset == nullptr || s.multiset->empty()) {
      out->AppendNull();
    } else if constexpr (kMax) {
      AppendValue(out, s.multiset->rbegin()->first);
    } else {
      AppendValue(out, s.multiset->begin()->first);
    }
  }
  void Destroy(uint8_t* state) const override {
    State& s = StateAt<State>(state);
    delete s.multiset;
    s.multiset = nullptr;
  }
  // Checkpoints: the raw copy holds a null pointer; the multiset follows as a count, then
  // (value, copies) pairs in order (fixed-width values as raw bytes, strings length-prefixed).
  bool has_out_of_line_state() const override { return true; }
  void ScrubState(uint8_t* state) const override { std::memset(state, 0, sizeof(State)); }
  void SaveState(const uint8_t* state, StateWriter* w) const override {
    const State& s = StateAt<State>(state);
    w->Bool(s.multiset != nullptr);
    if (s.multiset == nullptr) return;
    w->U64(s.multiset->size());
    for (const auto& [key, copies] : *s.multiset) {
      if constexpr (std::is_same_v<Key, std::string>) {
        w->String(key);
      } else {
        w->Raw(&key, sizeof(Key));
      }
      w->I64(copies);
    }
  }
  void LoadState(uint8_t* state, StateReader* r) const override {
    State& s = StateAt<State>(state);
    s.multiset = nullptr;
    if (!r->Bool()) return;
    const uint64_t n = r->U64();
    if (!r->ok()) return;
    if (n > r->remaining() / 8) {
      r->Fail(std::string(name()) + "(): multiset size exceeds the snapshot");
      return;
    }
    s.multiset = new Multiset();
    for (uint64_t i = 0; i < n && r->ok(); ++i) {
      Key key{};
      if constexpr (std::is_same_v<Key, std::string>) {
        key = r->String();
      } else {
        std::string_view raw = r->Raw(sizeof(Key));
        if (!r->ok()) return;
        std::memcpy(&key, raw.data(), sizeof(Key));
      }
      const int64_t copies = r->I64();
      if (!r->ok()) return;
      const bool ordered = s.multiset->empty() || s.multiset->key_comp()(s.multiset->rbegin()->first, key);
      if (copies <= 0 || !ordered) {
        r->Fail(std::string(name()) + "(): invalid multiset entry");
        return;
      }
      s.multiset->emplace_hint(s.multiset->end(), std::move(key), copies);
    }
  }
  std::string_view name() const override { return MinMaxName<kMax>(); }
};

template <bool kMax>
std::unique_ptr<AggregateFunction> MakeFor(DataType arg, bool retractable) {
  auto fixed = [&](auto tag) -> std::unique_ptr<AggregateFunction> {
    using T = decltype(tag);
    if (retractable) return std::make_unique<MinMaxRetract<T, kMax>>(arg);
    return std::make_unique<MinMaxAppend<T, kMax>>(arg);
  };
  switch (arg.id) {
    case TypeId::kBoolean:
      return fixed(uint8_t{});
    case TypeId::kInt32:
      return fixed(int32_t{});
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kTimestamp:
      return fixed(int64_t{});
    case TypeId::kDouble:
      return fixed(double{});
    case TypeId::kInterval:
      return fixed(Interval{});
    case TypeId::kVarchar:
      if (retractable) return std::make_unique<MinMaxRetract<std::string_view, kMax>>(arg);
      return std::make_unique<MinMaxStringAppend<kMax>>();
    default:
      return nullptr;
  }
}

}  // namespace

std::unique_ptr<AggregateFunction> MakeMinMax(bool is_max, DataType arg, bool retractable) {
  return is_max ? MakeFor<true>(arg, retractable) : MakeFor<false>(arg, retractable);
}

}  // namespace weir::agg
