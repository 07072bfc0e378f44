#include "state/key_encoder.h"

#include <cstring>

#include "state/bytes.h"
#include "state/hash.h"

namespace weir {
namespace {

using state_internal::CopyBytes;

constexpr uint32_t kVarcharHeaderBytes = 1 + 4;  // null byte + length

/// Where row i's next column goes. Fixed-length keys: a constant stride and column offset;
/// variable-length keys: a per-row cursor that advances past each column written.
struct FixedDest {
  uint8_t* base;
  size_t stride;
  size_t column_offset;
  uint8_t* At(int64_t i) const { return base + static_cast<size_t>(i) * stride + column_offset; }
  void Advance(int64_t, uint32_t) const {}
};
struct VarDest {
  uint8_t* base;
  uint32_t* cursor;
  uint8_t* At(int64_t i) const { return base + cursor[i]; }
  void Advance(int64_t i, uint32_t bytes) const { cursor[i] += bytes; }
};

struct Bytes16 {
  uint64_t lo, hi;
};

/// Writes null byte + value for rows [0, n) of a non-constant fixed-width column; `load(i)`
/// yields row i's value as the unsigned type T (already canonical). A NULL row writes zeros.
template <typename T, bool kValidity, typename Dest, typename Load>
void WriteFixedRows(int64_t n, const uint8_t* validity, Dest dest, Load load) {
  for (int64_t i = 0; i < n; ++i) {
    uint8_t* p = dest.At(i);
    T v = load(i);
    uint8_t null_byte = 0;
    if constexpr (kValidity) {
      const bool valid = GetBit(validity, i);
      null_byte = static_cast<uint8_t>(!valid);
      v = valid ? v : T{};
    }
    p[0] = null_byte;
    std::memcpy(p + 1, &v, sizeof(T));
    dest.Advance(i, 1 + sizeof(T));
  }
}

template <typename T, typename Dest, typename Load>
void WriteFixed(const Column& col, int64_t n, Dest dest, Load load) {
  if (col.has_validity()) {
    WriteFixedRows<T, true>(n, col.validity(), dest, load);
  } else {
    WriteFixedRows<T, false>(n, nullptr, dest, load);
  }
}

template <bool kValidity, typename Dest>
void WriteVarcharRows(int64_t n, const uint8_t* validity, const int32_t* o, const char* c,
                      Dest dest) {
  for (int64_t i = 0; i < n; ++i) {
    uint8_t* p = dest.At(i);
    bool valid = true;
    if constexpr (kValidity) valid = GetBit(validity, i);
    const uint32_t len = valid ? static_cast<uint32_t>(o[i + 1] - o[i]) : 0;
    p[0] = static_cast<uint8_t>(!valid);
    std::memcpy(p + 1, &len, 4);
    CopyBytes(p + kVarcharHeaderBytes, c + o[i], len);
    dest.Advance(i, kVarcharHeaderBytes + len);
  }
}

/// Writes the same byte string (a constant column's encoded value) for rows [0, n).
template <typename Dest>
void WriteConstant(int64_t n, const uint8_t* head, uint32_t head_len, const char* tail,
                   uint32_t tail_len, Dest dest) {
  for (int64_t i = 0; i < n; ++i) {
    uint8_t* p = dest.At(i);
    CopyBytes(p, head, head_len);
    CopyBytes(p + head_len, tail, tail_len);  // tail may be null when tail_len == 0
    dest.Advance(i, head_len + tail_len);
  }
}

/// Encodes one column into every row's key at `dest`. The only type switch is here.
template <typename Dest>
void EncodeColumn(const Column& col, int64_t n, Dest dest) {
  const TypeId id = col.type().id;
  if (id == TypeId::kNull) {
    const uint8_t null_byte = 1;
    WriteConstant(n, &null_byte, 1, nullptr, 0, dest);
    return;
  }
  if (col.is_constant()) {
    uint8_t head[1 + 16] = {};  // null byte + value (fixed) or + length (VARCHAR)
    uint32_t head_len = 1;
    const char* tail = nullptr;
    uint32_t tail_len = 0;
    const bool valid = col.IsValid(0);
    head[0] = static_cast<uint8_t>(!valid);
    if (id == TypeId::kVarchar) {
      if (valid) {
        const std::string_view s = col.GetString(0);
        tail = s.data();
        tail_len = static_cast<uint32_t>(s.size());
      }
      std::memcpy(head + 1, &tail_len, 4);
      head_len = kVarcharHeaderBytes;
    } else {
      const int w = col.type().byte_width();
      if (valid) {
        if (id == TypeId::kDouble) {
          const uint64_t bits = CanonicalDoubleBits(col.Get<double>(0));
          std::memcpy(head + 1, &bits, 8);
        } else {
          std::memcpy(head + 1, col.data<uint8_t>(), static_cast<size_t>(w));
        }
      }
      head_len = 1 + static_cast<uint32_t>(w);
    }
    WriteConstant(n, head, head_len, tail, tail_len, dest);
    return;
  }
  switch (id) {
    case TypeId::kNull:
      break;  // handled above
    case TypeId::kBoolean: {
      const uint8_t* v = col.data<uint8_t>();
      WriteFixed<uint8_t>(col, n, dest, [v](int64_t i) { return v[i]; });
      break;
    }
    case TypeId::kInt32: {
      const uint32_t* v = col.data<uint32_t>();
      WriteFixed<uint32_t>(col, n, dest, [v](int64_t i) { return v[i]; });
      break;
    }
    case TypeId::kInt64:
    case TypeId::kDecimal:
    case TypeId::kTimestamp: {
      const uint64_t* v = col.data<uint64_t>();
      WriteFixed<uint64_t>(col, n, dest, [v](int64_t i) { return v[i]; });
      break;
    }
    case TypeId::kDouble: {
      const double* v = col.data<double>();
      WriteFixed<uint64_t>(col, n, dest, [v](int64_t i) { return CanonicalDoubleBits(v[i]); });
      break;
    }
    case TypeId::kInterval: {
      const uint8_t* v = col.data<uint8_t>();
      WriteFixed<Bytes16>(col, n, dest, [v](int64_t i) {
        Bytes16 b;
        std::memcpy(&b, v + static_cast<size_t>(i) * 16, 16);
        return b;
      });
      break;
    }
    case TypeId::kVarchar:
      if constexpr (std::is_same_v<Dest, VarDest>) {
        if (col.has_validity()) {
          WriteVarcharRows<true>(n, col.validity(), col.offsets(), col.chars(), dest);
        } else {
          WriteVarcharRows<false>(n, nullptr, col.offsets(), col.chars(), dest);
        }
      } else {
        WEIR_CHECK(false);  // a VARCHAR column makes the keys variable-length
      }
      break;
  }
}

/// Adds each row's VARCHAR byte count (0 for NULL) of `col` to lens[0..n).
void AddVarcharLengths(const Column& col, int64_t n, uint32_t* lens) {
  if (col.is_constant()) {
    const uint32_t len = col.IsValid(0) ? static_cast<uint32_t>(col.GetString(0).size()) : 0;
    for (int64_t i = 0; i < n; ++i) lens[i] += len;
    return;
  }
  const int32_t* o = col.offsets();
  if (col.has_validity()) {
    const uint8_t* validity = col.validity();
    for (int64_t i = 0; i < n; ++i) {
      lens[i] += GetBit(validity, i) ? static_cast<uint32_t>(o[i + 1] - o[i]) : 0;
    }
  } else {
    for (int64_t i = 0; i < n; ++i) lens[i] += static_cast<uint32_t>(o[i + 1] - o[i]);
  }
}

/// Appends one decoded fixed-width value (or NULL) from `p` (at the null byte) to `c`.
template <typename T>
void DecodeFixedRows(const uint8_t* const* keys, int64_t n, uint32_t* cursor, Column* c) {
  c->Reserve(n);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* p = keys[i] + cursor[i];
    if (p[0]) {
      c->AppendNull();
    } else {
      T v;
      std::memcpy(&v, p + 1, sizeof(T));
      c->Append<T>(v);
    }
    cursor[i] += 1 + sizeof(T);
  }
}

}  // namespace

KeyEncoder::KeyEncoder(std::vector<DataType> key_types) : types_(std::move(key_types)) {
  uint32_t offset = 0;
  for (const DataType& t : types_) {
    fixed_offsets_.push_back(offset);
    if (t.id == TypeId::kVarchar) {
      fixed_ = false;
      offset += kVarcharHeaderBytes;
    } else {
      offset += 1 + static_cast<uint32_t>(t.id == TypeId::kNull ? 0 : t.byte_width());
    }
  }
  fixed_key_bytes_ = offset;
}

void KeyEncoder::Encode(const std::vector<const Column*>& cols, int64_t n) {
  WEIR_CHECK(cols.size() == types_.size());
  WEIR_DCHECK(n >= 0);
  num_keys_ = n;
  if (fixed_) {
    const uint64_t total = static_cast<uint64_t>(n) * fixed_key_bytes_;
    WEIR_CHECK(total < (uint64_t{1} << 32));
    keys_.Resize(static_cast<size_t>(total));
    for (size_t j = 0; j < cols.size(); ++j) {
      WEIR_DCHECK(cols[j]->type().id == types_[j].id && cols[j]->length() >= n);
      EncodeColumn(*cols[j], n, FixedDest{keys_.data(), fixed_key_bytes_, fixed_offsets_[j]});
    }
    return;
  }
  // Variable-length keys: lengths, then offsets (prefix sums), then the columns one by one,
  // each row's cursor advancing past what was written.
  offsets_.Resize(static_cast<size_t>(n + 1) * sizeof(uint32_t));
  uint32_t* off = offsets_.as<uint32_t>();
  uint32_t* lens = off + 1;
  for (int64_t i = 0; i < n; ++i) lens[i] = fixed_key_bytes_;
  for (size_t j = 0; j < cols.size(); ++j) {
    WEIR_DCHECK(cols[j]->type().id == types_[j].id && cols[j]->length() >= n);
    if (types_[j].id == TypeId::kVarchar) AddVarcharLengths(*cols[j], n, lens);
  }
  uint64_t total = 0;
  off[0] = 0;
  for (int64_t i = 0; i < n; ++i) {
    total += lens[i];
    off[i + 1] = static_cast<uint32_t>(total);
  }
  WEIR_CHECK(total < (uint64_t{1} << 32));
  keys_.Resize(static_cast<size_t>(total));
  cursor_.Resize(static_cast<size_t>(n) * sizeof(uint32_t));
  uint32_t* cursor = cursor_.as<uint32_t>();
  if (n > 0) std::memcpy(cursor, off, static_cast<size_t>(n) * sizeof(uint32_t));
  for (size_t j = 0; j < cols.size(); ++j) {
    EncodeColumn(*cols[j], n, VarDest{keys_.data(), cursor});
  }
}

void KeyEncoder::Decode(const uint8_t* key, uint32_t len, const std::vector<Column*>& out) const {
  WEIR_CHECK(out.size() == types_.size());
  const uint8_t* p = key;
  for (size_t j = 0; j < types_.size(); ++j) {
    Column* c = out[j];
    const bool is_null = *p++ != 0;
    switch (types_[j].id) {
      case TypeId::kNull:
        c->AppendNull();
        continue;
      case TypeId::kVarchar: {
        uint32_t n;
        std::memcpy(&n, p, 4);
        p += 4;
        if (is_null) {
          c->AppendNull();
        } else {
          c->AppendString({reinterpret_cast<const char*>(p), n});
        }
        p += n;
        continue;
      }
      default:
        break;
    }
    const int w = types_[j].byte_width();
    if (is_null) {
      c->AppendNull();
    } else {
      switch (w) {
        case 1:
          c->Append<uint8_t>(*p);
          break;
        case 4: {
          uint32_t v;
          std::memcpy(&v, p, 4);
          c->Append<uint32_t>(v);
          break;
        }
        case 8: {
          uint64_t v;
          std::memcpy(&v, p, 8);
          c->Append<uint64_t>(v);
          break;
        }
        case 16: {
          Interval v;
          std::memcpy(&v, p, 16);
          c->Append<Interval>(v);
          break;
        }
        default:
          WEIR_CHECK(false);
      }
    }
    p += w;
  }
  WEIR_CHECK(p == key + len);
}

void KeyEncoder::DecodeBatch(const uint8_t* const* keys, const uint32_t* lens, int64_t n,
                             const std::vector<Column*>& out) {
  WEIR_CHECK(out.size() == types_.size());
  cursor_.Resize(static_cast<size_t>(n) * sizeof(uint32_t));
  uint32_t* cursor = cursor_.as<uint32_t>();
  if (n > 0) std::memset(cursor, 0, static_cast<size_t>(n) * sizeof(uint32_t));
  for (size_t j = 0; j < types_.size(); ++j) {
    Column* c = out[j];
    switch (types_[j].id) {
      case TypeId::kNull:
        for (int64_t i = 0; i < n; ++i) {
          c->AppendNull();
          cursor[i] += 1;
        }
        break;
      case TypeId::kBoolean:
        DecodeFixedRows<uint8_t>(keys, n, cursor, c);
        break;
      case TypeId::kInt32:
        DecodeFixedRows<uint32_t>(keys, n, cursor, c);
        break;
      case TypeId::kInt64:
      case TypeId::kDecimal:
      case TypeId::kTimestamp:
      case TypeId::kDouble:
        DecodeFixedRows<uint64_t>(keys, n, cursor, c);
        break;
      case TypeId::kInterval:
        DecodeFixedRows<Interval>(keys, n, cursor, c);
        break;
      case TypeId::kVarchar:
        for (int64_t i = 0; i < n; ++i) {
          const uint8_t* p = keys[i] + cursor[i];
          uint32_t len;
          std::memcpy(&len, p + 1, 4);
          if (p[0]) {
            c->AppendNull();
          } else {
            c->AppendString({reinterpret_cast<const char*>(p + kVarcharHeaderBytes), len});
          }
          cursor[i] += kVarcharHeaderBytes + len;
        }
        break;
    }
  }
  for (int64_t i = 0; i < n; ++i) WEIR_DCHECK(cursor[i] == lens[i]);
  (void)lens;
}

}  // namespace weir
