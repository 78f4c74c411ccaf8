// The broker's state the request targets feed a decoded request into: a
// membership core holding a node in every state (alive, suspect, dead, left)
// and a tombstone of a removed one, so that heartbeats, leaves, joins and
// removals of the seed corpus reach every rule. Also the checks of what the
// core answers and publishes.
#pragma once

#include <memory>
#include <optional>

#include "fuzz_support.h"
#include "roster/membership.h"

namespace roster::fuzz {

// When the fixture is ready: requests are handled at this time.
inline constexpr TimeMs kRequestTime = kStart + 20'000;

// The options of the fixture: stall protection off, so that the targets
// may jump in time without every lease moving with them.
inline MembershipOptions fixture_options() {
  MembershipOptions o;
  o.stall_threshold_ms = 0;
  o.max_nodes = 16;
  o.max_record_bytes = 1024;
  return o;
}

inline JoinRequest fixture_join(std::string node, uint64_t inc, uint64_t lease_ms) {
  return JoinRequest{std::move(node), inc, 1, lease_ms, "10.0.0.1:7000", {{"zone", "a"}}};
}

// A core at kRequestTime holding node-1 alive (inc 5), node-2 left (inc 3),
// node-4 dead (inc 2), node-5 suspect (inc 9) and a tombstone of node-3
// (inc 7, removed by the operator), every change committed.
inline std::unique_ptr<Membership> make_fixture() {
  auto m = std::make_unique<Membership>(fixture_options(), 1, kStart);
  m->handle(fixture_join("node-4", 2, 1'000), kStart);
  m->handle(fixture_join("node-2", 3, 60'000), kStart);
  m->handle(fixture_join("node-3", 7, 60'000), kStart);
  m->handle(LeaveRequest{"node-2", 3, 2, "bye"}, kStart);
  m->remove("node-3", std::nullopt, kStart);
  m->handle(fixture_join("node-5", 9, 1'000), kRequestTime - 1'500);
  m->handle(fixture_join("node-1", 5, 60'000), kRequestTime);
  m->tick(kRequestTime);
  m->commit(kRequestTime);
  return m;
}

// What the core publishes is what a subscriber accepts as it is.
inline void check_published(const Membership& m, const std::optional<Delta>& delta, TimeMs now) {
  if (delta) {
    ROSTER_FUZZ_CHECK(delta->version == delta->prev_version + 1);
    ROSTER_FUZZ_CHECK(delta->version == m.version());
    ROSTER_FUZZ_CHECK(!delta->changes.empty());
    check_round_trip(*delta, 0, decode_delta);
  }
  Snapshot snapshot = m.snapshot(now);
  ROSTER_FUZZ_CHECK(snapshot.nodes.size() <= fixture_options().max_nodes);
  for (const NodeRecord& r : snapshot.nodes) {
    ROSTER_FUZZ_CHECK(is_valid_node_id(r.node));
    ROSTER_FUZZ_CHECK(r.state != NodeState::kRemoved);
    ROSTER_FUZZ_CHECK(record_bytes(r.node, r.addr, r.labels) <= fixture_options().max_record_bytes);
  }
  check_round_trip(snapshot, 0, decode_snapshot);
}

// Runs the core's timers far past every lease, committing as the broker
// does, and checks every step.
inline void run_timers(Membership& m, TimeMs now) {
  for (TimeMs step : {2'000, 10'000, 60'000, 700'000}) {
    now += step;
    m.tick(now);
    std::optional<Delta> delta = m.commit(now);
    check_published(m, delta, now);
  }
}

}  // namespace roster::fuzz
