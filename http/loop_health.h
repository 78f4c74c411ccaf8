// Whether an event loop is turning, for /healthz: the loop records the end
// of every round; a reader on another thread asks whether the last one is
// recent enough. A wedged loop (stuck in a call, a deadlock, a paused
// process) stops recording, and the answer turns false after `stale_after`.
//
// Thread safety: round_completed() from the loop's thread, healthy() and
// last_round() from any thread, concurrently (one atomic).
#pragma once

#include <atomic>

#include "roster/clock.h"

namespace roster::http {

// A loop that has not completed a round for this long is not healthy. The
// broker's loop completes one at least every 50 ms, so this allows for a
// loaded host but catches a wedge within seconds.
inline constexpr TimeMs kDefaultStaleAfterMs = 3'000;

class LoopHealth {
 public:
  // `start`: the time the loop starts; it counts as its first round.
  LoopHealth(TimeMs stale_after_ms, TimeMs start);

  // The loop completed a round at `now`.
  void round_completed(TimeMs now);

  // True when a round completed within stale_after of `now`.
  bool healthy(TimeMs now) const;

  TimeMs last_round() const { return last_round_.load(std::memory_order_acquire); }
  TimeMs stale_after_ms() const { return stale_after_ms_; }

 private:
  const TimeMs stale_after_ms_;
  std::atomic<TimeMs> last_round_;
};

}  // namespace roster::http
