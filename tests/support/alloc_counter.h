// Counts the heap allocations made by a piece of code. Linking the library
// roster_alloc_counter replaces the global operator new/delete of the whole
// binary (link it only into the tests that count allocations); the
// replacements forward to malloc/free and record nothing unless a recording
// is running.
#pragma once

#include <cstddef>

namespace roster::testing {

// What a recording saw: how many allocations, and the largest single one.
struct AllocationStats {
  size_t count = 0;
  size_t largest = 0;
};

// Runs `body()` and returns the allocations made while it ran. The counters
// are plain globals: no other thread may allocate during a recording, and
// recordings do not nest.
template <typename Body>
AllocationStats record_allocations(Body&& body);

// The two halves of record_allocations, for code that cannot be a lambda.
void start_recording_allocations();
AllocationStats stop_recording_allocations();

template <typename Body>
AllocationStats record_allocations(Body&& body) {
  start_recording_allocations();
  body();
  return stop_recording_allocations();
}

}  // namespace roster::testing
