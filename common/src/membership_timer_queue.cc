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

}  // namespace roster::internal
