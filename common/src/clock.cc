#include "roster/clock.h"

#include <chrono>

namespace roster {

namespace {
int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SystemClock::SystemClock() : wall_at_start_ms_(unix_now_ms()), steady_at_start_ns_(steady_ns()) {}

TimeMs SystemClock::now_ms() const {
  return wall_at_start_ms_ + (steady_ns() - steady_at_start_ns_) / 1'000'000;
}

}  // namespace roster
