// in(probe, c1, c2, ...): probe IN (c1, c2, ...) with constant list items.
//
// The items are cast at bind time to the common supertype of the probe and the items, and
// stored sorted without duplicates (a linear scan up to 16 items, binary search beyond).
// SQL semantics: a NULL probe gives NULL; no match when the list holds a NULL gives NULL
// (x IN (1, NULL) is NULL unless x = 1). NOT IN is the binder's not(in(...)).
// Equality follows the comparison operators (NaN = NaN, intervals by nominal length).
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "expr/functions/kernel.h"
#include "expr/functions/registry.h"

namespace weir::fn {
namespace {

constexpr size_t kLinearScanMax = 16;

/// Key under which values are compared: identity, except intervals (nominal micros, 128-bit).
/// DOUBLE NaN is kept out of the keys (InSet::has_nan) so that it equals itself.
template <typename T>
struct KeyOf {
  using Key = T;
  static Key Of(const T& v) { return v; }
};
template <>
struct KeyOf<Interval> {
  using Key = __int128;
  static __int128 Of(const Interval& v) { return IntervalKey(v); }
};

template <typename T>
struct InSet {
  using Key = typename KeyOf<T>::Key;
  std::vector<Key> keys;           // sorted, unique
  std::vector<std::string> owned;  // VARCHAR items (keys view into them)
  bool has_null = false;
  bool has_nan = false;  // DOUBLE only

  bool Contains(const Key& k) const {
    if (keys.size() <= kLinearScanMax) {
      bool found = false;
      for (const Key& x : keys) found |= x == k;
      return found;
    }
    return std::binary_search(keys.begin(), keys.end(), k);
  }
};

template <typename T>
Status InKernel(const KernelContext& ctx, const Column* const* args, Column* out) {
  const InSet<T>& set = *static_cast<const InSet<T>*>(ctx.state);
  const Column& c = *args[0];
  const ArgReader probe(c);
  out->ResetEmpty();
  const int64_t rows = c.is_constant() ? 1 : ctx.rows;
  out->ResizeFixed(rows);
  uint8_t* o = out->data<uint8_t>();
  for (int64_t i = 0; i < rows; ++i) {
    if constexpr (std::is_same_v<T, std::string_view>) {
      o[i] = set.Contains(probe.Str(i));
    } else if constexpr (std::is_same_v<T, double>) {
      const double v = probe.Get<double>(i);
      o[i] = std::isnan(v) ? set.has_nan : set.Contains(v);
    } else {
      o[i] = set.Contains(KeyOf<T>::Of(probe.Get<T>(i)));
    }
  }
  const uint8_t* valid = PropagateValidity(args, 1, rows, out);
  if (set.has_null) {
    // No match against a list holding NULL is NULL.
    uint8_t* bm = valid ? const_cast<uint8_t*>(valid) : out->EnsureValidity();
    for (int64_t i = 0; i < rows; ++i)
      if (!o[i]) SetBitTo(bm, i, false);
  }
  if (c.is_constant()) out->MakeConstant(ctx.rows);
  return Status::OK();
}

template <typename T>
Result<FunctionBinding> BuildSet(std::string_view name, DataType t, const Args& args) {
  auto set = std::make_shared<InSet<T>>();
  std::vector<Value> items;
  for (size_t k = 1; k < args.size(); ++k) {
    Value v = *args[k].constant;
    if (args[k].is_untyped_literal && !v.is_null) v = Value::Varchar(v.s);
    if (v.is_null) {
      set->has_null = true;
      continue;
    }
    Result<Value> cv = CastValue(v, t);
    if (!cv.ok()) return BindError("IN list item {}: {}", v.ToString(), cv.status().message());
    items.push_back(std::move(cv).value());
  }
  if constexpr (std::is_same_v<T, std::string_view>) {
    set->owned.reserve(items.size());
    for (Value& v : items) set->owned.push_back(std::move(v.s));
    for (const std::string& s : set->owned) set->keys.push_back(s);
  } else {
    for (const Value& v : items) {
      if constexpr (std::is_same_v<T, uint8_t>)
        set->keys.push_back(v.b);
      else if constexpr (std::is_same_v<T, double>) {
        if (std::isnan(v.d))
          set->has_nan = true;
        else
          set->keys.push_back(v.d);
      } else if constexpr (std::is_same_v<T, Interval>)
        set->keys.push_back(KeyOf<Interval>::Of(v.iv));
      else
        set->keys.push_back(static_cast<T>(v.i));
    }
  }
  std::sort(set->keys.begin(), set->keys.end());
  set->keys.erase(std::unique(set->keys.begin(), set->keys.end()), set->keys.end());
  std::vector<DataType> types(args.size(), t);
  return MakeBinding(name, DataType::Boolean(), std::move(types), InKernel<T>, std::move(set));
}

Result<FunctionBinding> ResolveIn(std::string_view name, const Args& args) {
  if (args.size() < 2) return NoMatch();
  for (size_t k = 1; k < args.size(); ++k)
    if (args[k].constant == nullptr)
      return BindError("IN list items must be constants (item {} is not)", k);
  ArgInfo acc = args[0];
  for (size_t k = 1; k < args.size(); ++k) {
    Result<DataType> t = CommonSuperType(acc, args[k]);
    if (!t.ok()) return NoMatch();
    acc = ArgInfo{*t, nullptr, acc.is_untyped_literal && args[k].is_untyped_literal};
  }
  DataType t = acc.is_untyped_literal ? DataType::Varchar() : acc.type;
  switch (t.id) {
    case TypeId::kNull:
      return BuildSet<uint8_t>(name, DataType::Boolean(), args);
    case TypeId::kBoolean:
      return BuildSet<uint8_t>(name, t, args);
    case TypeId::kInt32:
      return BuildSet<int32_t>(name, t, args);
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kTimestamp:
      return BuildSet<int64_t>(name, t, args);
    case TypeId::kDouble:
      return BuildSet<double>(name, t, args);
    case TypeId::kInterval:
      return BuildSet<Interval>(name, t, args);
    case TypeId::kVarchar:
      return BuildSet<std::string_view>(name, t, args);
  }
  return NoMatch();
}

constexpr FunctionDef kFunctions[] = {{"in", ResolveIn}};

}  // namespace

std::span<const FunctionDef> InFunctions() { return kFunctions; }

}  // namespace weir::fn
