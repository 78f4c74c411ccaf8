#include "membership_tombstones.h"

namespace roster::internal {

std::optional<uint64_t> Tombstones::find(std::string_view node) const {
  auto it = by_node_.find(node);
  if (it == by_node_.end()) return std::nullopt;
  return it->second->inc;
}

size_t Tombstones::add(std::string_view node, uint64_t inc, int64_t now) {
  if (max_count_ == 0) return 0;
  auto it = by_node_.find(node);
  if (it != by_node_.end()) {
    // A newer incarnation of a tombstoned node was forgotten: refresh it.
    Entry& entry = *it->second;
    if (inc > entry.inc) entry.inc = inc;
    entry.expires = now + ttl_;
    order_.splice(order_.end(), order_, it->second);
    return 0;
  }
  order_.push_back(Entry{std::string(node), inc, now + ttl_});
  by_node_.emplace(order_.back().node, std::prev(order_.end()));
  size_t evicted = 0;
  while (order_.size() > max_count_) {
    pop_oldest();
    ++evicted;
  }
  return evicted;
}

size_t Tombstones::expire(int64_t now) {
  size_t expired = 0;
  while (!order_.empty() && order_.front().expires <= now) {
    pop_oldest();
    ++expired;
  }
  return expired;
}

std::optional<int64_t> Tombstones::next_expiry() const {
  if (order_.empty()) return std::nullopt;
  return order_.front().expires;
}

void Tombstones::pop_oldest() {
  by_node_.erase(order_.front().node);
  order_.pop_front();
}

}  // namespace roster::internal
