#include "membership_tombstones.h"

#include <algorithm>

namespace roster::internal {

namespace {

// Records `inc` ended as `how` in `t`, keeping the highest of each kind.
void record(Tombstone& t, uint64_t inc, Forgotten how) {
  if (how == Forgotten::kRemoved) {
    if (!t.removed || inc > *t.removed) t.removed = inc;
    return;
  }
  if (!t.forgotten || inc > *t.forgotten) {
    t.forgotten = inc;
    t.forgotten_kind = how;
  }
}

}  // namespace

uint64_t Tombstone::highest() const {
  return std::max(removed.value_or(0), forgotten.value_or(0));
}

const Tombstone* Tombstones::find(std::string_view node) const {
  auto it = by_node_.find(node);
  if (it == by_node_.end()) return nullptr;
  return &it->second->tombstone;
}

size_t Tombstones::add(std::string_view node, uint64_t inc, Forgotten how, int64_t now) {
  if (max_count_ == 0) return 0;
  auto it = by_node_.find(node);
  if (it != by_node_.end()) {
    // Another incarnation of a tombstoned node was forgotten: update and
    // refresh it.
    Entry& entry = *it->second;
    record(entry.tombstone, inc, how);
    entry.expires = now + ttl_;
    order_.splice(order_.end(), order_, it->second);
    return 0;
  }
  order_.push_back(Entry{std::string(node), Tombstone{}, now + ttl_});
  record(order_.back().tombstone, inc, how);
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
