// Lifecycle transitions of the membership core, one test per rule, driven
// by a simulated clock (no sleeps).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <variant>

#include "roster/membership.h"
#include "roster/view.h"
#include "support/core_fixture.h"

namespace roster {
namespace {

constexpr TimeMs kStart = testing::kCoreStart;

using testing::AckOf;
using testing::core_test_options_with;
using testing::ErrorOf;
using testing::HintOf;
using testing::MessageOf;
// The core fixture with the steps that many lifecycle tests start from.
class MembershipTest : public testing::CoreFixture {
 protected:
  using CoreFixture::CoreFixture;

  // Joins `node` at `inc` with a 1 s lease and lets it die (lease plus
  // dead_after), then commits.
  void JoinAndDie(const std::string& node, uint64_t inc) {
    AckOf(Join(node, inc, 1, 1'000));
    Advance(3'000);
    ASSERT_EQ(StateOf(node), NodeState::kDead);
    Commit();
  }

  // Joins `node` at `inc` with a 1 s lease, leaves, then commits.
  void JoinAndLeave(const std::string& node, uint64_t inc) {
    AckOf(Join(node, inc, 1, 1'000));
    AckOf(Leave(node, inc, 2));
    Commit();
  }

  // Commits, expecting a delta of exactly one change: `*change`.
  void CommitOneChange(NodeRecord* change) {
    std::optional<Delta> delta = Commit();
    ASSERT_TRUE(delta);
    ASSERT_EQ(delta->changes.size(), 1u);
    *change = delta->changes[0];
  }

  // Makes "a" dead (1 s lease) and "b" left (10 s lease, leaves at 2 s),
  // 3 s in, without committing.
  void MakeADeadAndBLeft() {
    AckOf(Join("a", 1, 1, 1'000));
    AckOf(Join("b", 1, 1, 10'000));
    Advance(2'000);
    AckOf(Leave("b", 1, 2));
    Advance(1'000);
  }

  // Checks that `node` stays in `from` until `after` ms from now, and is
  // in `to` (nullopt: forgotten) at `after`.
  void ExpectTransitionAfter(const std::string& node, TimeMs after, std::optional<NodeState> from,
                             std::optional<NodeState> to) {
    SCOPED_TRACE(node + " after " + std::to_string(after) + " ms");
    Advance(after - 1);
    EXPECT_EQ(StateOf(node), from);
    Advance(1);
    EXPECT_EQ(StateOf(node), to);
  }
};

// Checks that `reply` refuses a forgotten incarnation with `code` and the
// hint `inc`, saying forgotten and not removed (it was not fenced).
void ExpectForgottenRefusal(const AgentReply& reply, ErrorCode code, uint64_t inc) {
  EXPECT_EQ(ErrorOf(reply), code);
  EXPECT_EQ(HintOf(reply), inc);
  EXPECT_NE(MessageOf(reply).find("forgotten"), std::string::npos) << MessageOf(reply);
  EXPECT_EQ(MessageOf(reply).find("removed"), std::string::npos) << MessageOf(reply);
}

TEST_F(MembershipTest, JoinOfNewNodeMakesItAlive) {
  Ack ack = AckOf(Join("a", 1, 1, 1'000, "tcp://a:1", {{"zone", "z1"}}));
  EXPECT_EQ(ack.state, NodeState::kAlive);
  EXPECT_EQ(ack.epoch, 7u);
  EXPECT_EQ(ack.lease_ms, 1'000u);
  EXPECT_EQ(ack.seq, 1u);
  auto delta = Commit();
  ASSERT_TRUE(delta);
  EXPECT_EQ(delta->epoch, 7u);
  EXPECT_EQ(delta->version, 1u);
  EXPECT_EQ(delta->prev_version, 0u);
  EXPECT_EQ(delta->time_ms, static_cast<uint64_t>(kStart));
  ASSERT_EQ(delta->changes.size(), 1u);
  const NodeRecord& r = delta->changes[0];
  EXPECT_EQ(r.node, "a");
  EXPECT_EQ(r.inc, 1u);
  EXPECT_EQ(r.state, NodeState::kAlive);
  EXPECT_EQ(r.addr, "tcp://a:1");
  EXPECT_EQ(r.labels, (Labels{{"zone", "z1"}}));
  EXPECT_EQ(r.lease_ms, 1'000u);
  EXPECT_EQ(r.since_ms, static_cast<uint64_t>(kStart));
  EXPECT_EQ(core_.node("a")->last_seen_ms, static_cast<uint64_t>(kStart));
  EXPECT_EQ(core_.counters().nodes, 1u);
  EXPECT_EQ(core_.counters().by_state[static_cast<size_t>(NodeState::kAlive)], 1u);
}

TEST_F(MembershipTest, AliveBecomesSuspectWhenLeaseEnds) {
  AckOf(Join("a", 1, 1, 1'000));
  Commit();
  Advance(999);
  EXPECT_EQ(StateOf("a"), NodeState::kAlive);
  EXPECT_FALSE(Commit());
  Advance(1);
  EXPECT_EQ(StateOf("a"), NodeState::kSuspect);
  NodeRecord change;
  ASSERT_NO_FATAL_FAILURE(CommitOneChange(&change));
  EXPECT_EQ(change.state, NodeState::kSuspect);
  EXPECT_EQ(change.since_ms, static_cast<uint64_t>(kStart + 1'000));
}

TEST_F(MembershipTest, SuspectBecomesDeadAfterDeadAfterFromLeaseEnd) {
  AckOf(Join("a", 1, 1, 1'000));
  Advance(1'000 + 1'999);
  EXPECT_EQ(StateOf("a"), NodeState::kSuspect);
  Advance(1);
  EXPECT_EQ(StateOf("a"), NodeState::kDead);
  EXPECT_EQ(core_.node("a")->record.since_ms, static_cast<uint64_t>(kStart + 3'000));
  Commit();
  EXPECT_EQ(core_.counters().by_state[static_cast<size_t>(NodeState::kDead)], 1u);
}

TEST_F(MembershipTest, DeadIsForgottenAfterForgetDeadAfter) {
  ASSERT_NO_FATAL_FAILURE(JoinAndDie("a", 1));
  ExpectTransitionAfter("a", 5'000, NodeState::kDead, std::nullopt);
  NodeRecord change;
  ASSERT_NO_FATAL_FAILURE(CommitOneChange(&change));
  EXPECT_EQ(change.node, "a");
  EXPECT_EQ(change.inc, 1u);
  EXPECT_EQ(change.state, NodeState::kRemoved);
  EXPECT_EQ(core_.counters().nodes, 0u);
  EXPECT_EQ(core_.counters().tombstones, 1u);
}

TEST_F(MembershipTest, HeartbeatRenewsTheLease) {
  AckOf(Join("a", 1, 1, 1'000));
  Advance(800);
  Ack ack = AckOf(Beat("a", 1, 2));
  EXPECT_EQ(ack.state, NodeState::kAlive);
  EXPECT_EQ(ack.lease_ms, 1'000u);
  EXPECT_EQ(ack.seq, 2u);
  Advance(999);
  EXPECT_EQ(StateOf("a"), NodeState::kAlive);
  EXPECT_EQ(core_.node("a")->last_seen_ms, static_cast<uint64_t>(kStart + 800));
  Advance(1);
  EXPECT_EQ(StateOf("a"), NodeState::kSuspect);
}

TEST_F(MembershipTest, LeaseRenewedJustBeforeItsTimerIsNotCutShort) {
  AckOf(Join("a", 1, 1, 1'000));
  clock_.advance(1);
  AckOf(Beat("a", 1, 2));  // the lease now ends at +1001
  clock_.advance(999);
  core_.tick(now());  // the first timer comes up and is re-armed
  EXPECT_EQ(StateOf("a"), NodeState::kAlive);
  EXPECT_EQ(core_.next_deadline(), kStart + 1'001);
  clock_.advance(1);
  core_.tick(now());
  EXPECT_EQ(StateOf("a"), NodeState::kSuspect);
}

TEST_F(MembershipTest, HeartbeatRevivesSuspect) {
  AckOf(Join("a", 1, 1, 1'000));
  Advance(1'500);
  EXPECT_EQ(StateOf("a"), NodeState::kSuspect);
  Commit();
  EXPECT_EQ(AckOf(Beat("a", 1, 2)).state, NodeState::kAlive);
  NodeRecord change;
  ASSERT_NO_FATAL_FAILURE(CommitOneChange(&change));
  EXPECT_EQ(change.state, NodeState::kAlive);
  EXPECT_EQ(change.since_ms, static_cast<uint64_t>(kStart + 1'500));
  // The death timer of the suspect state no longer applies.
  ExpectTransitionAfter("a", 1'000, NodeState::kAlive, NodeState::kSuspect);
}

TEST_F(MembershipTest, JoinOfCurrentIncarnationRevivesSuspect) {
  AckOf(Join("a", 1, 1, 1'000));
  Advance(1'200);
  Commit();
  EXPECT_EQ(AckOf(Join("a", 1, 2, 1'000)).state, NodeState::kAlive);
  auto delta = Commit();
  ASSERT_TRUE(delta);
  EXPECT_EQ(delta->changes.at(0).state, NodeState::kAlive);
}

TEST_F(MembershipTest, LeaveMakesNodeLeft) {
  AckOf(Join("a", 1, 1, 1'000));
  Commit();
  Advance(200);
  Ack ack = AckOf(Leave("a", 1, 2));
  EXPECT_EQ(ack.state, NodeState::kLeft);
  NodeRecord change;
  ASSERT_NO_FATAL_FAILURE(CommitOneChange(&change));
  EXPECT_EQ(change.state, NodeState::kLeft);
  EXPECT_EQ(change.since_ms, static_cast<uint64_t>(kStart + 200));
}

TEST_F(MembershipTest, LeaveOfSuspectMakesNodeLeft) {
  AckOf(Join("a", 1, 1, 1'000));
  Advance(1'100);
  EXPECT_EQ(AckOf(Leave("a", 1, 2)).state, NodeState::kLeft);
  Commit();
}

TEST_F(MembershipTest, LeftIsForgottenAfterForgetLeftAfter) {
  JoinAndLeave("a", 1);
  // The lease no longer matters once left.
  ExpectTransitionAfter("a", 3'000, NodeState::kLeft, std::nullopt);
  auto delta = Commit();
  ASSERT_TRUE(delta);
  EXPECT_EQ(delta->changes.at(0).state, NodeState::kRemoved);
  EXPECT_EQ(core_.counters().tombstones, 1u);
}

TEST_F(MembershipTest, JoinWithHigherIncarnationReplacesTheOld) {
  AckOf(Join("a", 1, 5, 1'000, "old"));
  Commit();
  Advance(100);
  Ack ack = AckOf(Join("a", 2, 1, 2'000, "new"));
  EXPECT_EQ(ack.state, NodeState::kAlive);
  EXPECT_EQ(ack.lease_ms, 2'000u);
  NodeRecord change;
  ASSERT_NO_FATAL_FAILURE(CommitOneChange(&change));
  EXPECT_EQ(change.inc, 2u);
  EXPECT_EQ(change.addr, "new");
  EXPECT_EQ(change.since_ms, static_cast<uint64_t>(kStart + 100));
  EXPECT_EQ(core_.counters().nodes, 1u);
  // The new incarnation starts its own seq.
  EXPECT_EQ(AckOf(Beat("a", 2, 2)).state, NodeState::kAlive);
  EXPECT_EQ(ErrorOf(Beat("a", 1, 6)), ErrorCode::kStaleIncarnation);
}

TEST_F(MembershipTest, JoinWithHigherIncarnationReplacesDeadAndLeft) {
  MakeADeadAndBLeft();
  EXPECT_EQ(StateOf("a"), NodeState::kDead);
  EXPECT_EQ(StateOf("b"), NodeState::kLeft);
  Commit();
  EXPECT_EQ(AckOf(Join("a", 2, 1)).state, NodeState::kAlive);
  EXPECT_EQ(AckOf(Join("b", 2, 1)).state, NodeState::kAlive);
  Commit();
  // The old forget timers no longer apply to the new incarnations.
  Advance(900);
  AckOf(Beat("a", 2, 2));
  AckOf(Beat("b", 2, 2));
  Advance(900);
  AckOf(Beat("a", 2, 3));
  AckOf(Beat("b", 2, 3));
  Advance(900);
  EXPECT_EQ(StateOf("a"), NodeState::kAlive);
  EXPECT_EQ(StateOf("b"), NodeState::kAlive);
  EXPECT_EQ(core_.counters().by_state[static_cast<size_t>(NodeState::kAlive)], 2u);
  EXPECT_EQ(core_.counters().by_state[static_cast<size_t>(NodeState::kDead)], 0u);
  EXPECT_EQ(core_.counters().by_state[static_cast<size_t>(NodeState::kLeft)], 0u);
}

TEST_F(MembershipTest, JoinOfCurrentIncarnationUpdatesMetadata) {
  AckOf(Join("a", 1, 1, 1'000, "tcp://a:1", {{"zone", "z1"}}));
  Advance(500);
  Commit();
  Ack ack = AckOf(Join("a", 1, 2, 4'000, "tcp://a:2", {{"zone", "z2"}, {"rack", "r"}}));
  EXPECT_EQ(ack.lease_ms, 4'000u);
  auto delta = Commit();
  ASSERT_TRUE(delta);
  ASSERT_EQ(delta->changes.size(), 1u);
  const NodeRecord& r = delta->changes[0];
  EXPECT_EQ(r.inc, 1u);
  EXPECT_EQ(r.addr, "tcp://a:2");
  EXPECT_EQ(r.labels, (Labels{{"rack", "r"}, {"zone", "z2"}}));
  EXPECT_EQ(r.lease_ms, 4'000u);
  EXPECT_EQ(r.since_ms, static_cast<uint64_t>(kStart));  // still alive since the join
  // The new lease counts from the re-join.
  ExpectTransitionAfter("a", 4'000, NodeState::kAlive, NodeState::kSuspect);
}

TEST_F(MembershipTest, EachMetadataFieldAloneIsAChange) {
  AckOf(Join("a", 1, 1, 1'000, "x", {{"k", "v"}}));
  Commit();
  AckOf(Join("a", 1, 2, 1'000, "y", {{"k", "v"}}));
  auto addr = Commit();
  ASSERT_TRUE(addr);
  EXPECT_EQ(addr->changes.at(0).addr, "y");
  AckOf(Join("a", 1, 3, 1'000, "y", {{"k", "w"}}));
  auto labels = Commit();
  ASSERT_TRUE(labels);
  EXPECT_EQ(labels->changes.at(0).labels, (Labels{{"k", "w"}}));
  AckOf(Join("a", 1, 4, 2'000, "y", {{"k", "w"}}));
  auto lease = Commit();
  ASSERT_TRUE(lease);
  EXPECT_EQ(lease->changes.at(0).lease_ms, 2'000u);
}

TEST_F(MembershipTest, JoinOfCurrentIncarnationWithSameMetadataOnlyRenews) {
  AckOf(Join("a", 1, 1, 1'000, "x"));
  Commit();
  Advance(900);
  AckOf(Join("a", 1, 2, 1'000, "x"));
  EXPECT_FALSE(core_.has_pending());
  EXPECT_FALSE(Commit());
  Advance(999);
  EXPECT_EQ(StateOf("a"), NodeState::kAlive);
}

TEST_F(MembershipTest, ShorterLeaseOnRejoinTakesEffectAtOnce) {
  AckOf(Join("a", 1, 1, 10'000));
  Advance(100);
  AckOf(Join("a", 1, 2, 500));
  ExpectTransitionAfter("a", 500, NodeState::kAlive, NodeState::kSuspect);
}

TEST_F(MembershipTest, ManyEarlierDeadlinesKeepTimersRight) {
  // Each re-join with a shorter lease moves the deadline earlier; the timer
  // heap is compacted along the way and must still fire exactly once, on
  // time, for every node, including one whose deadline had moved later.
  AckOf(Join("a", 1, 1, 10'000));
  AckOf(Join("b", 1, 1, 9'000));
  AckOf(Join("c", 1, 1, 1'000));
  clock_.advance(1);
  AckOf(Beat("c", 1, 2));  // c's lease now ends at +1001
  for (uint64_t i = 1; i <= 3'000; ++i) {
    AckOf(Join("a", 1, 1 + i, 10'000 - i));
    if (i % 2 == 0) AckOf(Join("b", 1, 1 + i, 9'000 - i));
  }
  ExpectTransitionAfter("c", 1'000, NodeState::kAlive, NodeState::kSuspect);
  Advance(4'999);  // b's last lease: 9000 - 3000, from +1
  EXPECT_EQ(StateOf("b"), NodeState::kAlive);
  Advance(1);
  EXPECT_EQ(StateOf("b"), NodeState::kSuspect);
  Advance(999);  // a's last lease: 10000 - 3000, from +1
  EXPECT_EQ(StateOf("a"), NodeState::kAlive);
  Advance(1);
  EXPECT_EQ(StateOf("a"), NodeState::kSuspect);
  auto delta = Commit();
  ASSERT_TRUE(delta);
  EXPECT_EQ(delta->changes.size(), 3u);
}

TEST_F(MembershipTest, LeaseIsClampedToMinAndMax) {
  EXPECT_EQ(AckOf(Join("short", 1, 1, 1)).lease_ms, 100u);
  EXPECT_EQ(AckOf(Join("zero", 1, 1, 0)).lease_ms, 100u);
  EXPECT_EQ(AckOf(Join("long", 1, 1, 1'000'000)).lease_ms, 10'000u);
  EXPECT_EQ(AckOf(Join("exact", 1, 1, 10'000)).lease_ms, 10'000u);
  auto delta = Commit();
  ASSERT_TRUE(delta);
  for (const NodeRecord& r : delta->changes) {
    EXPECT_EQ(r.lease_ms, r.node == "short" || r.node == "zero" ? 100u : 10'000u) << r.node;
  }
  Advance(100);
  EXPECT_EQ(StateOf("short"), NodeState::kSuspect);
  EXPECT_EQ(StateOf("long"), NodeState::kAlive);
  ExpectTransitionAfter("long", 9'900, NodeState::kAlive, NodeState::kSuspect);
}

TEST_F(MembershipTest, RepeatedSeqIsAckedButRenewsNothing) {
  AckOf(Join("a", 1, 1, 1'000));
  Advance(500);
  AckOf(Beat("a", 1, 5));
  Advance(500);
  Ack repeated = AckOf(Beat("a", 1, 5));
  EXPECT_EQ(repeated.seq, 5u);
  EXPECT_EQ(repeated.state, NodeState::kAlive);
  Ack lower = AckOf(Beat("a", 1, 3));
  EXPECT_EQ(lower.seq, 3u);
  EXPECT_EQ(core_.node("a")->last_seen_ms, static_cast<uint64_t>(kStart + 500));
  ExpectTransitionAfter("a", 500, NodeState::kAlive, NodeState::kSuspect);
  Commit();
  // Not even a suspect node is revived by an old seq.
  EXPECT_EQ(AckOf(Beat("a", 1, 5)).state, NodeState::kSuspect);
  EXPECT_FALSE(Commit());
}

TEST_F(MembershipTest, RepeatedJoinSeqDoesNotUpdateMetadata) {
  AckOf(Join("a", 1, 3, 1'000, "first"));
  Commit();
  AckOf(Join("a", 1, 3, 1'000, "replayed"));
  AckOf(Join("a", 1, 2, 1'000, "older"));
  EXPECT_FALSE(Commit());
  EXPECT_EQ(core_.node("a")->record.addr, "first");
}

TEST_F(MembershipTest, RepeatedLeaveSeqIsNotApplied) {
  AckOf(Join("a", 1, 3, 1'000));
  EXPECT_EQ(AckOf(Leave("a", 1, 3)).state, NodeState::kAlive);
  EXPECT_EQ(StateOf("a"), NodeState::kAlive);
}

TEST_F(MembershipTest, OperatorRemovesLiveNodeAtOnce) {
  AckOf(Join("a", 4, 1, 1'000));
  Commit();
  RemoveResult result = core_.remove("a", std::nullopt, now());
  const auto* removed = std::get_if<RemovedReply>(&result);
  ASSERT_NE(removed, nullptr);
  EXPECT_EQ(removed->node, "a");
  EXPECT_EQ(removed->inc, 4u);
  EXPECT_EQ(removed->version, 2u);
  EXPECT_EQ(StateOf("a"), std::nullopt);
  auto delta = Commit();
  ASSERT_TRUE(delta);
  EXPECT_EQ(delta->version, 2u);
  ASSERT_EQ(delta->changes.size(), 1u);
  EXPECT_EQ(delta->changes[0].state, NodeState::kRemoved);
  EXPECT_EQ(delta->changes[0].inc, 4u);
  // Its next message tells it so, whatever it is.
  EXPECT_EQ(ErrorOf(Beat("a", 4, 2)), ErrorCode::kRemoved);
  EXPECT_EQ(ErrorOf(Join("a", 4, 3)), ErrorCode::kRemoved);
  EXPECT_EQ(ErrorOf(Leave("a", 4, 4)), ErrorCode::kRemoved);
  // Its old timers are gone: nothing happens when they would have fired.
  Advance(20'000);
  EXPECT_FALSE(Commit());
}

TEST_F(MembershipTest, OperatorRemovesGivenIncarnationOnly) {
  AckOf(Join("a", 4, 1, 1'000));
  Commit();
  RemoveResult wrong = core_.remove("a", 3, now());
  ASSERT_TRUE(std::holds_alternative<ErrorReply>(wrong));
  EXPECT_EQ(std::get<ErrorReply>(wrong).code, ErrorCode::kUnknownNode);
  EXPECT_EQ(StateOf("a"), NodeState::kAlive);
  EXPECT_FALSE(Commit());
  RemoveResult right = core_.remove("a", 4, now());
  ASSERT_TRUE(std::holds_alternative<RemovedReply>(right));
  Commit();
}

TEST_F(MembershipTest, OperatorRemovalOfUnknownNodeIsRefused) {
  RemoveResult result = core_.remove("nobody", std::nullopt, now());
  ASSERT_TRUE(std::holds_alternative<ErrorReply>(result));
  EXPECT_EQ(std::get<ErrorReply>(result).code, ErrorCode::kUnknownNode);
  EXPECT_FALSE(Commit());
}

TEST_F(MembershipTest, OperatorRemovesDeadAndLeftNodes) {
  MakeADeadAndBLeft();
  Commit();
  EXPECT_TRUE(std::holds_alternative<RemovedReply>(core_.remove("a", std::nullopt, now())));
  EXPECT_TRUE(std::holds_alternative<RemovedReply>(core_.remove("b", 1, now())));
  auto delta = Commit();
  ASSERT_TRUE(delta);
  EXPECT_EQ(delta->changes.size(), 2u);
  EXPECT_EQ(core_.counters().nodes, 0u);
  EXPECT_EQ(core_.counters().tombstones, 2u);
}

class ShortTimersTest : public MembershipTest {
 protected:
  ShortTimersTest()
      : MembershipTest(core_test_options_with(&MembershipOptions::dead_after_ms, 100)) {}
};

TEST_F(ShortTimersTest, OneTickRunsSeveralStepsAndTheDeltaHasTheFinalRecord) {
  AckOf(Join("a", 1, 1, 100));
  Commit();
  clock_.advance(900);  // a late tick, still under the stall threshold
  core_.tick(now());
  EXPECT_EQ(StateOf("a"), NodeState::kDead);
  NodeRecord change;
  ASSERT_NO_FATAL_FAILURE(CommitOneChange(&change));
  EXPECT_EQ(change.state, NodeState::kDead);
  // Dead since the scheduled time, not since the late tick.
  EXPECT_EQ(change.since_ms, static_cast<uint64_t>(kStart + 200));
}

// --- refusals ---------------------------------------------------------------

TEST_F(MembershipTest, JoinWithLowerIncarnationIsStale) {
  AckOf(Join("a", 5, 1));
  auto reply = Join("a", 4, 2);
  EXPECT_EQ(ErrorOf(reply), ErrorCode::kStaleIncarnation);
  EXPECT_EQ(HintOf(reply), 5u);  // the incarnation held
  EXPECT_EQ(core_.node("a")->record.inc, 5u);
}

TEST_F(MembershipTest, HeartbeatWithLowerIncarnationIsStale) {
  AckOf(Join("a", 5, 1));
  auto reply = Beat("a", 4, 9);
  EXPECT_EQ(ErrorOf(reply), ErrorCode::kStaleIncarnation);
  EXPECT_EQ(HintOf(reply), 5u);
  EXPECT_EQ(std::get<ErrorReply>(reply).seq, 9u);
  EXPECT_FALSE(std::get<ErrorReply>(reply).message.empty());
}

TEST_F(MembershipTest, LeaveWithLowerIncarnationIsStale) {
  AckOf(Join("a", 5, 1));
  EXPECT_EQ(ErrorOf(Leave("a", 4, 2)), ErrorCode::kStaleIncarnation);
  EXPECT_EQ(StateOf("a"), NodeState::kAlive);
}

TEST_F(MembershipTest, HeartbeatOfUnknownNodeIsRefused) {
  EXPECT_EQ(ErrorOf(Beat("ghost", 1, 1)), ErrorCode::kUnknownNode);
  EXPECT_FALSE(Commit());
}

TEST_F(MembershipTest, HeartbeatOfHigherIncarnationThanHeldIsUnknown) {
  AckOf(Join("a", 1, 1));
  EXPECT_EQ(ErrorOf(Beat("a", 2, 1)), ErrorCode::kUnknownNode);
  EXPECT_EQ(core_.node("a")->record.inc, 1u);
}

TEST_F(MembershipTest, LeaveOfUnknownNodeIsRefused) {
  EXPECT_EQ(ErrorOf(Leave("ghost", 1, 1)), ErrorCode::kUnknownNode);
  AckOf(Join("a", 1, 1));
  Commit();
  EXPECT_EQ(ErrorOf(Leave("a", 2, 2)), ErrorCode::kUnknownNode);
  EXPECT_EQ(StateOf("a"), NodeState::kAlive);
  EXPECT_FALSE(Commit());
}

TEST_F(MembershipTest, MessagesOfDeadIncarnationAreExpired) {
  ASSERT_NO_FATAL_FAILURE(JoinAndDie("a", 1));
  EXPECT_EQ(ErrorOf(Beat("a", 1, 2)), ErrorCode::kExpired);
  EXPECT_EQ(ErrorOf(Join("a", 1, 3)), ErrorCode::kExpired);
  EXPECT_EQ(ErrorOf(Leave("a", 1, 4)), ErrorCode::kExpired);
  EXPECT_EQ(HintOf(Beat("a", 1, 5)), 1u);  // the incarnation that is over
  EXPECT_EQ(StateOf("a"), NodeState::kDead);
  EXPECT_FALSE(Commit());
}

TEST_F(MembershipTest, OlderIncarnationThanADeadOneIsExpiredNotStale) {
  ASSERT_NO_FATAL_FAILURE(JoinAndDie("a", 5));
  // The holder is over: an agent whose clock is behind may take a higher
  // incarnation now instead of waiting.
  for (const auto& reply : {Join("a", 4, 1), Beat("a", 4, 2), Leave("a", 4, 3)}) {
    EXPECT_EQ(ErrorOf(reply), ErrorCode::kExpired);
    EXPECT_EQ(HintOf(reply), 5u);
  }
  EXPECT_EQ(AckOf(Join("a", 6, 1)).state, NodeState::kAlive);
  Commit();
}

TEST_F(MembershipTest, OlderIncarnationThanALeftOneIsLeft) {
  JoinAndLeave("a", 5);
  for (const auto& reply : {Join("a", 4, 1), Beat("a", 4, 2), Leave("a", 4, 3)}) {
    EXPECT_EQ(ErrorOf(reply), ErrorCode::kLeft);
    EXPECT_EQ(HintOf(reply), 5u);
  }
  EXPECT_EQ(StateOf("a"), NodeState::kLeft);
  EXPECT_FALSE(Commit());
}

TEST_F(MembershipTest, MessagesOfLeftIncarnationAreLeft) {
  JoinAndLeave("a", 1);
  EXPECT_EQ(ErrorOf(Beat("a", 1, 3)), ErrorCode::kLeft);
  EXPECT_EQ(ErrorOf(Join("a", 1, 4)), ErrorCode::kLeft);
  EXPECT_EQ(HintOf(Join("a", 1, 5)), 1u);
  EXPECT_EQ(StateOf("a"), NodeState::kLeft);
  EXPECT_FALSE(Commit());
}

TEST_F(MembershipTest, LeaveOfLeftIncarnationIsAckedAgain) {
  JoinAndLeave("a", 1);
  Advance(1'000);
  EXPECT_EQ(AckOf(Leave("a", 1, 2)).state, NodeState::kLeft);
  EXPECT_EQ(AckOf(Leave("a", 1, 3)).state, NodeState::kLeft);
  EXPECT_FALSE(Commit());
  // A repeated leave does not postpone forgetting.
  Advance(2'000);
  EXPECT_EQ(StateOf("a"), std::nullopt);
}

TEST_F(MembershipTest, JoinWithInvalidNodeIdIsBadRequest) {
  EXPECT_EQ(ErrorOf(Join("", 1, 1)), ErrorCode::kBadRequest);
  EXPECT_EQ(ErrorOf(Join("bad id", 1, 1)), ErrorCode::kBadRequest);
  EXPECT_EQ(ErrorOf(Join(std::string(kMaxNodeIdBytes + 1, 'x'), 1, 1)), ErrorCode::kBadRequest);
  EXPECT_FALSE(Commit());
}

// --- tombstones ---------------------------------------------------------------

TEST_F(MembershipTest, ForgottenLeftIncarnationIsLeftNotRemoved) {
  AckOf(Join("a", 3, 1, 1'000));
  AckOf(Leave("a", 3, 2));
  Advance(3'000);
  ASSERT_EQ(StateOf("a"), std::nullopt);
  Commit();
  // Delayed messages of the forgotten incarnation, or older ones: over, but
  // not fenced.
  for (const auto& reply : {Join("a", 3, 9), Join("a", 2, 9), Beat("a", 3, 9), Leave("a", 3, 9)}) {
    ExpectForgottenRefusal(reply, ErrorCode::kLeft, 3);
  }
  EXPECT_FALSE(Commit());
  // A new incarnation may join, and the tombstone still guards the old one.
  EXPECT_EQ(AckOf(Join("a", 4, 1)).state, NodeState::kAlive);
  Commit();
  // While a live incarnation holds the id, an older one is stale.
  EXPECT_EQ(ErrorOf(Beat("a", 3, 10)), ErrorCode::kStaleIncarnation);
  EXPECT_EQ(HintOf(Beat("a", 3, 11)), 4u);
  EXPECT_EQ(StateOf("a"), NodeState::kAlive);
}

TEST_F(MembershipTest, ForgottenDeadIncarnationIsExpiredNotRemoved) {
  // The pause: the agent is silent past lease + dead_after +
  // forget_dead_after, then its heartbeats resume.
  AckOf(Join("a", 3, 1, 1'000));
  Advance(1'000 + 2'000 + 5'000);
  ASSERT_EQ(StateOf("a"), std::nullopt);
  Commit();
  for (const auto& reply : {Beat("a", 3, 2), Join("a", 3, 3), Leave("a", 3, 4), Join("a", 1, 5)}) {
    ExpectForgottenRefusal(reply, ErrorCode::kExpired, 3);
  }
  // Above the hint: a new incarnation, at once.
  EXPECT_EQ(AckOf(Join("a", 4, 1)).state, NodeState::kAlive);
  auto delta = Commit();
  ASSERT_TRUE(delta);
  EXPECT_EQ(delta->changes.at(0).inc, 4u);
}

TEST_F(MembershipTest, OperatorRemovalIsRemovedWithTheHint) {
  AckOf(Join("a", 3, 1, 1'000));
  ASSERT_TRUE(std::holds_alternative<RemovedReply>(core_.remove("a", std::nullopt, now())));
  Commit();
  for (const auto& reply : {Beat("a", 3, 2), Join("a", 3, 3), Join("a", 2, 4), Leave("a", 3, 5)}) {
    EXPECT_EQ(ErrorOf(reply), ErrorCode::kRemoved);
    EXPECT_EQ(HintOf(reply), 3u);
    EXPECT_NE(MessageOf(reply).find("removed by the operator"), std::string::npos);
  }
}

TEST_F(MembershipTest, RemovalStillFencesAfterALaterForget) {
  AckOf(Join("a", 3, 1, 1'000));
  ASSERT_TRUE(std::holds_alternative<RemovedReply>(core_.remove("a", std::nullopt, now())));
  // A restarted process joins with a higher incarnation, then dies and is
  // forgotten naturally.
  AckOf(Join("a", 5, 1, 1'000));
  Advance(1'000 + 2'000 + 5'000);
  ASSERT_EQ(StateOf("a"), std::nullopt);
  Commit();
  EXPECT_EQ(core_.counters().tombstones, 1u);
  // The removed incarnation, and older ones, are still fenced.
  for (const auto& reply : {Beat("a", 3, 2), Join("a", 2, 3)}) {
    EXPECT_EQ(ErrorOf(reply), ErrorCode::kRemoved);
    EXPECT_EQ(HintOf(reply), 5u);  // the highest incarnation that is over
  }
  // Those after the removal are only over.
  for (const auto& reply : {Beat("a", 5, 2), Join("a", 4, 3)}) {
    EXPECT_EQ(ErrorOf(reply), ErrorCode::kExpired);
    EXPECT_EQ(HintOf(reply), 5u);
  }
  EXPECT_EQ(ErrorOf(Beat("a", 6, 2)), ErrorCode::kUnknownNode);
}

TEST_F(MembershipTest, RemovalFencesOlderIncarnationsThanADeadHolder) {
  AckOf(Join("a", 3, 1, 1'000));
  ASSERT_TRUE(std::holds_alternative<RemovedReply>(core_.remove("a", std::nullopt, now())));
  AckOf(Join("a", 5, 1, 1'000));
  Advance(3'000);
  ASSERT_EQ(StateOf("a"), NodeState::kDead);
  auto fenced = Join("a", 3, 2);
  EXPECT_EQ(ErrorOf(fenced), ErrorCode::kRemoved);
  EXPECT_EQ(HintOf(fenced), 5u);
  auto over = Join("a", 4, 2);
  EXPECT_EQ(ErrorOf(over), ErrorCode::kExpired);
  EXPECT_EQ(HintOf(over), 5u);
}

TEST_F(MembershipTest, TombstoneKeepsTheKindOfTheHighestForgottenIncarnation) {
  AckOf(Join("a", 1, 1, 1'000));
  AckOf(Leave("a", 1, 2));
  Advance(3'000);  // forgotten as left
  AckOf(Join("a", 2, 1, 1'000));
  Advance(8'000);  // forgotten as dead
  ASSERT_EQ(StateOf("a"), std::nullopt);
  EXPECT_EQ(core_.counters().tombstones, 1u);
  for (const auto& reply : {Beat("a", 1, 3), Beat("a", 2, 3)}) {
    EXPECT_EQ(ErrorOf(reply), ErrorCode::kExpired);
    EXPECT_EQ(HintOf(reply), 2u);
  }
  Commit();
}

TEST_F(MembershipTest, TombstoneExpiresAfterTtl) {
  AckOf(Join("a", 3, 1, 1'000));
  RemoveResult removed = core_.remove("a", std::nullopt, now());
  ASSERT_TRUE(std::holds_alternative<RemovedReply>(removed));
  Commit();
  ASSERT_TRUE(core_.next_deadline().has_value());
  Advance(59'900);
  EXPECT_EQ(core_.counters().tombstones, 1u);
  EXPECT_EQ(ErrorOf(Beat("a", 3, 2)), ErrorCode::kRemoved);
  EXPECT_EQ(ErrorOf(Join("a", 3, 2)), ErrorCode::kRemoved);
  Advance(100);
  EXPECT_EQ(core_.counters().tombstones, 0u);
  EXPECT_EQ(core_.counters().tombstones_evicted, 0u);
  EXPECT_EQ(ErrorOf(Beat("a", 3, 2)), ErrorCode::kUnknownNode);
  EXPECT_EQ(core_.next_deadline(), std::nullopt);
}

TEST_F(MembershipTest, ForgettingANewerIncarnationRefreshesTheTombstone) {
  AckOf(Join("a", 1, 1));
  core_.remove("a", std::nullopt, now());
  Advance(30'000);
  AckOf(Join("a", 2, 1));
  core_.remove("a", std::nullopt, now());
  EXPECT_EQ(core_.counters().tombstones, 1u);
  Advance(59'900);
  EXPECT_EQ(ErrorOf(Join("a", 1, 5)), ErrorCode::kRemoved);
  EXPECT_EQ(ErrorOf(Join("a", 2, 5)), ErrorCode::kRemoved);
  Commit();
}

class SmallTombstoneCapTest : public MembershipTest {
 protected:
  SmallTombstoneCapTest()
      : MembershipTest(core_test_options_with(&MembershipOptions::max_tombstones, 2)) {}
};

TEST_F(SmallTombstoneCapTest, OldestTombstoneIsEvictedAtTheCap) {
  for (const char* id : {"a", "b", "c"}) {
    AckOf(Join(id, 1, 1));
    ASSERT_TRUE(std::holds_alternative<RemovedReply>(core_.remove(id, std::nullopt, now())));
    Advance(100);
  }
  Commit();
  MembershipCounters c = core_.counters();
  EXPECT_EQ(c.tombstones, 2u);
  EXPECT_EQ(c.tombstones_evicted, 1u);
  // "a" was evicted: its old incarnation is no longer recognised.
  EXPECT_EQ(ErrorOf(Beat("a", 1, 2)), ErrorCode::kUnknownNode);
  EXPECT_EQ(ErrorOf(Beat("b", 1, 2)), ErrorCode::kRemoved);
  EXPECT_EQ(ErrorOf(Beat("c", 1, 2)), ErrorCode::kRemoved);
}

// --- versioned batches ------------------------------------------------------

TEST_F(MembershipTest, CommitWithoutChangeDoesNotBumpVersion) {
  EXPECT_FALSE(Commit());
  EXPECT_EQ(core_.version(), 0u);
  AckOf(Join("a", 1, 1));
  EXPECT_TRUE(core_.has_pending());
  EXPECT_TRUE(Commit());
  EXPECT_FALSE(core_.has_pending());
  EXPECT_FALSE(Commit());
  AckOf(Beat("a", 1, 2));
  EXPECT_FALSE(Commit());
  EXPECT_EQ(core_.version(), 1u);
}

TEST_F(MembershipTest, NodeChangedSeveralTimesAppearsOnceWithFinalRecord) {
  AckOf(Join("a", 1, 1, 1'000, "one"));
  AckOf(Join("a", 1, 2, 1'000, "two"));
  AckOf(Leave("a", 1, 3));
  NodeRecord change;
  ASSERT_NO_FATAL_FAILURE(CommitOneChange(&change));
  EXPECT_EQ(change.state, NodeState::kLeft);
  EXPECT_EQ(change.addr, "two");
}

TEST_F(MembershipTest, RemovedThenRejoinedInOneBatchShowsTheNewIncarnation) {
  AckOf(Join("a", 1, 1));
  Commit();
  core_.remove("a", std::nullopt, now());
  AckOf(Join("a", 2, 1, 1'000, "back"));
  NodeRecord change;
  ASSERT_NO_FATAL_FAILURE(CommitOneChange(&change));
  EXPECT_EQ(change.state, NodeState::kAlive);
  EXPECT_EQ(change.inc, 2u);
  EXPECT_EQ(change.addr, "back");
}

TEST_F(MembershipTest, ExpirySweepIsOneDelta) {
  for (int i = 0; i < 50; ++i) AckOf(Join("n" + std::to_string(i), 1, 1, 1'000));
  Commit();
  Advance(1'000);
  auto delta = Commit();
  ASSERT_TRUE(delta);
  EXPECT_EQ(delta->changes.size(), 50u);
  for (const NodeRecord& r : delta->changes) EXPECT_EQ(r.state, NodeState::kSuspect);
  EXPECT_EQ(core_.counters().by_state[static_cast<size_t>(NodeState::kSuspect)], 50u);
}

// --- stall protection ---------------------------------------------------------

TEST_F(MembershipTest, StalledObserverExtendsEveryLease) {
  for (int i = 0; i < 10; ++i) AckOf(Join("n" + std::to_string(i), 1, 1, 1'000));
  Commit();
  Advance(500);
  // The broker is paused for 10 s; the healthy nodes' heartbeats queue up.
  clock_.advance(10'000);
  core_.tick(now());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(StateOf("n" + std::to_string(i)), NodeState::kAlive);
  EXPECT_FALSE(Commit());
  MembershipCounters c = core_.counters();
  EXPECT_EQ(c.stalls, 1u);
  EXPECT_EQ(c.stalled_ms, 10'000u);
  // Leases were extended by the stall: the remaining 500 ms still hold.
  ExpectTransitionAfter("n0", 500, NodeState::kAlive, NodeState::kSuspect);
  // since_ms reports the real time the extended lease ended.
  EXPECT_EQ(core_.node("n0")->record.since_ms, static_cast<uint64_t>(kStart + 11'000));
}

TEST_F(MembershipTest, StallIsDetectedByAnyCall) {
  AckOf(Join("a", 1, 1, 1'000));
  clock_.advance(5'000);
  // The first call after the pause is a heartbeat (queued while paused).
  EXPECT_EQ(AckOf(Beat("a", 1, 2)).state, NodeState::kAlive);
  EXPECT_EQ(core_.counters().stalls, 1u);
}

TEST_F(MembershipTest, GapUnderThresholdIsNotAStall) {
  AckOf(Join("a", 1, 1, 1'000));
  clock_.advance(1'000);
  core_.tick(now());
  EXPECT_EQ(core_.counters().stalls, 0u);
  EXPECT_EQ(StateOf("a"), NodeState::kSuspect);
}

TEST_F(MembershipTest, IdleGapWithNothingHeldIsNotAStall) {
  clock_.advance(60'000);
  core_.tick(now());
  EXPECT_EQ(core_.counters().stalls, 0u);
}

TEST_F(MembershipTest, StallAlsoDelaysDeathAndForgetting) {
  AckOf(Join("a", 1, 1, 1'000));
  Advance(1'000);
  ASSERT_EQ(StateOf("a"), NodeState::kSuspect);
  clock_.advance(7'000);
  core_.tick(now());
  EXPECT_EQ(StateOf("a"), NodeState::kSuspect);
  Advance(2'000);
  EXPECT_EQ(StateOf("a"), NodeState::kDead);
  Commit();
}

TEST_F(MembershipTest, TimeGoingBackwardsCountsAsNoTimePassing) {
  AckOf(Join("a", 1, 1, 1'000));
  Advance(500);
  AckOf(core_.handle(HeartbeatRequest{"a", 1, 2}, kStart));  // a stale `now`
  EXPECT_EQ(core_.node("a")->last_seen_ms, static_cast<uint64_t>(kStart + 500));
  ExpectTransitionAfter("a", 1'000, NodeState::kAlive, NodeState::kSuspect);
  EXPECT_EQ(core_.counters().stalls, 0u);
}

// --- warm-up and deadlines ----------------------------------------------------

TEST_F(MembershipTest, SnapshotIsIncompleteDuringWarmUp) {
  EXPECT_FALSE(core_.snapshot(now()).complete);
  EXPECT_FALSE(core_.snapshot(kStart + 9'999).complete);
  EXPECT_TRUE(core_.snapshot(kStart + 10'000).complete);
  EXPECT_FALSE(core_.complete(kStart + 9'999));
  EXPECT_TRUE(core_.complete(kStart + 10'000));
  Snapshot s = core_.snapshot(kStart + 10'000);
  EXPECT_EQ(s.epoch, 7u);
  EXPECT_EQ(s.time_ms, static_cast<uint64_t>(kStart + 10'000));
}

TEST_F(MembershipTest, SnapshotListsNodesInIdOrder) {
  for (const char* id : {"c", "a", "b"}) AckOf(Join(id, 1, 1));
  Commit();
  Snapshot s = core_.snapshot(now());
  ASSERT_EQ(s.nodes.size(), 3u);
  EXPECT_EQ(s.nodes[0].node, "a");
  EXPECT_EQ(s.nodes[1].node, "b");
  EXPECT_EQ(s.nodes[2].node, "c");
  EXPECT_EQ(s.version, 1u);
}

TEST_F(MembershipTest, NextDeadlineFollowsTimersAndStaysUnderStallThreshold) {
  EXPECT_EQ(core_.next_deadline(), std::nullopt);
  AckOf(Join("a", 1, 1, 300));
  EXPECT_EQ(core_.next_deadline(), kStart + 300);
  AckOf(Join("b", 1, 1, 200));
  EXPECT_EQ(core_.next_deadline(), kStart + 200);
  AckOf(Join("c", 1, 1, 5'000));
  AckOf(Leave("a", 1, 2));
  AckOf(Leave("b", 1, 2));
  // The leases' timers were armed first; a deadline that moved later is
  // re-armed when its timer comes up (early, never late).
  EXPECT_EQ(core_.next_deadline(), kStart + 200);
  clock_.set(kStart + 200);
  core_.tick(now());
  EXPECT_EQ(core_.next_deadline(), kStart + 300);
  clock_.set(kStart + 300);
  core_.tick(now());
  // Only long timers remain (forget left at +3000, lease of c at +5000):
  // woken at half the stall threshold so as not to be taken for a stall.
  EXPECT_EQ(core_.next_deadline(), kStart + 800);
  EXPECT_EQ(StateOf("a"), NodeState::kLeft);
}

TEST_F(MembershipTest, SleepingUntilNextDeadlineNeverStalls) {
  AckOf(Join("a", 1, 1, 10'000));
  AckOf(Join("b", 1, 1, 10'000));
  for (int i = 0; i < 200; ++i) {
    std::optional<TimeMs> deadline = core_.next_deadline();
    if (!deadline) break;
    clock_.set(std::max(*deadline, now()));
    core_.tick(now());
    if (i % 10 == 0) AckOf(Beat("b", 1, 2 + i));
  }
  EXPECT_EQ(core_.counters().stalls, 0u);
  EXPECT_EQ(StateOf("b"), NodeState::kAlive);
  EXPECT_NE(StateOf("a"), NodeState::kAlive);
}

class NoStallProtectionTest : public MembershipTest {
 protected:
  NoStallProtectionTest()
      : MembershipTest(core_test_options_with(&MembershipOptions::stall_threshold_ms, 0)) {}
};

TEST_F(NoStallProtectionTest, ZeroThresholdDisablesStallProtection) {
  AckOf(Join("a", 1, 1, 1'000));
  EXPECT_EQ(core_.next_deadline(), kStart + 1'000);
  clock_.advance(5'000);
  core_.tick(now());
  EXPECT_EQ(core_.counters().stalls, 0u);
  EXPECT_EQ(StateOf("a"), NodeState::kDead);
}

}  // namespace
}  // namespace roster
