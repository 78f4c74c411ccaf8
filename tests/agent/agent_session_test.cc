// The agent's protocol logic (AgentSession) and backoff, driven by hand
// with simulated time: no sockets, no threads, no sleeping.
#include <gtest/gtest.h>

#include <set>

#include "agent_session.h"
#include "backoff.h"

namespace roster {
namespace {

constexpr TimeMs kStart = 1'700'000'000'000;

AgentConfig config() {
  AgentConfig c;
  c.brokers = {"tcp://a:7400", "tcp://b:7400"};
  c.node_id = "n1";
  c.lease_ms = 3000;
  c.leave_timeout_ms = 1000;
  c.backoff_min_ms = 100;
  c.backoff_max_ms = 1000;
  return c;
}

template <typename T>
std::vector<T> only(const std::vector<SessionAction>& actions) {
  std::vector<T> out;
  for (const auto& a : actions) {
    if (const auto* t = std::get_if<T>(&a)) out.push_back(*t);
  }
  return out;
}

std::vector<AgentRequest> sent(const std::vector<SessionAction>& actions) {
  std::vector<AgentRequest> out;
  for (const auto& s : only<SendRequest>(actions)) out.push_back(s.request);
  return out;
}

uint64_t seq_of(const AgentRequest& r) {
  return std::visit([](const auto& m) { return m.seq; }, r);
}

Ack ack(uint64_t seq, uint64_t lease_ms = 3000) {
  return Ack{seq, 7, lease_ms, NodeState::kAlive};
}

// A session that has joined at kStart; returns the join's seq.
uint64_t joined(AgentSession& session) {
  session.start(kStart);
  auto requests = sent(session.take_actions());
  EXPECT_EQ(requests.size(), 1u);
  const uint64_t seq = seq_of(requests.at(0));
  session.on_reply(ack(seq), kStart + 1);
  EXPECT_EQ(session.phase(), AgentPhase::kJoined);
  session.take_actions();
  return seq;
}

TEST(AgentSession, StartOpensTheFirstEndpointAndJoins) {
  AgentSession session(config(), 5, 1);
  session.start(kStart);
  auto actions = session.take_actions();
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(std::get<OpenSocket>(actions[0]).endpoint, 0u);
  const auto& join = std::get<JoinRequest>(std::get<SendRequest>(actions[1]).request);
  EXPECT_EQ(join.inc, 5u);
  EXPECT_EQ(join.lease_ms, 3000u);
  EXPECT_EQ(session.next_deadline(), kStart + 1000);
}

TEST(AgentSession, UnansweredJoinIsRepeatedEveryInterval) {
  AgentSession session(config(), 5, 1);
  session.start(kStart);
  session.take_actions();
  session.tick(kStart + 999);
  EXPECT_TRUE(session.take_actions().empty());
  session.tick(kStart + 1000);
  auto requests = sent(session.take_actions());
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<JoinRequest>(requests[0]));
  // An ack of the first join still counts: it was outstanding.
  session.on_reply(ack(1), kStart + 1001);
  EXPECT_EQ(session.phase(), AgentPhase::kJoined);
}

TEST(AgentSession, HeartbeatsEveryIntervalAfterTheAck) {
  AgentSession session(config(), 5, 1);
  const uint64_t join_seq = joined(session);
  session.tick(kStart + 1001);
  auto requests = sent(session.take_actions());
  ASSERT_EQ(requests.size(), 1u);
  const auto& beat = std::get<HeartbeatRequest>(requests[0]);
  EXPECT_EQ(beat.inc, 5u);
  EXPECT_EQ(beat.seq, join_seq + 1);
}

TEST(AgentSession, NoReplyWithinTheLeaseLosesTheBrokerAndBacksOff) {
  AgentSession session(config(), 5, 1);
  joined(session);
  session.tick(kStart + 1001);  // heartbeat, never answered
  session.tick(kStart + 2001);  // another
  session.take_actions();
  session.tick(kStart + 4000);
  EXPECT_EQ(session.phase(), AgentPhase::kJoined);
  session.tick(kStart + 4001);  // the first heartbeat is a lease old
  auto actions = session.take_actions();
  EXPECT_EQ(only<CloseSocket>(actions).size(), 1u);
  auto changes = only<AgentStateChange>(actions);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].event, AgentEvent::kBrokerLost);
  EXPECT_EQ(changes[0].broker, "tcp://a:7400");
  EXPECT_EQ(session.phase(), AgentPhase::kBackoff);
  const TimeMs reconnect_at = *session.next_deadline();
  EXPECT_GE(reconnect_at, kStart + 4001 + 100);
  EXPECT_LE(reconnect_at, kStart + 4001 + 200);

  session.tick(reconnect_at);
  actions = session.take_actions();
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(std::get<OpenSocket>(actions[0]).endpoint, 1u);
  EXPECT_TRUE(std::holds_alternative<JoinRequest>(std::get<SendRequest>(actions[1]).request));
  // A reply to a request of the closed socket is stale.
  session.on_reply(ack(2), reconnect_at + 1);
  EXPECT_EQ(session.phase(), AgentPhase::kJoining);
  EXPECT_EQ(session.stale_replies(), 1u);
}

TEST(AgentSession, RejoinAfterALossIsReportedAsRejoined) {
  AgentSession session(config(), 5, 1);
  joined(session);
  session.tick(kStart + 1001);
  session.tick(kStart + 4001);
  session.take_actions();
  const TimeMs reconnect_at = *session.next_deadline();
  session.tick(reconnect_at);
  auto requests = sent(session.take_actions());
  session.on_reply(ack(seq_of(requests.at(0))), reconnect_at + 1);
  auto changes = only<AgentStateChange>(session.take_actions());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].event, AgentEvent::kRejoined);
  EXPECT_EQ(changes[0].broker, "tcp://b:7400");
}

TEST(AgentSession, ReplyToAnOlderOutstandingRequestAnswersItAndNoNewerOne) {
  AgentSession session(config(), 5, 1);
  const uint64_t join_seq = joined(session);
  session.tick(kStart + 1001);  // heartbeat join_seq+1
  session.tick(kStart + 2001);  // heartbeat join_seq+2
  session.take_actions();
  session.on_reply(ack(join_seq + 1), kStart + 2002);
  // join_seq+2 is still out since kStart+2001: lost only a lease after it.
  session.tick(kStart + 4500);
  session.take_actions();
  EXPECT_EQ(session.phase(), AgentPhase::kJoined);
  session.tick(kStart + 5001);
  EXPECT_EQ(session.phase(), AgentPhase::kBackoff);
}

TEST(AgentSession, RepliesToRequestsAbandonedByARejoinAreStale) {
  AgentSession session(config(), 5, 1);
  const uint64_t join_seq = joined(session);
  session.tick(kStart + 1001);  // heartbeat join_seq+1
  session.tick(kStart + 2001);  // heartbeat join_seq+2
  session.take_actions();
  session.on_reply(ErrorReply{join_seq + 1, ErrorCode::kExpired, ""}, kStart + 2002);
  const uint64_t inc = session.incarnation();
  EXPECT_GT(inc, 5u);
  EXPECT_GE(inc, static_cast<uint64_t>(kStart + 2002) * 1'000'000);
  // The broker also refuses the second heartbeat of the old incarnation:
  // no second new incarnation.
  session.on_reply(ErrorReply{join_seq + 2, ErrorCode::kExpired, ""}, kStart + 2003);
  EXPECT_EQ(session.incarnation(), inc);
  EXPECT_EQ(session.stale_replies(), 1u);
}

TEST(AgentSession, GrantedLeaseShorterThanRequestedShortensTheInterval) {
  AgentConfig c = config();
  c.lease_ms = 90'000;
  c.interval_ms = 20'000;
  AgentSession session(c, 5, 1);
  session.start(kStart);
  session.take_actions();
  session.on_reply(ack(1, 30'000), kStart + 1);
  session.take_actions();
  // 20 s no longer fits twice into 30 s: lease/3.
  EXPECT_EQ(session.next_deadline(), kStart + 1 + 10'000);
}

TEST(AgentSession, LeaveWhileBackingOffSaysGoodbyeToTheNextEndpoint) {
  AgentSession session(config(), 5, 1);
  joined(session);
  session.tick(kStart + 1001);
  session.tick(kStart + 4001);
  session.take_actions();
  ASSERT_EQ(session.phase(), AgentPhase::kBackoff);
  session.leave(kStart + 4002);
  auto actions = session.take_actions();
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(std::get<OpenSocket>(actions[0]).endpoint, 1u);
  const auto& leave = std::get<LeaveRequest>(std::get<SendRequest>(actions[1]).request);
  EXPECT_EQ(leave.inc, 5u);
  EXPECT_EQ(session.next_deadline(), kStart + 4002 + 1000);
  session.tick(kStart + 5002);
  EXPECT_EQ(session.phase(), AgentPhase::kStopped);
  auto changes = only<AgentStateChange>(session.take_actions());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].event, AgentEvent::kStopped);
}

TEST(AgentSession, OnlyTheLeavesReplyEndsTheLeave) {
  AgentSession session(config(), 5, 1);
  const uint64_t join_seq = joined(session);
  session.tick(kStart + 1001);   // heartbeat join_seq+1
  session.leave(kStart + 1002);  // leave join_seq+2
  session.take_actions();
  session.on_reply(ErrorReply{join_seq + 1, ErrorCode::kUnknownNode, ""}, kStart + 1003);
  EXPECT_EQ(session.phase(), AgentPhase::kLeaving);
  EXPECT_TRUE(sent(session.take_actions()).empty());  // no rejoin while leaving
  session.on_reply(ack(join_seq + 2), kStart + 1004);
  EXPECT_EQ(session.phase(), AgentPhase::kStopped);
  auto changes = only<AgentStateChange>(session.take_actions());
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].event, AgentEvent::kLeft);
}

TEST(Backoff, DelaysStayWithinTheBoundsAndTheCapDoubles) {
  Backoff backoff(100, 1000, 42);
  const uint64_t caps[] = {200, 400, 800, 1000, 1000, 1000};
  for (uint64_t cap : caps) {
    const uint64_t delay = backoff.next_delay_ms();
    EXPECT_GE(delay, 100u);
    EXPECT_LE(delay, cap);
  }
  backoff.reset();
  EXPECT_LE(backoff.next_delay_ms(), 200u);
}

TEST(Backoff, JitterSpreadsTheDelays) {
  Backoff backoff(100, 100'000, 7);
  for (int i = 0; i < 12; ++i) backoff.next_delay_ms();
  std::set<uint64_t> delays;
  for (int i = 0; i < 20; ++i) delays.insert(backoff.next_delay_ms());
  EXPECT_GT(delays.size(), 10u);
}

}  // namespace
}  // namespace roster
