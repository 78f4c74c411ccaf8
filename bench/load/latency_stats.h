// Latency samples and their percentiles, for the load benchmark.
//
// Thread safety: none; one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

namespace roster::bench {

// A bag of durations in microseconds. Summaries sort a copy, so adding
// stays O(1) on the measuring thread.
class LatencySamples {
 public:
  void add_us(int64_t us) { samples_.push_back(us); }
  void add_all(const LatencySamples& other);
  size_t count() const { return samples_.size(); }
  bool empty() const { return samples_.empty(); }
  // Every sample in microseconds, in the order added.
  const std::vector<int64_t>& raw() const { return samples_; }

  // The q-quantile (0 <= q <= 1) in milliseconds, by nearest rank.
  // REQUIRES: !empty()
  double quantile_ms(double q) const;
  double max_ms() const { return quantile_ms(1.0); }
  double min_ms() const { return quantile_ms(0.0); }

  // {"count", "p50_ms", "p99_ms", "p999_ms", "max_ms", "min_ms"}, or
  // {"count": 0} when empty.
  nlohmann::json summary() const;

 private:
  std::vector<int64_t> samples_;
};

}  // namespace roster::bench
