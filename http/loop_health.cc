#include "loop_health.h"

namespace roster::http {

LoopHealth::LoopHealth(TimeMs stale_after_ms, TimeMs start)
    : stale_after_ms_(stale_after_ms), last_round_(start) {}

void LoopHealth::round_completed(TimeMs now) {
  last_round_.store(now, std::memory_order_release);
}

bool LoopHealth::healthy(TimeMs now) const {
  return now - last_round() <= stale_after_ms_;
}

}  // namespace roster::http
