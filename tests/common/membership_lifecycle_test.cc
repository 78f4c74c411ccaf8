// Lifecycle transitions of the membership core, one test per rule, driven
// by a simulated clock (no sleeps).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <variant>

#include "roster/clock.h"
#include "roster/membership.h"
#include "roster/view.h"

namespace roster {
namespace {

constexpr TimeMs kStart = 1'700'000'000'000;

MembershipOptions TestOptions() {
  MembershipOptions o;
  o.min_lease_ms = 100;
  o.max_lease_ms = 10'000;
  o.dead_after_ms = 2'000;
  o.forget_dead_after_ms = 5'000;
  o.forget_left_after_ms = 3'000;
  o.tombstone_ttl_ms = 60'000;
  o.max_tombstones = 100;
  o.stall_threshold_ms = 1'000;
  return o;
}

// A core plus a clock and a View fed with every delta, so each test can also
// check that replaying the deltas reproduces the snapshot.
class MembershipTest : public ::testing::Test {
 protected:
  explicit MembershipTest(MembershipOptions options = TestOptions())
      : clock_(kStart), core_(options, 7, kStart) {
    Snapshot empty;
    empty.epoch = 7;
    view_.reset(empty);
  }

  TimeMs now() const { return clock_.now_ms(); }

  // Advances time in steps well under the stall threshold, ticking at each.
  void Advance(TimeMs ms) {
    while (ms > 0) {
      TimeMs step = std::min<TimeMs>(ms, 100);
      clock_.advance(step);
      ms -= step;
      core_.tick(now());
    }
  }

  AgentReply Join(const std::string& node, uint64_t inc, uint64_t seq, uint64_t lease = 1'000,
                  std::string addr = "", Labels labels = {}) {
    return core_.handle(JoinRequest{node, inc, seq, lease, std::move(addr), std::move(labels)},
                        now());
  }
  AgentReply Beat(const std::string& node, uint64_t inc, uint64_t seq) {
    return core_.handle(HeartbeatRequest{node, inc, seq}, now());
  }
  AgentReply Leave(const std::string& node, uint64_t inc, uint64_t seq) {
    return core_.handle(LeaveRequest{node, inc, seq, "bye"}, now());
  }

  // Commits and applies the delta to the view; returns it.
  std::optional<Delta> Commit() {
    std::optional<Delta> delta = core_.commit(now());
    if (delta) {
      EXPECT_EQ(view_.apply(*delta), View::ApplyResult::kApplied);
    }
    EXPECT_EQ(view_.to_snapshot(0).nodes, core_.snapshot(now()).nodes);
    return delta;
  }

  std::optional<NodeState> StateOf(const std::string& node) const {
    auto info = core_.node(node);
    if (!info) return std::nullopt;
    return info->record.state;
  }

  SimulatedClock clock_;
  Membership core_;
  View view_;
};

const Ack& AckOf(const AgentReply& reply) {
  static const Ack kNone{};
  const Ack* ack = std::get_if<Ack>(&reply);
  EXPECT_NE(ack, nullptr) << "expected an ack, got error "
                          << (ack ? "" : std::get<ErrorReply>(reply).message);
  return ack ? *ack : kNone;
}

std::optional<ErrorCode> ErrorOf(const AgentReply& reply) {
  if (const auto* error = std::get_if<ErrorReply>(&reply)) return error->code;
  return std::nullopt;
}

TEST_F(MembershipTest, JoinOfNewNodeMakesItAlive) {
  const Ack& ack = AckOf(Join("a", 1, 1, 1'000, "tcp://a:1", {{"zone", "z1"}}));
  EXPECT_EQ(ack.state, NodeState::kAlive);
  EXPECT_EQ(ack.epoch, 7u);
  EXPECT_EQ(ack.lease_ms, 1'000u);
  EXPECT_EQ(ack.seq, 1u);
  auto delta = Commit();
  ASSERT_TRUE(delta);
  EXPECT_EQ(delta->version, 1u);
  EXPECT_EQ(delta->prev_version, 0u);
  ASSERT_EQ(delta->changes.size(), 1u);
  const NodeRecord& r = delta->changes[0];
  EXPECT_EQ(r.node, "a");
  EXPECT_EQ(r.inc, 1u);
  EXPECT_EQ(r.state, NodeState::kAlive);
  EXPECT_EQ(r.addr, "tcp://a:1");
  EXPECT_EQ(r.labels, (Labels{{"zone", "z1"}}));
  EXPECT_EQ(r.lease_ms, 1'000u);
  EXPECT_EQ(r.since_ms, static_cast<uint64_t>(kStart));
}

TEST_F(MembershipTest, LeaseEndMakesNodeSuspectThenDeadThenForgotten) {
  AckOf(Join("a", 1, 1, 1'000));
  Commit();
  Advance(999);
  EXPECT_EQ(StateOf("a"), NodeState::kAlive);
  Advance(1);
  EXPECT_EQ(StateOf("a"), NodeState::kSuspect);
  EXPECT_EQ(core_.node("a")->record.since_ms, static_cast<uint64_t>(kStart + 1'000));
  Commit();
  Advance(1'999);
  EXPECT_EQ(StateOf("a"), NodeState::kSuspect);
  Advance(1);
  EXPECT_EQ(StateOf("a"), NodeState::kDead);
  Commit();
  Advance(4'999);
  EXPECT_EQ(StateOf("a"), NodeState::kDead);
  Advance(1);
  EXPECT_EQ(StateOf("a"), std::nullopt);
  auto delta = Commit();
  ASSERT_TRUE(delta);
  ASSERT_EQ(delta->changes.size(), 1u);
  EXPECT_EQ(delta->changes[0].state, NodeState::kRemoved);
  EXPECT_EQ(delta->changes[0].inc, 1u);
  EXPECT_EQ(core_.counters().tombstones, 1u);
  EXPECT_EQ(core_.counters().nodes, 0u);
}

TEST_F(MembershipTest, HeartbeatOfUnknownNodeIsRefused) {
  EXPECT_EQ(ErrorOf(Beat("ghost", 1, 1)), ErrorCode::kUnknownNode);
  EXPECT_FALSE(Commit());
}

}  // namespace
}  // namespace roster
