// AgentSessions: one session per broker (BrokerMode::kAll), driven by hand
// with simulated time: no sockets, no threads, no sleeping. Each test plays
// the brokers: it answers (or not) the requests queued on each link.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "agent_sessions.h"

namespace roster {
namespace {

constexpr TimeMs kStart = 1'700'000'000'000;

AgentConfig config(BrokerMode mode = BrokerMode::kAll) {
  AgentConfig c;
  c.brokers = {"tcp://a:7400", "tcp://b:7400"};
  c.broker_mode = mode;
  c.node_id = "n1";
  c.lease_ms = 3000;
  c.leave_timeout_ms = 1000;
  c.backoff_min_ms = 100;
  c.backoff_max_ms = 1000;
  c.dead_after_ms = 5000;
  return c;
}

// What one round of actions asked of each link.
struct Round {
  std::vector<std::vector<AgentRequest>> sent;  // by link
  std::vector<size_t> opened;                   // links opened
  std::vector<AgentStateChange> changes;
};

Round take(AgentSessions& sessions) {
  Round round;
  round.sent.resize(sessions.links());
  for (auto& [link, action] : sessions.take_actions()) {
    if (auto* send = std::get_if<SendRequest>(&action)) round.sent[link].push_back(send->request);
    if (std::holds_alternative<OpenSocket>(action)) round.opened.push_back(link);
    if (auto* change = std::get_if<AgentStateChange>(&action)) round.changes.push_back(*change);
  }
  return round;
}

uint64_t seq_of(const AgentRequest& r) {
  return std::visit([](const auto& m) { return m.seq; }, r);
}
uint64_t inc_of(const AgentRequest& r) {
  return std::visit([](const auto& m) { return m.inc; }, r);
}

Ack ack(const AgentRequest& r) {
  return Ack{seq_of(r), 7, 3000, NodeState::kAlive};
}

size_t count(const std::vector<AgentStateChange>& changes, AgentEvent event) {
  size_t n = 0;
  for (const auto& c : changes) n += c.event == event ? 1 : 0;
  return n;
}

// Sessions joined on both links at kStart.
void join_both(AgentSessions& sessions) {
  sessions.start(kStart);
  Round round = take(sessions);
  ASSERT_EQ(round.opened, (std::vector<size_t>{0, 1}));
  for (size_t link = 0; link < 2; ++link) {
    ASSERT_EQ(round.sent[link].size(), 1u);
    ASSERT_TRUE(std::holds_alternative<JoinRequest>(round.sent[link][0]));
    sessions.on_reply(link, ack(round.sent[link][0]), kStart + 1);
  }
  EXPECT_EQ(count(take(sessions).changes, AgentEvent::kJoined), 2u);
  EXPECT_EQ(sessions.phase(), AgentPhase::kJoined);
}

TEST(AgentSessions, AllModeKeepsOneSessionPerBrokerWithOneIncarnation) {
  AgentSessions sessions(config(), 5, 1);
  ASSERT_EQ(sessions.links(), 2u);
  EXPECT_EQ(sessions.endpoint(0, 0), "tcp://a:7400");
  EXPECT_EQ(sessions.endpoint(1, 0), "tcp://b:7400");
  sessions.start(kStart);
  Round round = take(sessions);
  EXPECT_EQ(inc_of(round.sent[0].at(0)), 5u);
  EXPECT_EQ(inc_of(round.sent[1].at(0)), 5u);
}

TEST(AgentSessions, FailoverModeAndASingleBrokerKeepOneSession) {
  EXPECT_EQ(AgentSessions(config(BrokerMode::kFailover), 5, 1).links(), 1u);
  AgentConfig one = config();
  one.brokers = {"tcp://a:7400"};
  AgentSessions sessions(one, 5, 1);
  EXPECT_EQ(sessions.links(), 1u);
  // Terminal events pass through as they are: no broker_done.
  sessions.start(kStart);
  Round round = take(sessions);
  sessions.on_reply(0, ErrorReply{seq_of(round.sent[0].at(0)), ErrorCode::kRemoved, ""},
                    kStart + 1);
  round = take(sessions);
  EXPECT_EQ(count(round.changes, AgentEvent::kRemoved), 1u);
  EXPECT_EQ(count(round.changes, AgentEvent::kBrokerDone), 0u);
  EXPECT_TRUE(sessions.finished());
  EXPECT_EQ(sessions.phase(), AgentPhase::kRemoved);
}

TEST(AgentSessions, SilentBrokerDoesNotDelayTheOthersHeartbeats) {
  AgentSessions sessions(config(), 5, 1);
  join_both(sessions);
  // Broker a answers everything at once; broker b never answers again.
  std::vector<TimeMs> beats_to_a;
  size_t lost_b = 0;
  TimeMs now = kStart + 1;
  while (now < kStart + 20'000) {
    now = *sessions.next_deadline();
    sessions.tick(now);
    Round round = take(sessions);
    for (const auto& request : round.sent[0]) {
      if (std::holds_alternative<HeartbeatRequest>(request)) beats_to_a.push_back(now);
      sessions.on_reply(0, ack(request), now);
    }
    for (const auto& change : round.changes) {
      if (change.event == AgentEvent::kBrokerLost) {
        EXPECT_EQ(change.broker, "tcp://b:7400");
        ++lost_b;
      }
    }
    take(sessions);
  }
  EXPECT_GE(lost_b, 2u);  // b is lost, retried, lost again...
  ASSERT_GE(beats_to_a.size(), 18u);
  for (size_t i = 1; i < beats_to_a.size(); ++i) {
    EXPECT_EQ(beats_to_a[i] - beats_to_a[i - 1], 1000) << "beat " << i;
  }
  EXPECT_EQ(sessions.phase(), AgentPhase::kJoined);
  EXPECT_EQ(sessions.broker(), "tcp://a:7400");
  EXPECT_TRUE(sessions.session(0).up());
  EXPECT_FALSE(sessions.session(1).up());
  EXPECT_EQ(sessions.session(0).counters().broker_losses, 0u);
  EXPECT_EQ(sessions.session(1).counters().broker_losses, lost_b);
  EXPECT_EQ(sessions.session(0).counters().heartbeats_acked, beats_to_a.size());
}

TEST(AgentSessions, LeaveGoesToEveryBrokerAndEndsWithTheLastAck) {
  AgentSessions sessions(config(), 5, 1);
  join_both(sessions);
  sessions.leave(kStart + 10);
  Round round = take(sessions);
  ASSERT_EQ(round.sent[0].size(), 1u);
  ASSERT_EQ(round.sent[1].size(), 1u);
  ASSERT_TRUE(std::holds_alternative<LeaveRequest>(round.sent[0][0]));
  ASSERT_TRUE(std::holds_alternative<LeaveRequest>(round.sent[1][0]));
  EXPECT_EQ(sessions.phase(), AgentPhase::kLeaving);
  sessions.on_reply(0, ack(round.sent[0][0]), kStart + 11);
  Round after_a = take(sessions);
  EXPECT_FALSE(sessions.finished());
  EXPECT_EQ(count(after_a.changes, AgentEvent::kBrokerDone), 1u);
  EXPECT_EQ(count(after_a.changes, AgentEvent::kLeft), 0u);
  sessions.on_reply(1, ack(round.sent[1][0]), kStart + 12);
  Round after_b = take(sessions);
  EXPECT_TRUE(sessions.finished());
  EXPECT_EQ(count(after_b.changes, AgentEvent::kBrokerDone), 1u);
  ASSERT_EQ(count(after_b.changes, AgentEvent::kLeft), 1u);
  EXPECT_TRUE(is_terminal(after_b.changes.back().event));
  EXPECT_EQ(sessions.phase(), AgentPhase::kStopped);
}

TEST(AgentSessions, LeaveWithABrokerDownEndsAtTheLeaveTimeout) {
  AgentSessions sessions(config(), 5, 1);
  join_both(sessions);
  sessions.leave(kStart + 10);
  Round round = take(sessions);
  sessions.on_reply(0, ack(round.sent[0].at(0)), kStart + 11);
  take(sessions);
  EXPECT_EQ(sessions.next_deadline(), kStart + 10 + 1000);  // b's leave timeout, not longer
  sessions.tick(kStart + 1010);
  round = take(sessions);
  EXPECT_TRUE(sessions.finished());
  ASSERT_FALSE(round.changes.empty());
  const AgentStateChange& last = round.changes.back();
  EXPECT_EQ(last.event, AgentEvent::kLeft);  // a acknowledged it
  EXPECT_NE(last.detail.find("tcp://b:7400: stopped"), std::string::npos) << last.detail;
}

TEST(AgentSessions, RemovalAtOneBrokerLeavesTheOthersThenReportsRemoved) {
  AgentSessions sessions(config(), 5, 1);
  join_both(sessions);
  sessions.tick(kStart + 1001);
  Round round = take(sessions);
  sessions.on_reply(0, ack(round.sent[0].at(0)), kStart + 1002);
  // The operator removed the node at broker b.
  sessions.on_reply(1, ErrorReply{seq_of(round.sent[1].at(0)), ErrorCode::kRemoved, "removed"},
                    kStart + 1003);
  round = take(sessions);
  // Not yet the terminal event: the agent first leaves broker a.
  EXPECT_EQ(count(round.changes, AgentEvent::kRemoved), 0u);
  ASSERT_EQ(count(round.changes, AgentEvent::kBrokerDone), 1u);
  ASSERT_EQ(round.sent[0].size(), 1u);
  EXPECT_TRUE(std::holds_alternative<LeaveRequest>(round.sent[0][0]));
  EXPECT_TRUE(round.sent[1].empty());
  EXPECT_FALSE(sessions.finished());
  EXPECT_EQ(sessions.phase(), AgentPhase::kLeaving);
  sessions.on_reply(0, ack(round.sent[0][0]), kStart + 1004);
  round = take(sessions);
  EXPECT_TRUE(sessions.finished());
  ASSERT_EQ(count(round.changes, AgentEvent::kRemoved), 1u);
  const AgentStateChange& last = round.changes.back();
  EXPECT_EQ(last.event, AgentEvent::kRemoved);
  EXPECT_EQ(last.broker, "tcp://b:7400");
  EXPECT_NE(last.detail.find("tcp://a:7400: left"), std::string::npos) << last.detail;
  EXPECT_EQ(sessions.phase(), AgentPhase::kRemoved);
  EXPECT_EQ(sessions.next_deadline(), std::nullopt);
}

TEST(AgentSessions, RemovalWhileTheOtherBrokerIsDownEndsWithinTheLeaveTimeout) {
  AgentSessions sessions(config(), 5, 1);
  join_both(sessions);
  sessions.tick(kStart + 1001);
  Round round = take(sessions);
  sessions.on_reply(0, ErrorReply{seq_of(round.sent[0].at(0)), ErrorCode::kRemoved, ""},
                    kStart + 1002);
  take(sessions);
  // b never answers the leave.
  EXPECT_EQ(sessions.next_deadline(), kStart + 1002 + 1000);
  sessions.tick(kStart + 2002);
  round = take(sessions);
  EXPECT_TRUE(sessions.finished());
  EXPECT_EQ(round.changes.back().event, AgentEvent::kRemoved);
}

TEST(AgentSessions, NewIncarnationAtOneBrokerMovesEveryBrokerToIt) {
  AgentSessions sessions(config(), 5, 1);
  join_both(sessions);
  sessions.tick(kStart + 1001);
  Round round = take(sessions);
  sessions.on_reply(0, ack(round.sent[0].at(0)), kStart + 1002);
  // Broker b declared incarnation 5 dead (a partition between them).
  sessions.on_reply(1, ErrorReply{seq_of(round.sent[1].at(0)), ErrorCode::kExpired, "", 5},
                    kStart + 1003);
  round = take(sessions);
  ASSERT_EQ(round.sent[1].size(), 1u);
  ASSERT_EQ(round.sent[0].size(), 1u);
  const uint64_t inc = inc_of(round.sent[1][0]);
  EXPECT_GT(inc, 5u);
  EXPECT_TRUE(std::holds_alternative<JoinRequest>(round.sent[0][0]));
  EXPECT_EQ(inc_of(round.sent[0][0]), inc);
  EXPECT_EQ(sessions.incarnation(), inc);
  sessions.on_reply(0, ack(round.sent[0][0]), kStart + 1004);
  sessions.on_reply(1, ack(round.sent[1][0]), kStart + 1004);
  EXPECT_EQ(count(take(sessions).changes, AgentEvent::kRejoined), 2u);
  // Heartbeats of the new incarnation everywhere.
  sessions.tick(kStart + 2004);
  round = take(sessions);
  EXPECT_EQ(inc_of(round.sent[0].at(0)), inc);
  EXPECT_EQ(inc_of(round.sent[1].at(0)), inc);
}

TEST(AgentSessions, LiveHolderAtOneBrokerPastTheWaitEndsTheAgentAsADuplicate) {
  AgentSessions sessions(config(), 5, 1);
  join_both(sessions);
  TimeMs now = kStart + 1;
  bool leave_to_a = false;
  while (!sessions.finished() && now < kStart + 30'000) {
    now = *sessions.next_deadline();
    sessions.tick(now);
    // a acks everything at once; b refuses everything at once.
    for (Round round = take(sessions); !round.sent[0].empty() || !round.sent[1].empty();
         round = take(sessions)) {
      for (const auto& request : round.sent[0]) {
        leave_to_a = leave_to_a || std::holds_alternative<LeaveRequest>(request);
        sessions.on_reply(0, ack(request), now);
      }
      for (const auto& request : round.sent[1]) {
        sessions.on_reply(
            1, ErrorReply{seq_of(request), ErrorCode::kStaleIncarnation, "", 5 + 1'000'000}, now);
      }
    }
  }
  EXPECT_TRUE(sessions.finished());
  EXPECT_TRUE(leave_to_a);
  EXPECT_EQ(sessions.phase(), AgentPhase::kDuplicate);
  // lease 3 s + dead_after 5 s + 0.5 s after the first refusal (at kStart + 1001).
  EXPECT_GE(now, kStart + 1001 + 8'500);
  EXPECT_LE(now, kStart + 1001 + 8'500 + 100);
}

}  // namespace
}  // namespace roster
