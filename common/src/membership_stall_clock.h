// The observer's clock of the membership core: the real time of the latest
// call, and the virtual time in which every deadline of the core is kept.
//
// virtual = real - offset. A gap between two observed calls longer than the
// stall threshold is a stall of the observer (the broker was paused or
// starved), not of the nodes: observe() adds the whole gap to the offset,
// which moves every virtual deadline later by it at once, in O(1). A gap
// while nothing is armed protects nothing and is not a stall. Times shown
// to observers are real: to_real() converts.
//
// A caller that sleeps until wake_at() is never taken for stalled: while
// stall protection is on, wake_at() is at most half the threshold after the
// latest call.
//
// Cost: every call is O(1) and allocates nothing.
// Thread safety: none; one owner.
#pragma once

#include <algorithm>
#include <cstdint>

#include "roster/clock.h"

namespace roster::internal {

class StallClock {
 public:
  // Starts at real time `start` with offset 0. A threshold of 0 disables
  // stall protection.
  StallClock(TimeMs start, uint64_t threshold_ms)
      : threshold_ms_(threshold_ms), last_now_(start), vnow_(start) {}

  // Records a call at real time `now`; a `now` before the latest call counts
  // as the latest call (no time passed). When `armed` (some deadline is
  // pending) and the gap since the latest call is over the threshold, the
  // gap is a stall: the offset grows by it and it is counted.
  void observe(TimeMs now, bool armed) {
    if (now < last_now_) now = last_now_;
    int64_t gap = now - last_now_;
    if (threshold_ms_ > 0 && armed && gap > static_cast<int64_t>(threshold_ms_)) {
      offset_ += gap;
      ++stalls_;
      stalled_ms_ += static_cast<uint64_t>(gap);
    }
    last_now_ = now;
    vnow_ = now - offset_;
  }

  // Real time of the latest call.
  TimeMs now() const { return last_now_; }
  // Virtual time of the latest call.
  int64_t vnow() const { return vnow_; }
  // The real time of virtual time `virtual_ms`, at the current offset.
  TimeMs to_real(int64_t virtual_ms) const { return virtual_ms + offset_; }

  // When to wake up for the virtual deadline `due`: its real time, but no
  // later than the latest call plus half the threshold (at least 1 ms) while
  // stall protection is on.
  TimeMs wake_at(int64_t due) const {
    TimeMs deadline = to_real(due);
    if (threshold_ms_ > 0) deadline = std::min(deadline, last_now_ + keepalive_ms());
    return deadline;
  }

  // Stalls detected, and the total gap they added to the offset.
  uint64_t stalls() const { return stalls_; }
  uint64_t stalled_ms() const { return stalled_ms_; }

 private:
  int64_t keepalive_ms() const {
    return std::max<int64_t>(1, static_cast<int64_t>(threshold_ms_ / 2));
  }

  uint64_t threshold_ms_;
  TimeMs last_now_;
  int64_t offset_ = 0;
  int64_t vnow_;
  uint64_t stalls_ = 0;
  uint64_t stalled_ms_ = 0;
};

}  // namespace roster::internal
