#include "support/alloc_counter.h"

#include <cstdlib>
#include <new>

namespace {

bool g_recording = false;
roster::testing::AllocationStats g_stats;

void* allocate(size_t size) {
  if (g_recording) {
    ++g_stats.count;
    if (size > g_stats.largest) g_stats.largest = size;
  }
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(size_t size) {
  return allocate(size);
}
void* operator new[](size_t size) {
  return allocate(size);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
  std::free(p);
}

namespace roster::testing {

void start_recording_allocations() {
  g_stats = AllocationStats{};
  g_recording = true;
}

AllocationStats stop_recording_allocations() {
  g_recording = false;
  return g_stats;
}

}  // namespace roster::testing
