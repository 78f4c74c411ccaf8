#include "membership_timer_queue.h"

#include <algorithm>
#include <utility>

namespace roster::internal {

namespace {
// std::*_heap build a max-heap; ordering by "later" makes the top the
// earliest.
bool later(const TimerEntry& a, const TimerEntry& b) {
  return a.due > b.due;
}
// Stale entries tolerated beyond one per held node before a rebuild.
constexpr size_t kTimerSlack = 1024;

}  // namespace

void TimerQueue::push(const TimerEntry& entry) {
  heap_.push_back(entry);
  std::push_heap(heap_.begin(), heap_.end(), later);
}

TimerEntry TimerQueue::pop() {
  std::pop_heap(heap_.begin(), heap_.end(), later);
  TimerEntry entry = heap_.back();
  heap_.pop_back();
  return entry;
}

void TimerQueue::assign(std::vector<TimerEntry> entries) {
  heap_ = std::move(entries);
  std::make_heap(heap_.begin(), heap_.end(), later);
}

void NodeTimers::arm(Node& n) {
  n.armed = n.due;
  queue_.push(TimerEntry{n.due, n.slot, n.generation});
  // Deadlines moved earlier and freed nodes leave stale entries until they
  // come up; keep them fewer than the held nodes plus a slack. Amortized
  // O(1) per push.
  if (queue_.size() > 2 * nodes_.size() + kTimerSlack) compact();
}

void NodeTimers::compact() {
  std::vector<TimerEntry> entries;
  entries.reserve(nodes_.size());
  nodes_.for_each([&entries](Node& n) {
    n.armed = n.due;
    entries.push_back(TimerEntry{n.due, n.slot, n.generation});
  });
  queue_.assign(std::move(entries));
}

Node* NodeTimers::pop_due(int64_t vnow) {
  while (!queue_.empty() && queue_.top().due <= vnow) {
    TimerEntry entry = queue_.pop();
    Node& n = nodes_.at(entry.slot);
    // A late entry acts only if it is still the node's armed one.
    if (!n.held || n.generation != entry.generation || n.armed != entry.due) continue;
    n.armed = kNoTimer;
    // The deadline moved later since the entry was armed: re-arm.
    if (n.due > vnow) {
      arm(n);
      continue;
    }
    return &n;
  }
  return nullptr;
}

}  // namespace roster::internal
