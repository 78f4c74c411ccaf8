// roster::Agent against a scripted broker (FakeAgentChannel): each test makes the
// broker reply one way and checks what the agent sends next. Tests of
// timing (backoff, broker loss, leave timeout) run the agent on a
// SimulatedClock and move it by hand.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "event_log.h"
#include "roster/agent.h"
#include "roster/clock.h"
#include "support/fake_agent_channel.h"

namespace roster::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Generous for "eventually": tests also run under sanitizers on 2 cores.
constexpr milliseconds kEventually = seconds(10);
// How long to watch for something that must not happen (after the agent
// was woken: it acts at once when something is due).
constexpr milliseconds kQuiet = milliseconds(100);

AgentConfig test_config(std::vector<std::string> brokers, BrokerMode mode = BrokerMode::kAll) {
  AgentConfig config;
  config.brokers = std::move(brokers);
  config.broker_mode = mode;
  config.node_id = "node-1";
  config.addr = "10.0.0.1:8080";
  config.labels = {{"zone", "a"}};
  config.lease_ms = 600;
  config.interval_ms = 100;
  config.leave_timeout_ms = 500;
  config.backoff_min_ms = 20;
  config.backoff_max_ms = 100;
  return config;
}

// An Agent on a SimulatedClock, with the configuration it was given and
// the log of what it reported. When the test ends it stops without a
// leave: a leave would wait for a leave timeout that the clock never
// reaches.
struct SimulatedAgent {
  explicit SimulatedAgent(AgentConfig agent_config)
      : config(std::move(agent_config)), agent(config, log.callback(), clock) {}
  ~SimulatedAgent() { agent.stop(false); }

  // Moves the clock and wakes the agent to act on the new time.
  void advance(uint64_t ms) {
    clock.advance(static_cast<TimeMs>(ms));
    agent.wake();
  }

  EventLog log;
  const AgentConfig config;
  SimulatedClock clock;
  Agent agent;
};

// The last change of kind `event`; a test failure if there is none.
AgentStateChange last(const EventLog& log, AgentEvent event) {
  const auto changes = log.changes();
  for (auto it = changes.rbegin(); it != changes.rend(); ++it) {
    if (it->event == event) return *it;
  }
  ADD_FAILURE() << "no " << to_string(event) << " reported";
  return {};
}

// The wait a change announces in its detail ("... in 37 ms").
uint64_t announced_wait(const AgentStateChange& change) {
  const size_t at = change.detail.rfind(" in ");
  if (at == std::string::npos) {
    ADD_FAILURE() << "no wait in: " << change.detail;
    return 0;
  }
  return std::stoull(change.detail.substr(at + 4));
}

// Names a parameterized case by its error code ("expired", ...).
std::string code_name(const ::testing::TestParamInfo<ErrorCode>& info) {
  return std::string(to_string(info.param));
}

// Starts an agent and completes its first join; returns the join.
FakeAgentChannel::Received join_and_ack(FakeAgentChannel& broker, Agent& agent, EventLog& log) {
  EXPECT_EQ(agent.start(), std::nullopt);
  auto join = broker.next_of<JoinRequest>(kEventually);
  EXPECT_TRUE(join.has_value());
  if (!join) return {};
  broker.ack(*join);
  EXPECT_TRUE(log.wait_for(AgentEvent::kJoined));
  return *join;
}

TEST(AgentFakeBroker, JoinCarriesTheConfigurationThenHeartbeatsRenewTheSameIncarnation) {
  FakeAgentChannel broker;
  EventLog log;
  AgentConfig config = test_config({broker.endpoint()});
  config.incarnation = 42;
  Agent agent(config, log.callback());
  auto join = join_and_ack(broker, agent, log);
  const auto& request = std::get<JoinRequest>(join.request);
  EXPECT_EQ(request.node, "node-1");
  EXPECT_EQ(request.inc, 42u);
  EXPECT_EQ(request.lease_ms, 600u);
  EXPECT_EQ(request.addr, "10.0.0.1:8080");
  EXPECT_EQ(request.labels, (Labels{{"zone", "a"}}));

  uint64_t last_seq = request.seq;
  for (int i = 0; i < 3; ++i) {
    auto heartbeat = broker.next(kEventually);
    ASSERT_TRUE(heartbeat.has_value());
    const auto* beat = std::get_if<HeartbeatRequest>(&heartbeat->request);
    ASSERT_NE(beat, nullptr);
    EXPECT_EQ(beat->node, "node-1");
    EXPECT_EQ(beat->inc, 42u);
    EXPECT_GT(beat->seq, last_seq);
    last_seq = beat->seq;
    broker.ack(*heartbeat);
  }
  EXPECT_EQ(agent.status().phase, AgentPhase::kJoined);
  EXPECT_EQ(log.count(AgentEvent::kJoined), 1u);
}

TEST(AgentFakeBroker, DefaultIncarnationIsWallClockNanoseconds) {
  FakeAgentChannel broker;
  EventLog log;
  const auto before = std::chrono::system_clock::now().time_since_epoch();
  Agent agent(test_config({broker.endpoint()}), log.callback());
  auto join = join_and_ack(broker, agent, log);
  const auto after = std::chrono::system_clock::now().time_since_epoch();
  EXPECT_GE(inc_of(join.request), static_cast<uint64_t>(std::chrono::nanoseconds(before).count()));
  EXPECT_LE(inc_of(join.request), static_cast<uint64_t>(std::chrono::nanoseconds(after).count()));
}

TEST(AgentFakeBroker, UnknownNodeRejoinsWithTheSameIncarnation) {
  FakeAgentChannel broker;
  EventLog log;
  Agent agent(test_config({broker.endpoint()}), log.callback());
  auto join = join_and_ack(broker, agent, log);
  auto heartbeat = broker.next_of<HeartbeatRequest>(kEventually);
  ASSERT_TRUE(heartbeat.has_value());
  broker.refuse(*heartbeat, ErrorCode::kUnknownNode);

  auto rejoin = broker.next(kEventually);
  ASSERT_TRUE(rejoin.has_value());
  ASSERT_TRUE(std::holds_alternative<JoinRequest>(rejoin->request));
  EXPECT_EQ(inc_of(rejoin->request), inc_of(join.request));
  EXPECT_GT(seq_of(rejoin->request), seq_of(heartbeat->request));
  broker.ack(*rejoin);
  EXPECT_TRUE(log.wait_for(AgentEvent::kRejoined));
}

// expired and left: that incarnation cannot come back.
class AgentIncarnationRefused : public ::testing::TestWithParam<ErrorCode> {};

TEST_P(AgentIncarnationRefused, TakesAHigherIncarnationAndJoins) {
  FakeAgentChannel broker;
  EventLog log;
  Agent agent(test_config({broker.endpoint()}), log.callback());
  auto join = join_and_ack(broker, agent, log);
  auto heartbeat = broker.next_of<HeartbeatRequest>(kEventually);
  ASSERT_TRUE(heartbeat.has_value());
  broker.refuse(*heartbeat, GetParam());

  auto rejoin = broker.next(kEventually);
  ASSERT_TRUE(rejoin.has_value());
  ASSERT_TRUE(std::holds_alternative<JoinRequest>(rejoin->request));
  EXPECT_GT(inc_of(rejoin->request), inc_of(join.request));
  broker.ack(*rejoin);
  ASSERT_TRUE(log.wait_for(AgentEvent::kRejoined));
  EXPECT_EQ(agent.status().incarnation, inc_of(rejoin->request));

  auto next_heartbeat = broker.next_of<HeartbeatRequest>(kEventually);
  ASSERT_TRUE(next_heartbeat.has_value());
  EXPECT_EQ(inc_of(next_heartbeat->request), inc_of(rejoin->request));
}

INSTANTIATE_TEST_SUITE_P(Codes, AgentIncarnationRefused,
                         ::testing::Values(ErrorCode::kExpired, ErrorCode::kLeft), code_name);

TEST(AgentFakeBroker, ForgottenIncarnationRejoinsAboveTheHint) {
  FakeAgentChannel broker;
  EventLog log;
  Agent agent(test_config({broker.endpoint()}), log.callback());
  join_and_ack(broker, agent, log);
  auto heartbeat = broker.next_of<HeartbeatRequest>(kEventually);
  ASSERT_TRUE(heartbeat.has_value());
  // An hour ahead of this clock: the agent must go above it, not to now.
  const uint64_t hint = inc_of(heartbeat->request) + 3'600'000'000'000ull;
  broker.reply(*heartbeat,
               ErrorReply{seq_of(heartbeat->request), ErrorCode::kExpired, "forgotten", hint});
  auto rejoin = broker.next_of<JoinRequest>(kEventually);
  ASSERT_TRUE(rejoin.has_value());
  EXPECT_EQ(inc_of(rejoin->request), hint + 1);
  broker.ack(*rejoin);
  ASSERT_TRUE(log.wait_for(AgentEvent::kRejoined));
  EXPECT_EQ(log.count(AgentEvent::kRemoved), 0u);
}

TEST(AgentFakeBroker, StaleIncarnationKeepsTheIncarnationAndRetriesAfterABackoff) {
  FakeAgentChannel broker;
  SimulatedAgent sim(test_config({broker.endpoint()}));
  auto join = join_and_ack(broker, sim.agent, sim.log);
  const uint64_t inc = inc_of(join.request);
  const uint64_t holder = inc + 1'000;
  sim.advance(sim.config.interval_ms);
  auto request = broker.next_of<HeartbeatRequest>(kEventually);
  ASSERT_TRUE(request.has_value());
  // Another process holds the id: every request is refused as stale.
  for (size_t refusals = 1; refusals <= 4; ++refusals) {
    broker.reply(*request, ErrorReply{seq_of(request->request), ErrorCode::kStaleIncarnation,
                                      "older", holder});
    ASSERT_TRUE(sim.log.wait_for(AgentEvent::kRefused, refusals));
    const uint64_t wait = announced_wait(last(sim.log, AgentEvent::kRefused));
    EXPECT_GE(wait, sim.config.backoff_min_ms);
    EXPECT_LE(wait, sim.config.backoff_max_ms);
    // Not at once: nothing until the announced wait is over.
    sim.advance(wait - 1);
    EXPECT_FALSE(broker.next(kQuiet).has_value());
    sim.advance(1);
    request = broker.next(kEventually);
    ASSERT_TRUE(request.has_value());
    ASSERT_TRUE(std::holds_alternative<JoinRequest>(request->request));
    // The id is not taken back.
    EXPECT_EQ(inc_of(request->request), inc);
  }
  EXPECT_GE(sim.log.count(AgentEvent::kRefused), 4u);
  // The holder is over: the agent takes an incarnation above it.
  broker.reply(*request, ErrorReply{seq_of(request->request), ErrorCode::kExpired, "dead", holder});
  auto rejoin = broker.next_of<JoinRequest>(kEventually);
  ASSERT_TRUE(rejoin.has_value());
  EXPECT_GT(inc_of(rejoin->request), holder);
  broker.ack(*rejoin);
  ASSERT_TRUE(sim.log.wait_for(AgentEvent::kRejoined));
  EXPECT_EQ(sim.agent.status().phase, AgentPhase::kJoined);
}

// A live holder for longer than lease + dead_after (+ 0.5 s grace): another
// agent holds the node id. The agent stops for good with kDuplicate.
TEST(AgentFakeBroker, LiveHolderPastLeasePlusDeadAfterStopsTheAgentAsADuplicate) {
  FakeAgentChannel broker;
  AgentConfig config = test_config({broker.endpoint()});
  config.dead_after_ms = 1'000;
  SimulatedAgent sim(config);
  auto join = join_and_ack(broker, sim.agent, sim.log);
  const uint64_t holder = inc_of(join.request) + 1'000;
  sim.advance(sim.config.interval_ms);
  auto request = broker.next_of<HeartbeatRequest>(kEventually);
  ASSERT_TRUE(request.has_value());
  uint64_t elapsed = 0;
  size_t refusals = 0;
  // 600 ms lease + 1 s dead_after + 0.5 s grace.
  while (elapsed <= 2'100) {
    EXPECT_EQ(inc_of(request->request), inc_of(join.request));
    broker.reply(*request, ErrorReply{seq_of(request->request), ErrorCode::kStaleIncarnation,
                                      "older", holder});
    if (elapsed == 2'100) break;
    ASSERT_TRUE(sim.log.wait_for(AgentEvent::kRefused, ++refusals));
    const uint64_t wait = announced_wait(last(sim.log, AgentEvent::kRefused));
    sim.advance(wait);
    elapsed += wait;
    request = broker.next(kEventually);
    ASSERT_TRUE(request.has_value());
  }
  ASSERT_TRUE(sim.log.wait_for(AgentEvent::kDuplicate)) << elapsed;
  EXPECT_TRUE(
      wait_until([&] { return sim.agent.status().phase == AgentPhase::kDuplicate; }, kEventually));
  // Nothing more is sent.
  sim.advance(10'000);
  EXPECT_FALSE(broker.next(kQuiet).has_value());
}

TEST(AgentFakeBroker, RemovedStopsHeartbeatingForGood) {
  FakeAgentChannel broker;
  SimulatedAgent sim(test_config({broker.endpoint()}));
  join_and_ack(broker, sim.agent, sim.log);
  sim.advance(sim.config.interval_ms);
  auto heartbeat = broker.next_of<HeartbeatRequest>(kEventually);
  ASSERT_TRUE(heartbeat.has_value());
  broker.refuse(*heartbeat, ErrorCode::kRemoved);

  ASSERT_TRUE(sim.log.wait_for(AgentEvent::kRemoved));
  EXPECT_EQ(sim.agent.status().phase, AgentPhase::kRemoved);
  // Several intervals and more than a lease: no heartbeat, no join.
  sim.advance(10 * sim.config.lease_ms);
  EXPECT_FALSE(broker.next(kQuiet).has_value());
  EXPECT_EQ(sim.log.count(AgentEvent::kRejoined), 0u);
  sim.agent.stop(true);  // nothing to leave: returns at once
  EXPECT_FALSE(broker.next(milliseconds(50)).has_value());
}

class AgentConfigurationRefused : public ::testing::TestWithParam<ErrorCode> {};

TEST_P(AgentConfigurationRefused, ReportsAConfigurationErrorAndStops) {
  FakeAgentChannel broker;
  SimulatedAgent sim(test_config({broker.endpoint()}));
  ASSERT_EQ(sim.agent.start(), std::nullopt);
  auto join = broker.next_of<JoinRequest>(kEventually);
  ASSERT_TRUE(join.has_value());
  broker.refuse(*join, GetParam());

  ASSERT_TRUE(sim.log.wait_for(AgentEvent::kConfigError));
  EXPECT_EQ(sim.agent.status().phase, AgentPhase::kConfigError);
  const auto changes = sim.log.changes();
  EXPECT_NE(changes.back().detail.find(std::string(to_string(GetParam()))), std::string::npos)
      << changes.back().detail;
  // No retry, however long it waits.
  sim.advance(10 * sim.config.lease_ms);
  EXPECT_FALSE(broker.next(kQuiet).has_value());
}

INSTANTIATE_TEST_SUITE_P(Codes, AgentConfigurationRefused,
                         ::testing::Values(ErrorCode::kBadRequest, ErrorCode::kUnsupportedVersion),
                         code_name);

TEST(AgentFakeBroker, RepliesToNoOutstandingRequestAreIgnored) {
  FakeAgentChannel broker;
  EventLog log;
  Agent agent(test_config({broker.endpoint()}), log.callback());
  ASSERT_EQ(agent.start(), std::nullopt);
  auto join = broker.next_of<JoinRequest>(kEventually);
  ASSERT_TRUE(join.has_value());
  const uint64_t seq = seq_of(join->request);
  // A reply to a seq never sent, and a `removed` for one: both ignored.
  broker.reply(*join, Ack{seq + 1000, 1, 600, NodeState::kAlive});
  broker.reply(*join, ErrorReply{seq + 1000, ErrorCode::kRemoved, "not for you"});
  broker.ack(*join);
  ASSERT_TRUE(log.wait_for(AgentEvent::kJoined));
  // The ack came after both stale replies and the agent is still joined.
  auto heartbeat = broker.next_of<HeartbeatRequest>(kEventually);
  ASSERT_TRUE(heartbeat.has_value());
  // A second reply to an answered request is stale too.
  broker.refuse(*join, ErrorCode::kRemoved);
  broker.ack(*heartbeat);
  auto later = broker.next_of<HeartbeatRequest>(kEventually);
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(agent.status().phase, AgentPhase::kJoined);
  EXPECT_EQ(log.count(AgentEvent::kRemoved), 0u);
}

TEST(AgentFakeBroker, MalformedRepliesAreDroppedWithoutHarm) {
  FakeAgentChannel broker;
  EventLog log;
  Agent agent(test_config({broker.endpoint()}), log.callback());
  ASSERT_EQ(agent.start(), std::nullopt);
  auto join = broker.next_of<JoinRequest>(kEventually);
  ASSERT_TRUE(join.has_value());
  broker.reply_frames(*join, {"not msgpack"});
  broker.reply_frames(*join, {std::string("\x81\xa1v\x01", 4)});      // {v: 1}, no type
  broker.reply_frames(*join, {"a", "b", "c"});                        // three frames
  broker.reply_frames(*join, {std::string(kMaxBodyBytes + 1, 'x')});  // over the limit
  broker.reply_frames(*join, {""});
  // The agent survives all of it and still takes the real ack. (The
  // oversized reply makes ZeroMQ drop that connection for good; the agent
  // gets over it through its broker-lost path: a new socket and a join.)
  auto again = broker.next_of<JoinRequest>(kEventually);
  ASSERT_TRUE(again.has_value());
  broker.ack(*again);
  ASSERT_TRUE(log.wait_for(AgentEvent::kJoined));
  ASSERT_TRUE(broker.next_of<HeartbeatRequest>(kEventually).has_value());
}

TEST(AgentFakeBroker, SilentBrokerIsLostAndTheNextEndpointIsTried) {
  FakeAgentChannel silent;
  FakeAgentChannel second;
  SimulatedAgent sim(test_config({silent.endpoint(), second.endpoint()}, BrokerMode::kFailover));
  ASSERT_EQ(sim.agent.start(), std::nullopt);
  // The first broker receives the join and never answers.
  ASSERT_TRUE(silent.next_of<JoinRequest>(kEventually).has_value());
  // Lost a lease after the join, not before.
  sim.advance(sim.config.lease_ms - 1);
  EXPECT_FALSE(second.next(kQuiet).has_value());
  EXPECT_EQ(sim.log.count(AgentEvent::kBrokerLost), 0u);
  sim.advance(1);
  ASSERT_TRUE(sim.log.wait_for(AgentEvent::kBrokerLost));
  // The next endpoint after a backoff within its bounds.
  const uint64_t wait = announced_wait(last(sim.log, AgentEvent::kBrokerLost));
  EXPECT_GE(wait, sim.config.backoff_min_ms);
  EXPECT_LE(wait, sim.config.backoff_max_ms);
  sim.advance(wait);
  auto join = second.next_of<JoinRequest>(kEventually);
  ASSERT_TRUE(join.has_value());
  EXPECT_EQ(sim.log.count(AgentEvent::kBrokerLost), 1u);
  second.ack(*join);
  ASSERT_TRUE(sim.log.wait_for(AgentEvent::kJoined));
  EXPECT_EQ(sim.agent.status().broker, second.endpoint());
  sim.advance(sim.config.interval_ms);
  ASSERT_TRUE(second.next_of<HeartbeatRequest>(kEventually).has_value());
}

TEST(AgentFakeBroker, JoinedAgentLosingItsBrokerFailsOverAndRejoins) {
  FakeAgentChannel first;
  FakeAgentChannel second;
  SimulatedAgent sim(test_config({first.endpoint(), second.endpoint()}, BrokerMode::kFailover));
  auto join = join_and_ack(first, sim.agent, sim.log);
  // The first broker stops answering heartbeats: lost a lease later.
  sim.advance(sim.config.interval_ms);
  ASSERT_TRUE(first.next_of<HeartbeatRequest>(kEventually).has_value());
  sim.advance(sim.config.lease_ms);
  ASSERT_TRUE(sim.log.wait_for(AgentEvent::kBrokerLost));
  sim.advance(announced_wait(last(sim.log, AgentEvent::kBrokerLost)));
  auto rejoin = second.next_of<JoinRequest>(kEventually);
  ASSERT_TRUE(rejoin.has_value());
  EXPECT_EQ(inc_of(rejoin->request), inc_of(join.request));
  second.ack(*rejoin);
  ASSERT_TRUE(sim.log.wait_for(AgentEvent::kRejoined));
}

TEST(AgentFakeBroker, NoBacklogOfStaleHeartbeatsReachesAReturningBroker) {
  auto broker = std::make_unique<FakeAgentChannel>();
  const std::string endpoint = broker->endpoint();
  SimulatedAgent sim(test_config({endpoint}));
  join_and_ack(*broker, sim.agent, sim.log);
  sim.advance(sim.config.interval_ms);
  ASSERT_TRUE(broker->next_of<HeartbeatRequest>(kEventually).has_value());
  // The broker vanishes for several leases' worth of heartbeats (the clock
  // runs about ten times faster than real time meanwhile).
  broker.reset();
  ASSERT_TRUE(wait_until(
      [&] {
        sim.advance(20);
        return sim.log.count(AgentEvent::kBrokerLost) >= 3;
      },
      kEventually));
  broker = std::make_unique<FakeAgentChannel>(endpoint);
  // Any backoff is over: the agent joins, and waits for the ack.
  sim.advance(sim.config.backoff_max_ms);
  // The first thing the returning broker hears is a fresh join.
  auto first = broker->next(kEventually);
  ASSERT_TRUE(first.has_value());
  ASSERT_TRUE(std::holds_alternative<JoinRequest>(first->request))
      << "got a request of type index " << first->request.index();
  broker->ack(*first);
  ASSERT_TRUE(sim.log.wait_for(AgentEvent::kRejoined));
  // Then heartbeats at the normal pace, not a burst of old ones: the next
  // heartbeat carries a seq above the join's.
  sim.advance(sim.config.interval_ms);
  auto heartbeat = broker->next_of<HeartbeatRequest>(kEventually);
  ASSERT_TRUE(heartbeat.has_value());
  EXPECT_GT(seq_of(heartbeat->request), seq_of(first->request));
}

TEST(AgentFakeBroker, LabelUpdateIsSentAsAJoinOfTheSameIncarnation) {
  FakeAgentChannel broker;
  EventLog log;
  Agent agent(test_config({broker.endpoint()}), log.callback());
  auto join = join_and_ack(broker, agent, log);
  ASSERT_EQ(agent.update_labels({{"zone", "b"}, {"role", "db"}}), std::nullopt);
  auto update = broker.next_of<JoinRequest>(kEventually);
  ASSERT_TRUE(update.has_value());
  const auto& request = std::get<JoinRequest>(update->request);
  EXPECT_EQ(request.inc, inc_of(join.request));
  EXPECT_EQ(request.labels, (Labels{{"zone", "b"}, {"role", "db"}}));
  EXPECT_EQ(request.addr, "10.0.0.1:8080");
  broker.ack(*update);
  // Acked: back to heartbeats, and no rejoin was reported.
  ASSERT_TRUE(broker.next_of<HeartbeatRequest>(kEventually).has_value());
  EXPECT_EQ(log.count(AgentEvent::kRejoined), 0u);
}

TEST(AgentFakeBroker, UnackedLabelUpdateIsRepeated) {
  FakeAgentChannel broker;
  EventLog log;
  Agent agent(test_config({broker.endpoint()}), log.callback());
  join_and_ack(broker, agent, log);
  ASSERT_EQ(agent.update_labels({{"zone", "c"}}), std::nullopt);
  auto update = broker.next_of<JoinRequest>(kEventually);
  ASSERT_TRUE(update.has_value());
  // Not acked: the next request is the same update again, not a heartbeat.
  auto again = broker.next(kEventually);
  ASSERT_TRUE(again.has_value());
  ASSERT_TRUE(std::holds_alternative<JoinRequest>(again->request));
  EXPECT_EQ(std::get<JoinRequest>(again->request).labels, (Labels{{"zone", "c"}}));
}

TEST(AgentFakeBroker, LabelsOverTheLimitsAreRefused) {
  FakeAgentChannel broker;
  Agent agent(test_config({broker.endpoint()}));
  EXPECT_NE(agent.update_labels({{"", "x"}}), std::nullopt);
  EXPECT_NE(agent.update_labels({{"k", std::string(kMaxLabelValueBytes + 1, 'v')}}), std::nullopt);
}

TEST(AgentFakeBroker, StopWithLeaveSendsALeaveAndWaitsForItsAck) {
  FakeAgentChannel broker;
  EventLog log;
  Agent agent(test_config({broker.endpoint()}), log.callback());
  auto join = join_and_ack(broker, agent, log);
  std::thread stopper([&] { agent.stop(true); });
  auto leave = broker.next_of<LeaveRequest>(kEventually);
  ASSERT_TRUE(leave.has_value());
  EXPECT_EQ(inc_of(leave->request), inc_of(join.request));
  EXPECT_EQ(std::get<LeaveRequest>(leave->request).node, "node-1");
  broker.ack(*leave);
  stopper.join();
  EXPECT_EQ(log.count(AgentEvent::kLeft), 1u);
  EXPECT_EQ(agent.status().phase, AgentPhase::kStopped);
  EXPECT_FALSE(broker.next(milliseconds(300)).has_value());
}

TEST(AgentFakeBroker, StopWithLeaveGivesUpAfterTheLeaveTimeout) {
  FakeAgentChannel broker;
  SimulatedAgent sim(test_config({broker.endpoint()}));
  join_and_ack(broker, sim.agent, sim.log);
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    sim.agent.stop(true);
    stopped = true;
  });
  ASSERT_TRUE(broker.next_of<LeaveRequest>(kEventually).has_value());
  // The leave is not acked: the agent waits the leave timeout, not less.
  sim.advance(sim.config.leave_timeout_ms - 1);
  EXPECT_FALSE(wait_until([&] { return stopped.load(); }, kQuiet));
  sim.advance(1);
  stopper.join();
  EXPECT_EQ(sim.log.count(AgentEvent::kLeft), 0u);
  EXPECT_EQ(sim.log.count(AgentEvent::kStopped), 1u);
}

TEST(AgentFakeBroker, StopWithoutLeaveSendsNothing) {
  FakeAgentChannel broker;
  EventLog log;
  Agent agent(test_config({broker.endpoint()}), log.callback());
  join_and_ack(broker, agent, log);
  agent.stop(false);
  EXPECT_EQ(log.count(AgentEvent::kStopped), 1u);
  while (auto received = broker.next(milliseconds(200))) {
    EXPECT_FALSE(std::holds_alternative<LeaveRequest>(received->request));
  }
}

TEST(AgentFakeBroker, StartRefusesAnInvalidConfiguration) {
  AgentConfig config = test_config({"tcp://127.0.0.1:1"});
  config.node_id = "bad id";
  Agent bad_id(config);
  EXPECT_NE(bad_id.start(), std::nullopt);

  config = test_config({});
  Agent no_broker(config);
  EXPECT_NE(no_broker.start(), std::nullopt);

  config = test_config({"tcp://127.0.0.1:1"});
  config.interval_ms = config.lease_ms;
  Agent slow_heartbeat(config);
  EXPECT_NE(slow_heartbeat.start(), std::nullopt);

  // One session per endpoint: each is listed once.
  config = test_config({"tcp://127.0.0.1:1", "tcp://127.0.0.1:1"});
  Agent twice(config);
  EXPECT_NE(twice.start(), std::nullopt);
}

TEST(AgentFakeBroker, StartsOnlyOnce) {
  FakeAgentChannel broker;
  Agent agent(test_config({broker.endpoint()}));
  EXPECT_EQ(agent.start(), std::nullopt);
  EXPECT_NE(agent.start(), std::nullopt);
}

// --- several brokers (BrokerMode::kAll) --------------------------------------

// Starts `agent` and acks its join on every broker of `brokers`; returns
// the joins.
std::vector<FakeAgentChannel::Received> join_all(const std::vector<FakeAgentChannel*>& brokers,
                                                 Agent& agent, EventLog& log) {
  EXPECT_EQ(agent.start(), std::nullopt);
  std::vector<FakeAgentChannel::Received> joins;
  for (FakeAgentChannel* broker : brokers) {
    auto join = broker->next_of<JoinRequest>(kEventually);
    EXPECT_TRUE(join.has_value());
    if (!join) return joins;
    broker->ack(*join);
    joins.push_back(*join);
  }
  EXPECT_TRUE(log.wait_for(AgentEvent::kJoined, brokers.size()));
  return joins;
}

TEST(AgentFakeBroker, TwoBrokersOneSilentHeartbeatsToTheOtherKeepTheirInterval) {
  FakeAgentChannel live;
  FakeAgentChannel silent;
  SimulatedAgent sim(test_config({silent.endpoint(), live.endpoint()}));
  ASSERT_EQ(sim.agent.start(), std::nullopt);
  // The silent broker receives the join and never answers anything.
  ASSERT_TRUE(silent.next_of<JoinRequest>(kEventually).has_value());
  auto join = live.next_of<JoinRequest>(kEventually);
  ASSERT_TRUE(join.has_value());
  live.ack(*join);
  ASSERT_TRUE(sim.log.wait_for(AgentEvent::kJoined));
  // Four leases: one heartbeat to the live broker every interval, through
  // the silent one's loss and reconnections.
  const uint64_t beats = 4 * sim.config.lease_ms / sim.config.interval_ms;
  for (uint64_t i = 0; i < beats; ++i) {
    sim.advance(sim.config.interval_ms);
    auto beat = live.next(kEventually);
    ASSERT_TRUE(beat.has_value()) << "beat " << i;
    ASSERT_TRUE(std::holds_alternative<HeartbeatRequest>(beat->request)) << "beat " << i;
    live.ack(*beat);
    // Exactly one per interval.
    EXPECT_FALSE(live.next(milliseconds(5)).has_value()) << "beat " << i;
  }
  EXPECT_GE(sim.log.count(AgentEvent::kBrokerLost), 1u);
  for (const auto& change : sim.log.changes()) {
    if (change.event == AgentEvent::kBrokerLost) {
      EXPECT_EQ(change.broker, silent.endpoint());
    }
  }
  const AgentStatus status = sim.agent.status();
  EXPECT_EQ(status.phase, AgentPhase::kJoined);
  EXPECT_EQ(status.broker, live.endpoint());
  ASSERT_EQ(status.links.size(), 2u);
  EXPECT_EQ(status.links[0].broker, silent.endpoint());
  EXPECT_FALSE(status.links[0].up);
  EXPECT_GE(status.links[0].broker_losses, 1u);
  EXPECT_EQ(status.links[0].heartbeats_acked, 0u);
  EXPECT_EQ(status.links[1].broker, live.endpoint());
  EXPECT_TRUE(status.links[1].up);
  EXPECT_EQ(status.links[1].broker_losses, 0u);
  EXPECT_EQ(status.links[1].heartbeats_sent, beats);
  EXPECT_TRUE(wait_until([&] { return sim.agent.status().links[1].heartbeats_acked == beats; },
                         kEventually));
}

TEST(AgentFakeBroker, StopWithLeaveLeavesEveryBroker) {
  FakeAgentChannel a;
  FakeAgentChannel b;
  EventLog log;
  Agent agent(test_config({a.endpoint(), b.endpoint()}), log.callback());
  auto joins = join_all({&a, &b}, agent, log);
  ASSERT_EQ(joins.size(), 2u);
  std::thread stopper([&] { agent.stop(true); });
  auto leave_a = a.next_of<LeaveRequest>(kEventually);
  auto leave_b = b.next_of<LeaveRequest>(kEventually);
  ASSERT_TRUE(leave_a.has_value());
  ASSERT_TRUE(leave_b.has_value());
  EXPECT_EQ(inc_of(leave_a->request), inc_of(joins[0].request));
  EXPECT_EQ(inc_of(leave_b->request), inc_of(joins[0].request));
  a.ack(*leave_a);
  b.ack(*leave_b);
  stopper.join();
  EXPECT_EQ(log.count(AgentEvent::kLeft), 1u);
  EXPECT_EQ(log.count(AgentEvent::kBrokerDone), 2u);
  EXPECT_TRUE(is_terminal(log.changes().back().event));
  EXPECT_EQ(agent.status().phase, AgentPhase::kStopped);
}

TEST(AgentFakeBroker, RemovalAtOneBrokerLeavesTheOtherThenReportsRemoved) {
  FakeAgentChannel a;
  FakeAgentChannel b;
  SimulatedAgent sim(test_config({a.endpoint(), b.endpoint()}));
  join_all({&a, &b}, sim.agent, sim.log);
  sim.advance(sim.config.interval_ms);
  auto beat_a = a.next_of<HeartbeatRequest>(kEventually);
  auto beat_b = b.next_of<HeartbeatRequest>(kEventually);
  ASSERT_TRUE(beat_a.has_value());
  ASSERT_TRUE(beat_b.has_value());
  a.ack(*beat_a);
  b.refuse(*beat_b, ErrorCode::kRemoved);
  // Broker a is told goodbye before the agent reports the removal.
  auto leave = a.next_of<LeaveRequest>(kEventually);
  ASSERT_TRUE(leave.has_value());
  EXPECT_EQ(sim.log.count(AgentEvent::kRemoved), 0u);
  a.ack(*leave);
  ASSERT_TRUE(sim.log.wait_for(AgentEvent::kRemoved));
  EXPECT_EQ(last(sim.log, AgentEvent::kRemoved).broker, b.endpoint());
  EXPECT_TRUE(
      wait_until([&] { return sim.agent.status().phase == AgentPhase::kRemoved; }, kEventually));
  // Nothing more to either broker.
  sim.advance(10'000);
  EXPECT_FALSE(a.next(kQuiet).has_value());
  EXPECT_FALSE(b.next(kQuiet).has_value());
}

}  // namespace
}  // namespace roster::testing
