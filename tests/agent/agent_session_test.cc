// The agent's protocol logic (AgentSession) and backoff, driven by hand
// with simulated time: no sockets, no threads, no sleeping.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
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

// The one state change among `actions`; a test failure (and an empty
// change) unless there is exactly one and it reports `event`.
AgentStateChange one_change(const std::vector<SessionAction>& actions, AgentEvent event) {
  const auto changes = only<AgentStateChange>(actions);
  if (changes.size() != 1) {
    ADD_FAILURE() << changes.size() << " state changes; expected one " << to_string(event);
    return {};
  }
  EXPECT_EQ(changes[0].event, event);
  return changes[0];
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
  const AgentStateChange change = one_change(actions, AgentEvent::kBrokerLost);
  EXPECT_EQ(change.broker, "tcp://a:7400");
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
  const AgentStateChange change = one_change(session.take_actions(), AgentEvent::kRejoined);
  EXPECT_EQ(change.broker, "tcp://b:7400");
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

// A broker that grants an absurd lease (a fuzzer found INT64_MAX overflowing
// the reply deadline) is followed only up to a day.
TEST(AgentSession, AbsurdGrantedLeaseIsClampedToADay) {
  for (uint64_t granted : {uint64_t{INT64_MAX}, UINT64_MAX, uint64_t{1} << 62}) {
    AgentSession session(config(), 5, 1);
    session.start(kStart);
    session.take_actions();
    session.on_reply(ack(1, granted), kStart + 1);
    session.take_actions();
    ASSERT_TRUE(session.next_deadline().has_value());
    EXPECT_EQ(*session.next_deadline(), kStart + 1 + 24 * 3600 * 1000 / 3) << granted;
    session.tick(kStart + 2);
    session.take_actions();
  }
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
  one_change(session.take_actions(), AgentEvent::kStopped);
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
  one_change(session.take_actions(), AgentEvent::kLeft);
}

// --- refusals ----------------------------------------------------------------

// A session joined at kStart whose next heartbeat (sent at kStart + 1001) is
// answered `reply` at kStart + 1002; returns the actions that follow.
std::vector<SessionAction> heartbeat_refused(AgentSession& session, ErrorCode code,
                                             std::optional<uint64_t> hint = std::nullopt) {
  joined(session);
  session.tick(kStart + 1001);
  auto requests = sent(session.take_actions());
  EXPECT_EQ(requests.size(), 1u);
  session.on_reply(ErrorReply{seq_of(requests.at(0)), code, "refused", hint}, kStart + 1002);
  return session.take_actions();
}

bool reports(const std::vector<SessionAction>& actions, AgentEvent event) {
  for (const auto& change : only<AgentStateChange>(actions)) {
    if (change.event == event) return true;
  }
  return false;
}

// One hour, in the nanoseconds of a wall-clock incarnation.
constexpr uint64_t kHourNs = 3'600'000'000'000ull;

TEST(AgentSession, ForgottenIncarnationTakesOneAboveTheHintAtOnce) {
  for (ErrorCode code : {ErrorCode::kExpired, ErrorCode::kLeft}) {
    AgentSession session(config(), 5, 1);
    // The broker's hint is ahead of this clock (an earlier process's clock
    // was ahead): go above it, not merely to now.
    const uint64_t hint = static_cast<uint64_t>(kStart) * 1'000'000 + kHourNs;
    auto actions = heartbeat_refused(session, code, hint);
    auto requests = sent(actions);
    ASSERT_EQ(requests.size(), 1u) << to_string(code);
    const auto& join = std::get<JoinRequest>(requests[0]);
    EXPECT_EQ(join.inc, hint + 1);
    EXPECT_EQ(session.incarnation(), hint + 1);
    EXPECT_EQ(session.phase(), AgentPhase::kJoining);
    EXPECT_FALSE(session.finished());
    EXPECT_FALSE(reports(actions, AgentEvent::kRemoved));
    session.on_reply(ack(join.seq), kStart + 1003);
    const AgentStateChange change = one_change(session.take_actions(), AgentEvent::kRejoined);
    EXPECT_NE(change.detail.find("new incarnation"), std::string::npos) << change.detail;
  }
}

TEST(AgentSession, NewIncarnationIsAboveItsOwnWhenTheHintIsLower) {
  AgentSession session(config(), 5, 1);
  heartbeat_refused(session, ErrorCode::kExpired, 3);
  EXPECT_EQ(session.incarnation(), static_cast<uint64_t>(kStart + 1002) * 1'000'000);
}

TEST(AgentSession, HintAtTheMaximumKeepsTheIncarnationAndWaits) {
  AgentSession session(config(), 5, 1);
  auto actions = heartbeat_refused(session, ErrorCode::kExpired, UINT64_MAX);
  EXPECT_TRUE(sent(actions).empty());
  EXPECT_TRUE(reports(actions, AgentEvent::kRefused));
  EXPECT_EQ(session.incarnation(), 5u);
  EXPECT_FALSE(session.finished());
  const TimeMs retry_at = *session.next_deadline();
  EXPECT_GE(retry_at, kStart + 1002 + 100);
  session.tick(retry_at);
  auto requests = sent(session.take_actions());
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(std::get<JoinRequest>(requests[0]).inc, 5u);
}

TEST(AgentSession, StaleIncarnationDoesNotTakeTheIdBackAndRetriesWithBackoff) {
  AgentSession session(config(), 5, 1);
  const uint64_t holder = 5 + kHourNs;
  auto actions = heartbeat_refused(session, ErrorCode::kStaleIncarnation, holder);
  // Nothing at once; the holder's incarnation is logged.
  EXPECT_TRUE(sent(actions).empty());
  const AgentStateChange change = one_change(actions, AgentEvent::kRefused);
  EXPECT_NE(change.detail.find(std::to_string(holder)), std::string::npos) << change.detail;
  EXPECT_EQ(session.phase(), AgentPhase::kJoining);
  // Each retry is a join of the same incarnation, after a growing wait.
  TimeMs now = kStart + 1002;
  const uint64_t caps[] = {200, 400, 800, 1000, 1000, 1000};
  for (uint64_t cap : caps) {
    const TimeMs retry_at = *session.next_deadline();
    EXPECT_GE(retry_at, now + 100);
    EXPECT_LE(retry_at, now + static_cast<TimeMs>(cap));
    session.tick(retry_at - 1);
    EXPECT_TRUE(sent(session.take_actions()).empty());
    session.tick(retry_at);
    auto requests = sent(session.take_actions());
    ASSERT_EQ(requests.size(), 1u);
    const auto& join = std::get<JoinRequest>(requests[0]);
    EXPECT_EQ(join.inc, 5u);
    now = retry_at + 1;
    session.on_reply(ErrorReply{join.seq, ErrorCode::kStaleIncarnation, "older", holder}, now);
    EXPECT_EQ(only<AgentStateChange>(session.take_actions()).size(), 1u);  // once per wait
  }
  EXPECT_EQ(session.incarnation(), 5u);
}

TEST(AgentSession, ClockBehindItsPreviousIncarnationConvergesOnceTheHolderIsOver) {
  // The previous process's clock was an hour ahead; it crashed, and the
  // broker still holds its incarnation.
  AgentSession session(config(), 5, 1);
  const uint64_t holder = static_cast<uint64_t>(kStart) * 1'000'000 + kHourNs;
  session.start(kStart);
  auto requests = sent(session.take_actions());
  session.on_reply(ErrorReply{seq_of(requests.at(0)), ErrorCode::kStaleIncarnation, "", holder},
                   kStart + 1);
  session.take_actions();
  const TimeMs retry_at = *session.next_deadline();
  session.tick(retry_at);
  requests = sent(session.take_actions());
  ASSERT_EQ(requests.size(), 1u);
  // The holder's lease ran out: dead, then its incarnation is over.
  session.on_reply(ErrorReply{seq_of(requests[0]), ErrorCode::kExpired, "", holder}, retry_at + 1);
  requests = sent(session.take_actions());
  ASSERT_EQ(requests.size(), 1u);  // at once
  const auto& join = std::get<JoinRequest>(requests[0]);
  EXPECT_EQ(join.inc, holder + 1);
  session.on_reply(ack(join.seq), retry_at + 2);
  EXPECT_EQ(session.phase(), AgentPhase::kJoined);
  one_change(session.take_actions(), AgentEvent::kJoined);
}

TEST(AgentSession, UnknownNodeRejoinsAtOnceThenBacksOffUntilAnAck) {
  AgentSession session(config(), 5, 1);
  auto requests = sent(heartbeat_refused(session, ErrorCode::kUnknownNode));
  ASSERT_EQ(requests.size(), 1u);  // the first rejoin is at once
  auto join = std::get<JoinRequest>(requests[0]);
  EXPECT_EQ(join.inc, 5u);
  // Refused again before an ack: the next join waits.
  session.on_reply(ErrorReply{join.seq, ErrorCode::kUnknownNode, ""}, kStart + 1003);
  auto actions = session.take_actions();
  EXPECT_TRUE(sent(actions).empty());
  EXPECT_TRUE(reports(actions, AgentEvent::kRefused));
  const TimeMs retry_at = *session.next_deadline();
  EXPECT_GE(retry_at, kStart + 1003 + 100);
  session.tick(retry_at);
  requests = sent(session.take_actions());
  ASSERT_EQ(requests.size(), 1u);
  join = std::get<JoinRequest>(requests[0]);
  EXPECT_EQ(join.inc, 5u);
  // An ack restores one immediate rejoin.
  session.on_reply(ack(join.seq), retry_at + 1);
  session.take_actions();
  session.tick(retry_at + 1001);
  requests = sent(session.take_actions());
  ASSERT_EQ(requests.size(), 1u);
  session.on_reply(ErrorReply{seq_of(requests[0]), ErrorCode::kUnknownNode, ""}, retry_at + 1002);
  EXPECT_EQ(sent(session.take_actions()).size(), 1u);
}

TEST(AgentSession, NewIncarnationRefusedAgainBeforeAnAckBacksOff) {
  AgentSession session(config(), 5, 1);
  auto requests = sent(heartbeat_refused(session, ErrorCode::kExpired, 7));
  ASSERT_EQ(requests.size(), 1u);
  const auto& join = std::get<JoinRequest>(requests[0]);
  session.on_reply(ErrorReply{join.seq, ErrorCode::kExpired, "", join.inc}, kStart + 1003);
  auto actions = session.take_actions();
  EXPECT_TRUE(sent(actions).empty());
  EXPECT_TRUE(reports(actions, AgentEvent::kRefused));
  EXPECT_GT(session.incarnation(), join.inc);  // above the hint, joined after the wait
  EXPECT_GE(*session.next_deadline(), kStart + 1003 + 100);
}

TEST(AgentSession, OverCapacityAndUnknownCodesRetryOnTheSameConnectionWithBackoff) {
  for (ErrorCode code : {ErrorCode::kOverCapacity, ErrorCode::kUnrecognized}) {
    AgentSession session(config(), 5, 1);
    session.start(kStart);
    auto requests = sent(session.take_actions());
    session.on_reply(ErrorReply{seq_of(requests.at(0)), code, "full"}, kStart + 1);
    auto actions = session.take_actions();
    EXPECT_TRUE(only<CloseSocket>(actions).empty()) << to_string(code);
    EXPECT_TRUE(sent(actions).empty());
    EXPECT_TRUE(reports(actions, AgentEvent::kRefused));
    EXPECT_FALSE(reports(actions, AgentEvent::kBrokerLost));
    const TimeMs retry_at = *session.next_deadline();
    EXPECT_GE(retry_at, kStart + 1 + 100);
    EXPECT_LE(retry_at, kStart + 1 + 200);
    session.tick(retry_at);
    requests = sent(session.take_actions());
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(std::get<JoinRequest>(requests[0]).inc, 5u);
    EXPECT_EQ(session.endpoint(), 0u);
  }
}

TEST(AgentSession, AnAckedJoinResetsTheRefusalBackoff) {
  AgentSession session(config(), 5, 1);
  session.start(kStart);
  TimeMs now = kStart;
  uint64_t seq = seq_of(sent(session.take_actions()).at(0));
  for (int i = 0; i < 5; ++i) {  // the wait grows to the cap
    session.on_reply(ErrorReply{seq, ErrorCode::kOverCapacity, ""}, now);
    session.take_actions();
    now = *session.next_deadline();
    session.tick(now);
    seq = seq_of(sent(session.take_actions()).at(0));
  }
  session.on_reply(ack(seq), now);
  session.take_actions();
  session.tick(now + 1000);
  seq = seq_of(sent(session.take_actions()).at(0));
  session.on_reply(ErrorReply{seq, ErrorCode::kOverCapacity, ""}, now + 1001);
  EXPECT_LE(*session.next_deadline(), now + 1001 + 200);
}

// Whatever a broker refuses, and however fast it answers, the agent sends
// at most a few requests per second: no refusal makes a tight loop.
TEST(AgentSession, NoRefusalEverMakesATightLoop) {
  for (ErrorCode code : {ErrorCode::kUnknownNode, ErrorCode::kStaleIncarnation, ErrorCode::kExpired,
                         ErrorCode::kLeft, ErrorCode::kOverCapacity, ErrorCode::kUnrecognized}) {
    AgentConfig c = config();
    c.dead_after_ms = 60'000;  // no giving up as a duplicate within the 10 s
    AgentSession session(c, 5, 1);
    session.start(kStart);
    TimeMs now = kStart;
    size_t requests = 0;
    // A broker that answers every request at once, with the same refusal
    // (and a hint always above the agent's incarnation).
    while (now < kStart + 10'000 && !session.finished() && requests < 1'000) {
      auto requests_now = sent(session.take_actions());
      for (const auto& request : requests_now) {
        ++requests;
        const uint64_t inc = std::visit([](const auto& r) { return r.inc; }, request);
        session.on_reply(ErrorReply{seq_of(request), code, "", inc + 1}, now);
      }
      // Time moves on only once the agent has nothing more to send now.
      if (requests_now.empty()) {
        now = std::max(now + 1, *session.next_deadline());
        session.tick(now);
      }
    }
    EXPECT_FALSE(session.finished()) << to_string(code);
    // Waits of 100 ms doubling to 1 s: about 15 in 10 s; the old agent sent
    // one per reply (thousands).
    EXPECT_LE(requests, 30u) << to_string(code);
    EXPECT_GE(requests, 5u) << to_string(code);
  }
}

// --- one agent per node id ---------------------------------------------------

// Refuses every request of `session` stale_incarnation (holder `holder`) at
// once, moving time to each next deadline, until it finishes or its next
// deadline is past `until`. Returns when the last refused request was sent.
TimeMs refuse_stale_until(AgentSession& session, uint64_t holder, TimeMs now, TimeMs until,
                          size_t* requests = nullptr) {
  TimeMs last_sent = now;
  while (now <= until && !session.finished()) {
    auto requests_now = sent(session.take_actions());
    for (const auto& request : requests_now) {
      if (requests) ++*requests;
      EXPECT_EQ(std::visit([](const auto& r) { return r.inc; }, request), 5u);
      last_sent = now;
      session.on_reply(ErrorReply{seq_of(request), ErrorCode::kStaleIncarnation, "", holder}, now);
    }
    if (requests_now.empty() && !session.finished()) {
      now = *session.next_deadline();
      if (now > until) break;
      session.tick(now);
    }
  }
  return last_sent;
}

// Lease 3 s + dead_after 5 s + the 0.5 s grace.
constexpr TimeMs kDuplicateWait = 8'500;

TEST(AgentSession, LiveHolderPastLeasePlusDeadAfterIsAnotherAgent) {
  AgentConfig c = config();
  c.dead_after_ms = 5'000;
  AgentSession session(c, 5, 1);
  joined(session);
  session.tick(kStart + 1001);  // a heartbeat, refused below: the contest starts
  size_t requests = 0;
  const TimeMs last_sent =
      refuse_stale_until(session, 5 + kHourNs, kStart + 1001, kStart + 60'000, &requests);
  ASSERT_TRUE(session.finished());
  EXPECT_EQ(session.phase(), AgentPhase::kDuplicate);
  // It gave up on the first request sent once the wait was over, which it
  // sent as soon as the wait was over (not a whole backoff later).
  EXPECT_EQ(last_sent, kStart + 1001 + kDuplicateWait);
  EXPECT_LE(requests, 20u);              // still backing off meanwhile
  EXPECT_EQ(session.incarnation(), 5u);  // never took the id back
  EXPECT_EQ(session.next_deadline(), std::nullopt);
}

TEST(AgentSession, DuplicateIsReportedOnceWithBothIncarnationsAndTheSocketClosed) {
  AgentSession session(config(), 5, 1);
  joined(session);
  session.tick(kStart + 1001);
  const uint64_t holder = 5 + kHourNs;
  // Every request but the last refused, its actions dropped.
  refuse_stale_until(session, holder, kStart + 1001, kStart + 1001 + kDuplicateWait - 1);
  ASSERT_FALSE(session.finished());
  session.tick(kStart + 1001 + kDuplicateWait);
  auto requests = sent(session.take_actions());
  ASSERT_EQ(requests.size(), 1u);
  session.on_reply(ErrorReply{seq_of(requests[0]), ErrorCode::kStaleIncarnation, "", holder},
                   kStart + 1001 + kDuplicateWait + 2);
  auto actions = session.take_actions();
  EXPECT_EQ(only<CloseSocket>(actions).size(), 1u);
  const AgentStateChange change = one_change(actions, AgentEvent::kDuplicate);
  EXPECT_NE(change.detail.find(std::to_string(holder)), std::string::npos) << change.detail;
  EXPECT_NE(change.detail.find("another agent holds node id n1"), std::string::npos)
      << change.detail;
  EXPECT_TRUE(is_terminal(AgentEvent::kDuplicate));
}

TEST(AgentSession, HolderOverBeforeTheWaitEndsIsACrashedPredecessorAndTheAgentRejoins) {
  AgentSession session(config(), 5, 1);
  const uint64_t holder = 5 + kHourNs;
  session.start(kStart);
  // Refused until just before the wait ends...
  refuse_stale_until(session, holder, kStart, kStart + kDuplicateWait - 1);
  ASSERT_FALSE(session.finished());
  // ...then the predecessor is declared dead: the agent goes above it.
  const TimeMs at = *session.next_deadline();
  session.tick(at);
  auto requests = sent(session.take_actions());
  ASSERT_EQ(requests.size(), 1u);
  session.on_reply(ErrorReply{seq_of(requests[0]), ErrorCode::kExpired, "", holder}, at + 1);
  requests = sent(session.take_actions());
  ASSERT_EQ(requests.size(), 1u);
  const auto& join = std::get<JoinRequest>(requests[0]);
  EXPECT_GT(join.inc, holder);
  session.on_reply(ack(join.seq), at + 2);
  EXPECT_EQ(session.phase(), AgentPhase::kJoined);
}

TEST(AgentSession, AnAckEndsTheContestAndANewOneWaitsAgainInFull) {
  AgentSession session(config(), 5, 1);
  joined(session);
  session.tick(kStart + 1001);
  const uint64_t holder = 5 + kHourNs;
  refuse_stale_until(session, holder, kStart + 1001, kStart + 1001 + 6'000);
  TimeMs now;
  ASSERT_FALSE(session.finished());
  // The holder went away (left and forgotten, say): the join is acked.
  now = *session.next_deadline();
  session.tick(now);
  auto requests = sent(session.take_actions());
  ASSERT_EQ(requests.size(), 1u);
  session.on_reply(ack(seq_of(requests[0])), now + 1);
  ASSERT_EQ(session.phase(), AgentPhase::kJoined);
  session.take_actions();
  // A new holder 6 s later is not taken for a duplicate at once.
  now = *session.next_deadline();
  session.tick(now);
  const TimeMs contest = now;
  refuse_stale_until(session, holder + 1, now, contest + kDuplicateWait - 1);
  EXPECT_FALSE(session.finished());
  refuse_stale_until(session, holder + 1, contest + kDuplicateWait - 1, contest + 60'000);
  EXPECT_EQ(session.phase(), AgentPhase::kDuplicate);
}

TEST(AgentSession, OnlyRemovedStopsTheAgentAsRemoved) {
  AgentSession session(config(), 5, 1);
  auto actions = heartbeat_refused(session, ErrorCode::kRemoved, 5);
  EXPECT_EQ(session.phase(), AgentPhase::kRemoved);
  EXPECT_TRUE(session.finished());
  EXPECT_TRUE(reports(actions, AgentEvent::kRemoved));
  EXPECT_TRUE(sent(actions).empty());
}

TEST(AgentSession, ControlCharactersInTheBrokersMessageAreEscaped) {
  // A hostile broker must not reach the agent's log with ANSI escapes or
  // forged log lines.
  AgentSession session(config(), 5, 1);
  joined(session);
  session.tick(kStart + 1001);
  auto requests = sent(session.take_actions());
  ASSERT_EQ(requests.size(), 1u);
  session.on_reply(ErrorReply{seq_of(requests.at(0)), ErrorCode::kRemoved,
                              "gone\n\x1b[2J\r2026-12-01 [info] forged"},
                   kStart + 1002);
  auto changes = only<AgentStateChange>(session.take_actions());
  ASSERT_FALSE(changes.empty());
  for (const auto& change : changes) {
    for (char c : change.detail) {
      EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << change.detail;
    }
  }
  EXPECT_NE(changes.back().detail.find("\\x1b"), std::string::npos) << changes.back().detail;
}

TEST(AgentSession, ForbiddenIsAConfigurationErrorRetriedWithBackoffAndTheSameIncarnation) {
  AgentSession session(config(), 5, 1);
  joined(session);
  session.tick(kStart + 1001);  // a heartbeat
  auto requests = sent(session.take_actions());
  ASSERT_EQ(requests.size(), 1u);
  session.on_reply(ErrorReply{seq_of(requests[0]), ErrorCode::kForbidden, "key web may not"},
                   kStart + 1002);
  auto actions = session.take_actions();
  EXPECT_TRUE(only<CloseSocket>(actions).empty());
  EXPECT_TRUE(sent(actions).empty()) << "no immediate rejoin, no new incarnation";
  const AgentStateChange change = one_change(actions, AgentEvent::kForbidden);
  EXPECT_EQ(change.incarnation, 5u);
  EXPECT_NE(change.detail.find("forbidden: key web may not"), std::string::npos) << change.detail;
  EXPECT_NE(change.detail.find("may not claim node id n1"), std::string::npos) << change.detail;
  const TimeMs retry_at = *session.next_deadline();
  EXPECT_GE(retry_at, kStart + 1002 + 100);
  EXPECT_LE(retry_at, kStart + 1002 + 200);
  session.tick(retry_at);
  requests = sent(session.take_actions());
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(std::get<JoinRequest>(requests[0]).inc, 5u);
  // Refused again: the wait grows (the refusal backoff doubles).
  session.on_reply(ErrorReply{seq_of(requests[0]), ErrorCode::kForbidden, "still"}, retry_at + 1);
  one_change(session.take_actions(), AgentEvent::kForbidden);
  EXPECT_LE(*session.next_deadline(), retry_at + 1 + 400);
  EXPECT_EQ(session.incarnation(), 5u);
}

TEST(AgentSession, RefusedHandshakeIsReportedAsAuthFailedAndBacksOffToTheNextEndpoint) {
  AgentSession session(config(), 5, 1);
  session.start(kStart);
  session.take_actions();
  session.on_handshake_failure("authentication failed: refused", kStart + 10);
  auto actions = session.take_actions();
  EXPECT_EQ(only<CloseSocket>(actions).size(), 1u);
  const AgentStateChange change = one_change(actions, AgentEvent::kAuthFailed);
  EXPECT_EQ(change.detail.rfind("authentication failed: refused; trying tcp://b:7400 in ", 0), 0u)
      << change.detail;
  EXPECT_EQ(session.phase(), AgentPhase::kBackoff);
  const TimeMs reconnect_at = *session.next_deadline();
  EXPECT_GE(reconnect_at, kStart + 10 + 100);
  EXPECT_LE(reconnect_at, kStart + 10 + 200);
  // Nothing more is reported before the reconnection (no kBrokerLost).
  session.on_handshake_failure("again", kStart + 20);
  EXPECT_TRUE(session.take_actions().empty());
  session.tick(reconnect_at);
  actions = session.take_actions();
  ASSERT_EQ(actions.size(), 2u);
  EXPECT_EQ(std::get<OpenSocket>(actions[0]).endpoint, 1u);
}

TEST(AgentSession, HandshakeFailureDuringTheLeaveIsIgnored) {
  AgentSession session(config(), 5, 1);
  joined(session);
  session.leave(kStart + 5);
  session.take_actions();
  session.on_handshake_failure("refused", kStart + 6);
  EXPECT_TRUE(session.take_actions().empty());
  EXPECT_EQ(session.phase(), AgentPhase::kLeaving);
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
