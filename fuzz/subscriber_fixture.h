// The subscriber's side of the state-channel targets: a ViewSync (the
// subscriber's logic without sockets) synced to a base snapshot, and the
// invariants its view and events must keep whatever the broker sends.
#pragma once

#include <variant>

#include "fuzz_support.h"
#include "view_sync.h"

namespace roster::fuzz {

// Epoch and version of the base snapshot; the seeds continue it.
inline constexpr uint64_t kBaseEpoch = 1;
inline constexpr uint64_t kBaseVersion = 10;

inline SubscriberOptions subscriber_options() {
  SubscriberOptions o;
  o.max_buffered_deltas = 8;  // small, so that dropping the oldest is reached
  return o;
}

inline NodeRecord base_record(std::string node, NodeState state) {
  NodeRecord r;
  r.node = std::move(node);
  r.inc = 5;
  r.state = state;
  r.addr = "10.0.0.1:7000";
  r.labels = {{"zone", "a"}};
  r.lease_ms = 3'000;
  r.since_ms = 1'700'000'000'000;
  return r;
}

// node-1 alive, node-2 suspect, node-4 dead; incomplete, so that a later
// epoch's snapshot holds nodes over.
inline Snapshot base_snapshot() {
  return Snapshot{
      kBaseEpoch,
      kBaseVersion,
      false,
      1'700'000'000'000,
      {base_record("node-1", NodeState::kAlive), base_record("node-2", NodeState::kSuspect),
       base_record("node-4", NodeState::kDead)}};
}

// The view holds only present nodes, under their own ids, in valid UTF-8;
// every event reports a valid record of one node.
inline void check_sync(const subscriber::ViewSync& sync, const subscriber::SyncOutput& out) {
  const View& view = sync.view();
  if (sync.synced()) ROSTER_FUZZ_CHECK(view.has_base());
  for (const auto& [id, record] : view.nodes()) {
    ROSTER_FUZZ_CHECK(id == record.node);
    ROSTER_FUZZ_CHECK(record.state != NodeState::kRemoved);
    ROSTER_FUZZ_CHECK(utf8(record));
  }
  for (const subscriber::SyncEvent& event : out.events) {
    const auto* change = std::get_if<NodeChange>(&event);
    if (change == nullptr) continue;
    ROSTER_FUZZ_CHECK(is_valid_node_id(change->record.node));
    ROSTER_FUZZ_CHECK(utf8(change->record));
    if (change->old) ROSTER_FUZZ_CHECK(change->old->node == change->record.node);
  }
}

// A ViewSync started at kStart and synced to base_snapshot().
inline subscriber::ViewSync synced_view() {
  subscriber::ViewSync sync(subscriber_options());
  subscriber::SyncOutput out;
  sync.start(kStart, out);
  sync.on_admin_snapshot(base_snapshot(), kStart, out);
  return sync;
}

}  // namespace roster::fuzz
