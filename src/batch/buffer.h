// Buffer: an owned, 64-byte aligned, growable byte array.
//
// Capacity only grows; Clear() keeps it. A Buffer reused batch after batch stops allocating once
// it has reached the high-water mark, which is how the hot path stays allocation-free.
// Not thread-safe; move-only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "common/status.h"

namespace weir {

class Buffer {
 public:
  static constexpr size_t kAlignment = 64;

  Buffer() = default;
  ~Buffer() { std::free(data_); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        size_(std::exchange(o.size_, 0)),
        capacity_(std::exchange(o.capacity_, 0)) {}
  Buffer& operator=(Buffer&& o) noexcept {
    if (this != &o) {
      std::free(data_);
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      capacity_ = std::exchange(o.capacity_, 0);
    }
    return *this;
  }

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  template <typename T>
  T* as() { return reinterpret_cast<T*>(data_); }
  template <typename T>
  const T* as() const { return reinterpret_cast<const T*>(data_); }

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }

  /// Ensures capacity >= `bytes`, keeping contents. Grows geometrically.
  void Reserve(size_t bytes) {
    if (bytes > capacity_) Grow(bytes);
  }
  /// Sets size to `bytes` (contents beyond the old size are unspecified).
  void Resize(size_t bytes) {
    Reserve(bytes);
    size_ = bytes;
  }
  void Clear() { size_ = 0; }
  /// Appends `n` bytes.
  void Append(const void* src, size_t n) {
    Reserve(size_ + n);
    if (n) std::memcpy(data_ + size_, src, n);
    size_ += n;
  }

 private:
  void Grow(size_t bytes);

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace weir
