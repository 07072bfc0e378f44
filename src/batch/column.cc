#include "batch/column.h"

#include "types/datetime.h"

namespace weir {

void Column::ResetEmpty() {
  length_ = 0;
  constant_ = false;
  has_validity_ = false;
  values_.Clear();
  chars_.Clear();
  validity_.Clear();
  if (type_.id == TypeId::kVarchar) {
    int32_t zero = 0;
    values_.Append(&zero, sizeof(zero));
  }
}

uint8_t* Column::EnsureValidity() {
  if (!has_validity_) {
    int64_t rows = constant_ ? 1 : length_;
    validity_.Resize(static_cast<size_t>(BitmapBytes(rows < 1 ? 1 : rows)));
    std::memset(validity_.data(), 0xff, validity_.size());
    has_validity_ = true;
  }
  return validity_.data();
}

void Column::GrowValidity(bool valid) {
  int64_t i = length_ - 1;
  size_t need = static_cast<size_t>(BitmapBytes(length_));
  if (validity_.size() < need) {
    size_t old = validity_.size();
    validity_.Resize(need);
    std::memset(validity_.data() + old, 0xff, need - old);
  }
  SetBitTo(validity_.data(), i, valid);
}

void Column::ResizeFixed(int64_t n) {
  WEIR_DCHECK(type_.is_fixed_width());
  constant_ = false;
  values_.Resize(static_cast<size_t>(n) * static_cast<size_t>(type_.byte_width()));
  length_ = n;
  if (has_validity_) validity_.Resize(static_cast<size_t>(BitmapBytes(n)));
}

void Column::Reserve(int64_t rows, int64_t chars_bytes) {
  int w = type_.byte_width();
  values_.Reserve(values_.size() + static_cast<size_t>(rows) * static_cast<size_t>(w));
  if (chars_bytes) chars_.Reserve(chars_.size() + static_cast<size_t>(chars_bytes));
}

void Column::AppendNull() {
  if (type_.id == TypeId::kVarchar) {
    int32_t end = static_cast<int32_t>(chars_.size());
    values_.Append(&end, sizeof(end));
  } else {
    static constexpr uint8_t kZero[16] = {};
    values_.Append(kZero, static_cast<size_t>(type_.byte_width()));
  }
  ++length_;
  if (!has_validity_) {
    // Create the bitmap with all previous rows valid.
    size_t need = static_cast<size_t>(BitmapBytes(length_));
    validity_.Resize(need);
    std::memset(validity_.data(), 0xff, need);
    has_validity_ = true;
  }
  GrowValidity(false);
}

void Column::AppendFrom(const Column& src, int64_t i) {
  if (!src.IsValid(i)) {
    AppendNull();
    return;
  }
  if (type_.id == TypeId::kVarchar) {
    AppendString(src.GetString(i));
    return;
  }
  int w = type_.byte_width();
  int64_t k = src.constant_ ? 0 : i;
  values_.Append(src.values_.data() + k * w, static_cast<size_t>(w));
  ++length_;
  if (has_validity_) GrowValidity(true);
}

void Column::Gather(const Column& src, const uint32_t* sel, int64_t n) {
  WEIR_DCHECK(src.type_.id == type_.id);
  type_ = src.type_;
  ResetEmpty();
  if (src.constant_) {
    AppendFrom(src, 0);
    MakeConstant(n);
    return;
  }
  if (type_.id == TypeId::kVarchar) {
    const int32_t* so = src.offsets();
    int64_t bytes = 0;
    for (int64_t j = 0; j < n; ++j) bytes += so[sel[j] + 1] - so[sel[j]];
    values_.Resize(static_cast<size_t>(n + 1) * 4);
    chars_.Resize(static_cast<size_t>(bytes));
    int32_t* o = offsets();
    char* c = reinterpret_cast<char*>(chars_.data());
    int32_t pos = 0;
    o[0] = 0;
    for (int64_t j = 0; j < n; ++j) {
      int32_t b = so[sel[j]], e = so[sel[j] + 1];
      if (e > b) std::memcpy(c + pos, src.chars() + b, static_cast<size_t>(e - b));
      pos += e - b;
      o[j + 1] = pos;
    }
    length_ = n;
  } else {
    ResizeFixed(n);
    switch (type_.byte_width()) {
      case 1: {
        const uint8_t* s = src.data<uint8_t>();
        uint8_t* d = data<uint8_t>();
        for (int64_t j = 0; j < n; ++j) d[j] = s[sel[j]];
        break;
      }
      case 4: {
        const uint32_t* s = src.data<uint32_t>();
        uint32_t* d = data<uint32_t>();
        for (int64_t j = 0; j < n; ++j) d[j] = s[sel[j]];
        break;
      }
      case 8: {
        const uint64_t* s = src.data<uint64_t>();
        uint64_t* d = data<uint64_t>();
        for (int64_t j = 0; j < n; ++j) d[j] = s[sel[j]];
        break;
      }
      case 16: {
        const Interval* s = src.data<Interval>();
        Interval* d = data<Interval>();
        for (int64_t j = 0; j < n; ++j) d[j] = s[sel[j]];
        break;
      }
      default:
        WEIR_CHECK(false);
    }
  }
  if (src.has_validity_) {
    validity_.Resize(static_cast<size_t>(BitmapBytes(n)));
    has_validity_ = true;
    uint8_t* v = validity_.data();
    const uint8_t* sv = src.validity_.data();
    for (int64_t j = 0; j < n; ++j) SetBitTo(v, j, GetBit(sv, sel[j]));
  }
}

void Column::CopyFrom(const Column& src) {
  type_ = src.type_;
  length_ = src.length_;
  constant_ = src.constant_;
  has_validity_ = src.has_validity_;
  values_.Clear();
  values_.Append(src.values_.data(), src.values_.size());
  chars_.Clear();
  chars_.Append(src.chars_.data(), src.chars_.size());
  validity_.Clear();
  validity_.Append(src.validity_.data(), src.validity_.size());
}

void Column::AppendRange(const Column& src, int64_t offset, int64_t n) {
  WEIR_DCHECK(src.type_.id == type_.id && !constant_);
  if (n <= 0) return;
  if (src.constant_) {
    for (int64_t i = 0; i < n; ++i) AppendFrom(src, 0);
    return;
  }
  const int64_t old_len = length_;
  if (type_.id == TypeId::kVarchar) {
    const int32_t* so = src.offsets();
    int32_t b = so[offset], e = so[offset + n];
    int32_t base = static_cast<int32_t>(chars_.size());
    chars_.Append(src.chars() + b, static_cast<size_t>(e - b));
    values_.Reserve(values_.size() + static_cast<size_t>(n) * 4);
    for (int64_t i = 1; i <= n; ++i) {
      int32_t o = so[offset + i] - b + base;
      values_.Append(&o, sizeof(o));
    }
  } else {
    size_t w = static_cast<size_t>(type_.byte_width());
    values_.Append(src.values_.data() + static_cast<size_t>(offset) * w, static_cast<size_t>(n) * w);
  }
  length_ += n;
  if (src.has_validity_ || has_validity_) {
    size_t need = static_cast<size_t>(BitmapBytes(length_));
    size_t had = validity_.size();
    if (!has_validity_) had = 0;
    validity_.Resize(need);
    if (had < need) std::memset(validity_.data() + had, 0xff, need - had);
    if (!has_validity_) {
      has_validity_ = true;
    }
    uint8_t* v = validity_.data();
    for (int64_t i = 0; i < n; ++i) SetBitTo(v, old_len + i, src.IsValid(offset + i));
  }
}

void Column::Materialize() {
  if (!constant_) return;
  int64_t n = length_;
  bool valid = IsValid(0);
  if (type_.id == TypeId::kVarchar) {
    std::string v(GetString(0));
    ResetEmpty();
    Reserve(n, static_cast<int64_t>(v.size()) * n);
    for (int64_t i = 0; i < n; ++i) AppendString(v);
  } else {
    int w = type_.byte_width();
    uint8_t one[16] = {};
    if (w > 0) std::memcpy(one, values_.data(), static_cast<size_t>(w));
    ResetEmpty();
    values_.Resize(static_cast<size_t>(n * w));
    for (int64_t i = 0; w > 0 && i < n; ++i) std::memcpy(values_.data() + i * w, one, static_cast<size_t>(w));
    length_ = n;
  }
  if (!valid) {
    validity_.Resize(static_cast<size_t>(BitmapBytes(n)));
    std::memset(validity_.data(), 0, validity_.size());
    has_validity_ = true;
  }
}

int64_t Column::CountNulls() const {
  if (!has_validity_) return 0;
  if (constant_) return IsValid(0) ? 0 : length_;
  int64_t nulls = 0;
  for (int64_t i = 0; i < length_; ++i) nulls += !GetBit(validity_.data(), i);
  return nulls;
}

std::string Column::ValueToString(int64_t i) const {
  if (!IsValid(i)) return "NULL";
  char buf[80];
  switch (type_.id) {
    case TypeId::kNull: return "NULL";
    case TypeId::kBoolean: return Get<uint8_t>(i) ? "true" : "false";
    case TypeId::kInt32: return std::to_string(Get<int32_t>(i));
    case TypeId::kInt64: return std::to_string(Get<int64_t>(i));
    case TypeId::kDouble: return std::string(buf, FormatDouble(Get<double>(i), buf));
    case TypeId::kDecimal: return std::string(buf, FormatDecimal(Get<int64_t>(i), type_.scale, buf));
    case TypeId::kVarchar: return std::string(GetString(i));
    case TypeId::kTimestamp: return std::string(buf, FormatTimestamp(Get<int64_t>(i), buf));
    case TypeId::kInterval: return std::string(buf, FormatInterval(Get<Interval>(i), buf));
  }
  return "?";
}

}  // namespace weir
