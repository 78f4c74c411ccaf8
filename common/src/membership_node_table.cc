#include "membership_node_table.h"

namespace roster::internal {

NodeRecord record_of(const Node& n) {
  return NodeRecord{
      n.id, n.inc, n.state, n.addr, labels_of(n), n.lease_ms, static_cast<uint64_t>(n.since_ms)};
}

Labels labels_of(const Node& n) {
  return n.labels.unpack();
}

void set_labels(Node& n, const Labels& labels) {
  n.labels.assign(labels);
}

Node& NodeTable::allocate(std::string_view id, int64_t since) {
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back().slot = slot;
  }
  Node& n = slots_[slot];
  n.id.assign(id.data(), id.size());
  n.inc = 0;
  n.seq = 0;
  n.lease_ms = 0;
  n.since_ms = since;
  n.last_seen_ms = 0;
  n.due = kNoTimer;
  n.armed = kNoTimer;
  n.state = NodeState::kAlive;
  n.held = true;
  ++by_state_[static_cast<size_t>(NodeState::kAlive)];
  by_id_.insert(hash_id(n.id), slot);
  return n;
}

void NodeTable::free(Node& n) {
  by_id_.erase(n.id, hash_id(n.id), IdOf{slots_});
  --by_state_[static_cast<size_t>(n.state)];
  ++n.generation;
  n.held = false;
  n.due = kNoTimer;
  n.armed = kNoTimer;
  std::string().swap(n.id);
  std::string().swap(n.addr);
  n.labels.clear();
  free_slots_.push_back(n.slot);
}

}  // namespace roster::internal
