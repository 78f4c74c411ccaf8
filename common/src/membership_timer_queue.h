// A min-heap of timers for the membership core, armed lazily.
//
// Each entry names a node slot, the slot's generation (bumped when the slot
// is freed, so entries of a forgotten node are recognised as stale) and the
// due time. The owner keeps, per node, the due time of its one valid entry;
// an entry whose due time no longer matches is stale and is skipped when
// popped. Moving a deadline later costs nothing (the entry is re-armed when
// it pops); only moving it earlier pushes a new entry. The owner bounds the
// stale entries by rebuilding the heap (assign) when they outnumber the
// valid ones.
//
// Thread safety: none; one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace roster::internal {

// One armed timer: slot `slot` of generation `generation` is due at `due`
// (virtual milliseconds, see membership.cc).
struct TimerEntry {
  int64_t due = 0;
  uint32_t slot = 0;
  uint32_t generation = 0;
};

// Min-heap of TimerEntry by due time. push and pop are O(log n).
class TimerQueue {
 public:
  void push(const TimerEntry& entry);
  // Removes and returns the earliest entry. REQUIRES: !empty().
  TimerEntry pop();
  // The earliest entry. REQUIRES: !empty().
  const TimerEntry& top() const { return heap_.front(); }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  // Replaces the whole heap with `entries` in O(n).
  void assign(std::vector<TimerEntry> entries);
  // Bytes held by the heap's storage.
  size_t capacity_bytes() const { return heap_.capacity() * sizeof(TimerEntry); }

 private:
  std::vector<TimerEntry> heap_;
};

}  // namespace roster::internal
