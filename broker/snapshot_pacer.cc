#include "snapshot_pacer.h"

#include <algorithm>

namespace roster::broker {

SnapshotPacer::SnapshotPacer(const SnapshotPacing& pacing, TimeMs now) : pacing_(pacing) {
  if (pacing_.interval_ms > 0) next_periodic_ = now + pacing_.interval_ms;
}

void SnapshotPacer::trigger() {
  triggered_ = true;
}

bool SnapshotPacer::due(TimeMs now) const {
  std::optional<TimeMs> at = next_due();
  return at && *at <= now;
}

std::optional<TimeMs> SnapshotPacer::next_due() const {
  std::optional<TimeMs> at = next_periodic_;
  if (triggered_) at = at ? std::min(*at, earliest_triggered_) : earliest_triggered_;
  // Held back: nothing before the retry.
  if (at && retry_at_) at = std::max(*at, *retry_at_);
  return at;
}

void SnapshotPacer::published(TimeMs now, size_t bytes) {
  triggered_ = false;
  retry_at_.reset();
  earliest_triggered_ = now + triggered_gap(bytes);
  if (pacing_.interval_ms > 0) next_periodic_ = now + pacing_.interval_ms;
}

void SnapshotPacer::deferred(TimeMs now) {
  retry_at_ = now + pacing_.retry_ms;
}

TimeMs SnapshotPacer::triggered_gap(size_t bytes) const {
  uint64_t rate = std::max<uint64_t>(1, pacing_.triggered_bytes_per_second);
  auto by_size = static_cast<TimeMs>(static_cast<uint64_t>(bytes) * 1000 / rate);
  TimeMs gap = std::max(pacing_.min_triggered_gap_ms, by_size);
  return std::min(gap, std::max(pacing_.min_triggered_gap_ms, pacing_.max_triggered_gap_ms));
}

}  // namespace roster::broker
