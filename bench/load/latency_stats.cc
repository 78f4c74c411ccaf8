#include "latency_stats.h"

#include <algorithm>
#include <cmath>

namespace roster::bench {

namespace {
// Nearest rank: the smallest sample with at least q of all samples <= it.
double quantile_of_sorted_ms(const std::vector<int64_t>& sorted, double q) {
  q = std::clamp(q, 0.0, 1.0);
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[rank == 0 ? 0 : rank - 1]) / 1000.0;
}
}  // namespace

void LatencySamples::add_all(const LatencySamples& other) {
  samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
}

double LatencySamples::quantile_ms(double q) const {
  std::vector<int64_t> sorted = samples_;
  std::sort(sorted.begin(), sorted.end());
  return quantile_of_sorted_ms(sorted, q);
}

nlohmann::json LatencySamples::summary() const {
  nlohmann::json j;
  j["count"] = samples_.size();
  if (samples_.empty()) return j;
  std::vector<int64_t> sorted = samples_;
  std::sort(sorted.begin(), sorted.end());
  j["min_ms"] = quantile_of_sorted_ms(sorted, 0.0);
  j["p50_ms"] = quantile_of_sorted_ms(sorted, 0.5);
  j["p99_ms"] = quantile_of_sorted_ms(sorted, 0.99);
  j["p999_ms"] = quantile_of_sorted_ms(sorted, 0.999);
  j["max_ms"] = quantile_of_sorted_ms(sorted, 1.0);
  return j;
}

}  // namespace roster::bench
