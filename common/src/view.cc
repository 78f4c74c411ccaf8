#include "roster/view.h"

#include <utility>

namespace roster {

void View::reset(const Snapshot& snapshot) {
  has_base_ = true;
  epoch_ = snapshot.epoch;
  version_ = snapshot.version;
  complete_ = snapshot.complete;
  nodes_.clear();
  for (const auto& record : snapshot.nodes) nodes_[record.node] = record;
}

View::ApplyResult View::apply(const Delta& delta, std::vector<Change>* changes) {
  // No snapshot to build on yet.
  if (!has_base_) return ApplyResult::kNoBase;
  // Another lineage: the broker restarted.
  if (delta.epoch != epoch_) return ApplyResult::kEpoch;
  // Already contained in the view.
  if (delta.version <= version_) return ApplyResult::kOld;
  // Does not follow on: deltas were missed.
  if (delta.prev_version != version_) return ApplyResult::kGap;
  if (changes != nullptr) changes->reserve(changes->size() + delta.changes.size());
  for (const auto& record : delta.changes) {
    auto it = nodes_.find(record.node);
    if (changes != nullptr) {
      Change& change = changes->emplace_back();
      // The view's record is overwritten or erased just below: take it.
      if (it != nodes_.end()) change.old = std::move(it->second);
      change.record = record;
    }
    if (record.state == NodeState::kRemoved) {
      if (it != nodes_.end()) nodes_.erase(it);
    } else if (it != nodes_.end()) {
      it->second = record;
    } else {
      nodes_.emplace(record.node, record);
    }
  }
  version_ = delta.version;
  return ApplyResult::kApplied;
}

Snapshot View::to_snapshot(uint64_t time_ms) const {
  Snapshot snapshot;
  snapshot.epoch = epoch_;
  snapshot.version = version_;
  snapshot.complete = complete_;
  snapshot.time_ms = time_ms;
  snapshot.nodes.reserve(nodes_.size());
  for (const auto& [id, record] : nodes_) snapshot.nodes.push_back(record);
  return snapshot;
}

}  // namespace roster
