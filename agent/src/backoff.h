// Exponential backoff with jitter for reconnecting to a broker.
//
// Thread safety: none; one owner.
#pragma once

#include <cstdint>
#include <random>

namespace roster {

class Backoff {
 public:
  // REQUIRES: 1 <= min_ms <= max_ms. `seed` makes the jitter reproducible.
  Backoff(uint64_t min_ms, uint64_t max_ms, uint64_t seed);

  // The wait before the next attempt: uniform in [min, min(max, min*2^(n+1))]
  // where n counts the calls since the last reset().
  uint64_t next_delay_ms();

  // Forgets past failures (after a successful join).
  void reset() { failures_ = 0; }

 private:
  uint64_t min_ms_;
  uint64_t max_ms_;
  uint32_t failures_ = 0;
  std::mt19937_64 random_;
};

}  // namespace roster
