#include "latency_histogram.h"

#include <algorithm>
#include <cmath>

namespace roster::bench {

namespace {

// Values below kExact have a bucket each; above, each power of two is
// split into kSub buckets.
constexpr uint64_t kExact = 128;
constexpr uint64_t kSub = 64;
constexpr size_t kBuckets = kExact + 58 * kSub;

int top_bit(uint64_t v) {
  return 63 - __builtin_clzll(v);
}

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

size_t LatencyHistogram::bucket_of(uint64_t us) {
  if (us < kExact) return static_cast<size_t>(us);
  const int shift = top_bit(us) - 6;  // >= 1: us >> shift is in [64, 128)
  const uint64_t top = us >> shift;
  return static_cast<size_t>(kExact + static_cast<uint64_t>(shift - 1) * kSub + (top - kSub));
}

uint64_t LatencyHistogram::upper_bound_of(size_t bucket) {
  if (bucket < kExact) return bucket;
  const uint64_t shift = (bucket - kExact) / kSub + 1;
  const uint64_t top = (bucket - kExact) % kSub + kSub;
  return ((top + 1) << shift) - 1;
}

void LatencyHistogram::add_us(int64_t us) {
  const uint64_t v = us > 0 ? static_cast<uint64_t>(us) : 0;
  ++counts_[bucket_of(v)];
  min_us_ = count_ == 0 ? v : std::min(min_us_, v);
  max_us_ = std::max(max_us_, v);
  ++count_;
}

double LatencyHistogram::quantile_ms(double q) const {
  q = std::clamp(q, 0.0, 1.0);
  if (q == 0.0) return static_cast<double>(min_us_) / 1000.0;
  const auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  uint64_t seen = 0;
  for (size_t b = 0; b < counts_.size(); ++b) {
    seen += counts_[b];
    if (seen >= rank && counts_[b] > 0) {
      return static_cast<double>(std::min(upper_bound_of(b), max_us_)) / 1000.0;
    }
  }
  return static_cast<double>(max_us_) / 1000.0;
}

nlohmann::json LatencyHistogram::summary() const {
  nlohmann::json j;
  j["count"] = count_;
  if (count_ == 0) return j;
  j["min_ms"] = quantile_ms(0.0);
  j["p50_ms"] = quantile_ms(0.5);
  j["p99_ms"] = quantile_ms(0.99);
  j["p999_ms"] = quantile_ms(0.999);
  j["max_ms"] = static_cast<double>(max_us_) / 1000.0;
  return j;
}

}  // namespace roster::bench
