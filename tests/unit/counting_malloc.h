// Counting allocator for allocation tests: interposes the malloc family (operator new goes
// through malloc) and counts every call in `weir_test::AllocationCount()`. Include it in exactly
// one translation unit of a test executable. Under AddressSanitizer, which owns malloc, the
// interposition is off and WEIR_NO_MALLOC_INTERPOSE is defined: tests must then skip with a
// message (they run in the regular build).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#if defined(__SANITIZE_ADDRESS__)
#define WEIR_NO_MALLOC_INTERPOSE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WEIR_NO_MALLOC_INTERPOSE 1
#endif
#endif

namespace weir_test {
inline std::atomic<int64_t> g_allocations{0};
inline int64_t AllocationCount() { return g_allocations.load(std::memory_order_relaxed); }
}  // namespace weir_test

#ifndef WEIR_NO_MALLOC_INTERPOSE
extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void* __libc_memalign(size_t, size_t);
void* malloc(size_t n) {
  weir_test::g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
void* calloc(size_t n, size_t m) {
  weir_test::g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(n, m);
}
void* realloc(void* p, size_t n) {
  weir_test::g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
void* aligned_alloc(size_t a, size_t n) {
  weir_test::g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(a, n);
}
int posix_memalign(void** out, size_t a, size_t n) {
  weir_test::g_allocations.fetch_add(1, std::memory_order_relaxed);
  *out = __libc_memalign(a, n);
  return *out ? 0 : 12;
}
}
#endif
