#include "membership_change_batch.h"

#include <utility>

namespace roster::internal {

void ChangeBatch::mark(std::string_view id, uint64_t inc) {
  auto it = pending_.find(id);
  if (it == pending_.end()) {
    pending_.emplace(std::string(id), inc);
  } else {
    it->second = inc;
  }
}

std::optional<Delta> ChangeBatch::commit(uint64_t epoch, TimeMs now, const NodeTable& nodes) {
  if (pending_.empty()) return std::nullopt;
  Delta delta;
  delta.epoch = epoch;
  delta.prev_version = version_;
  delta.version = ++version_;
  delta.time_ms = static_cast<uint64_t>(now);
  delta.changes.reserve(pending_.size());
  for (const auto& [id, removed_inc] : pending_) {
    if (const Node* n = nodes.find(id)) {
      delta.changes.push_back(record_of(*n));
    } else {
      NodeRecord removed;
      removed.node = id;
      removed.inc = removed_inc;
      removed.state = NodeState::kRemoved;
      delta.changes.push_back(std::move(removed));
    }
  }
  pending_.clear();
  return delta;
}

}  // namespace roster::internal
