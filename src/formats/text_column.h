// Column-at-a-time text formatting shared by the CSV and JSON encoders (internal to formats/).
//
// FormatFixedColumn formats rows [0, rows) of a fixed-width column into `text` with
// `format(value, w) -> bytes written` (at most `width_max` bytes a value, `null_text` for NULL
// rows) and records each row's end in `offsets` (size_t, rows + 1 entries), so the encoder can
// interleave columns into lines without a per-cell type switch. Buffers keep kCopySlack spare
// bytes so CopyCell moves cells of up to 16 bytes with one fixed-size copy.
// TimestampFormatMemo is FormatTimestamp remembering the last value: event times repeat in runs
// (the flights data has 11 rows a minute), and copying the previous text is much cheaper.
#pragma once

#include <algorithm>
#include <cstring>
#include <string_view>

#include "batch/column.h"
#include "types/datetime.h"

namespace weir::text_column {

inline constexpr size_t kCopySlack = 16;

inline char* CopyCell(char* w, const char* src, size_t n) {
  if (n <= kCopySlack) {
    std::memcpy(w, src, kCopySlack);
  } else {
    std::memcpy(w, src, n);
  }
  return w + n;
}

template <typename T, typename FormatFn>
void FormatFixedColumn(const Column& col, int64_t rows, size_t width_max,
                       std::string_view null_text, FormatFn format, Buffer* text, Buffer* offsets) {
  auto n = static_cast<size_t>(rows);
  text->Clear();
  offsets->Clear();
  text->Reserve(n * std::max(width_max, null_text.size()) + kCopySlack);
  offsets->Resize((n + 1) * sizeof(size_t));
  char* base = reinterpret_cast<char*>(text->data());
  char* w = base;
  size_t* off = offsets->as<size_t>();
  off[0] = 0;
  const T* values = col.data<T>();
  const uint8_t* validity = col.validity();
  for (size_t r = 0; r < n; ++r) {
    if (validity != nullptr && !GetBit(validity, static_cast<int64_t>(r))) {
      std::memcpy(w, null_text.data(), null_text.size());
      w += null_text.size();
    } else {
      w += format(values[r], w);
    }
    off[r + 1] = static_cast<size_t>(w - base);
  }
  text->Resize(static_cast<size_t>(w - base));
}

class TimestampFormatMemo {
 public:
  size_t operator()(int64_t v, char* w) {
    if (v != value_ || size_ == 0) {
      value_ = v;
      size_ = FormatTimestamp(v, text_);
    }
    std::memcpy(w, text_, kTimestampTextMax);
    return size_;
  }

 private:
  int64_t value_ = 0;
  size_t size_ = 0;
  char text_[kTimestampTextMax];
};

}  // namespace weir::text_column
