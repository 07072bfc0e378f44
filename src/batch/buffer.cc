#include "batch/buffer.h"

#include <new>

namespace weir {

void Buffer::Grow(size_t bytes) {
  size_t cap = capacity_ < 64 ? 64 : capacity_;
  while (cap < bytes) cap *= 2;
  void* p = std::aligned_alloc(kAlignment, cap);
  if (p == nullptr) throw std::bad_alloc();  // out of memory ends the process
  if (size_) std::memcpy(p, data_, size_);
  std::free(data_);
  data_ = static_cast<uint8_t*>(p);
  capacity_ = cap;
}

}  // namespace weir
