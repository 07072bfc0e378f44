#include "state/hash.h"

#include "batch/column.h"

namespace weir {
namespace {

/// The per-row loop: hashes[i] = [combine(hashes[i],] validity ? value_hash(i) : kNullHash [)].
/// `value_hash` is a lambda inlined into the loop, so each instantiation is one tight loop.
template <bool kCombine, bool kValidity, typename ValueHash>
void HashRows(int64_t n, const uint8_t* validity, uint64_t* hashes, ValueHash value_hash) {
  for (int64_t i = 0; i < n; ++i) {
    uint64_t h = value_hash(i);
    if constexpr (kValidity) h = GetBit(validity, i) ? h : kNullHash;
    if constexpr (kCombine) h = HashCombine(hashes[i], h);
    hashes[i] = h;
  }
}

template <typename ValueHash>
void HashRowsDispatch(const Column& col, int64_t n, bool combine, uint64_t* hashes,
                      ValueHash value_hash) {
  const uint8_t* validity = col.validity();
  if (combine) {
    if (validity) {
      HashRows<true, true>(n, validity, hashes, value_hash);
    } else {
      HashRows<true, false>(n, validity, hashes, value_hash);
    }
  } else {
    if (validity) {
      HashRows<false, true>(n, validity, hashes, value_hash);
    } else {
      HashRows<false, false>(n, validity, hashes, value_hash);
    }
  }
}

/// Hash of row `i` of a non-constant column, or of its one value when constant (i = 0).
/// Used for constant columns only (the type switch here is per call, not per row).
uint64_t HashOneValue(const Column& col, int64_t i) {
  if (!col.IsValid(i)) return kNullHash;
  switch (col.type().id) {
    case TypeId::kNull:
      return kNullHash;
    case TypeId::kBoolean:
      return HashWord(col.Get<uint8_t>(i));
    case TypeId::kInt32:
      return HashWord(static_cast<uint64_t>(int64_t{col.Get<int32_t>(i)}));
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kTimestamp:
      return HashWord(static_cast<uint64_t>(col.Get<int64_t>(i)));
    case TypeId::kDouble:
      return HashWord(CanonicalDoubleBits(col.Get<double>(i)));
    case TypeId::kInterval: {
      const Interval v = col.Get<Interval>(i);
      const uint64_t md =
          static_cast<uint32_t>(v.months) | (uint64_t{static_cast<uint32_t>(v.days)} << 32);
      return HashCombine(HashWord(md), HashWord(static_cast<uint64_t>(v.micros)));
    }
    case TypeId::kVarchar: {
      const std::string_view s = col.GetString(i);
      return HashBytes(s.data(), s.size());
    }
  }
  return kNullHash;
}

}  // namespace

void HashColumn(const Column& col, int64_t n, bool combine, uint64_t* hashes) {
  WEIR_DCHECK(n <= col.length());
  if (n <= 0) return;
  if (col.is_constant() || col.type().id == TypeId::kNull) {
    const uint64_t h = col.type().id == TypeId::kNull ? kNullHash : HashOneValue(col, 0);
    if (combine) {
      for (int64_t i = 0; i < n; ++i) hashes[i] = HashCombine(hashes[i], h);
    } else {
      for (int64_t i = 0; i < n; ++i) hashes[i] = h;
    }
    return;
  }
  switch (col.type().id) {
    case TypeId::kNull:
      break;  // handled above
    case TypeId::kBoolean: {
      const uint8_t* v = col.data<uint8_t>();
      HashRowsDispatch(col, n, combine, hashes, [v](int64_t i) { return HashWord(v[i]); });
      break;
    }
    case TypeId::kInt32: {
      const int32_t* v = col.data<int32_t>();
      HashRowsDispatch(col, n, combine, hashes,
                       [v](int64_t i) { return HashWord(static_cast<uint64_t>(int64_t{v[i]})); });
      break;
    }
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kTimestamp: {
      const int64_t* v = col.data<int64_t>();
      HashRowsDispatch(col, n, combine, hashes,
                       [v](int64_t i) { return HashWord(static_cast<uint64_t>(v[i])); });
      break;
    }
    case TypeId::kDouble: {
      const double* v = col.data<double>();
      HashRowsDispatch(col, n, combine, hashes,
                       [v](int64_t i) { return HashWord(CanonicalDoubleBits(v[i])); });
      break;
    }
    case TypeId::kInterval: {
      const Interval* v = col.data<Interval>();
      HashRowsDispatch(col, n, combine, hashes, [v](int64_t i) {
        const uint64_t md =
            static_cast<uint32_t>(v[i].months) | (uint64_t{static_cast<uint32_t>(v[i].days)} << 32);
        return HashCombine(HashWord(md), HashWord(static_cast<uint64_t>(v[i].micros)));
      });
      break;
    }
    case TypeId::kVarchar: {
      const int32_t* o = col.offsets();
      const char* c = col.chars();
      HashRowsDispatch(col, n, combine, hashes, [o, c](int64_t i) {
        return HashBytes(c + o[i], static_cast<size_t>(o[i + 1] - o[i]));
      });
      break;
    }
  }
}

}  // namespace weir
