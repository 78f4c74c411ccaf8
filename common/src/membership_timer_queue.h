// The timers of the membership core: a min-heap of timer entries
// (TimerQueue), and the one lazily armed timer of each held node on top of
// it (NodeTimers).
//
// Each entry names a node slot, the slot's generation (bumped when the slot
// is freed, so entries of a forgotten node are recognised as stale) and the
// due time. Each node keeps its deadline (`due`) and the due time of its one
// valid entry (`armed`); an entry whose due time no longer matches is stale
// and is skipped when popped. Moving a deadline later costs nothing (the
// entry is re-armed when it pops); only moving it earlier pushes a new
// entry. NodeTimers bounds the stale entries by rebuilding the heap when
// they outnumber the held nodes (plus a slack), so the heap stays O(nodes)
// whatever agents do.
//
// Thread safety: none; one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "membership_node_table.h"

namespace roster::internal {

// One armed timer: slot `slot` of generation `generation` is due at `due`
// (virtual milliseconds, see membership_stall_clock.h).
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

// The one timer of each node held in a NodeTable.
class NodeTimers {
 public:
  // Arms the timers of the nodes of `nodes`, which must outlive this.
  explicit NodeTimers(NodeTable& nodes) : nodes_(nodes) {}
  NodeTimers(const NodeTimers&) = delete;
  NodeTimers& operator=(const NodeTimers&) = delete;

  // Sets held node `n`'s deadline to `due` (virtual ms). O(1) when the
  // deadline moves later; O(log n) amortized when it moves earlier.
  void set_due(Node& n, int64_t due) {
    n.due = due;
    if (n.armed == kNoTimer || due < n.armed) arm(n);
  }

  // The next held node whose deadline has come at `vnow`, its timer
  // consumed (n.armed is kNoTimer until set_due); nullptr when none is due.
  // The caller gives it a new deadline or frees it. Skips stale entries and
  // re-arms nodes whose deadline moved later. Costs in proportion to the
  // entries due.
  Node* pop_due(int64_t vnow);

  // The earliest armed due time (virtual ms); nullopt if nothing is armed.
  // It may be early: a deadline may have moved later since.
  std::optional<int64_t> next() const {
    if (queue_.empty()) return std::nullopt;
    return queue_.top().due;
  }

  // Heap entries, stale ones included.
  size_t size() const { return queue_.size(); }

 private:
  void arm(Node& n);
  // Rebuilds the heap with exactly one entry per held node.
  void compact();

  NodeTable& nodes_;
  TimerQueue queue_;
};

}  // namespace roster::internal
