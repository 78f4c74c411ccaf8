#include "backoff.h"

#include <algorithm>

namespace roster {

Backoff::Backoff(uint64_t min_ms, uint64_t max_ms, uint64_t seed)
    : min_ms_(min_ms), max_ms_(std::max(min_ms, max_ms)), random_(seed) {}

uint64_t Backoff::next_delay_ms() {
  // Doubling stops once the cap is reached, so the shift never overflows.
  uint64_t cap = min_ms_;
  for (uint32_t i = 0; i <= failures_ && cap < max_ms_; ++i) cap *= 2;
  cap = std::min(cap, max_ms_);
  if (cap < max_ms_) ++failures_;
  std::uniform_int_distribution<uint64_t> pick(min_ms_, cap);
  return pick(random_);
}

}  // namespace roster
