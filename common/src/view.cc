#include "roster/view.h"

namespace roster {

void View::reset(const Snapshot& snapshot) {
  has_base_ = true;
  epoch_ = snapshot.epoch;
  version_ = snapshot.version;
  complete_ = snapshot.complete;
  nodes_.clear();
  for (const auto& record : snapshot.nodes) nodes_[record.node] = record;
}

View::ApplyResult View::apply(const Delta& delta) {
  if (!has_base_) return ApplyResult::kNoBase;
  if (delta.epoch != epoch_) return ApplyResult::kEpoch;
  if (delta.version <= version_) return ApplyResult::kOld;
  if (delta.prev_version != version_) return ApplyResult::kGap;
  for (const auto& record : delta.changes) {
    if (record.state == NodeState::kRemoved) {
      nodes_.erase(record.node);
    } else {
      nodes_[record.node] = record;
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
