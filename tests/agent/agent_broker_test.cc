// roster-agent (and roster::Agent) against a real roster-broker process,
// observed the way a controller observes it: a SUB socket decoding deltas,
// and the admin channel.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <set>

#include "agent_process.h"
#include "event_log.h"
#include "roster/agent.h"
#include "roster/codec.h"
#include "support/admin.h"
#include "support/agent_client.h"
#include "support/broker_process.h"
#include "support/messages.h"
#include "support/process.h"
#include "support/state_watcher.h"

namespace roster::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kEventually = seconds(15);
// A SIGTERMed agent must be seen `left` by subscribers this fast. Sanitizers
// slow every process several times, so they get more room.
#ifdef ROSTER_TEST_SANITIZED
constexpr milliseconds kLeftSeenWithin{500};
constexpr double kSlowdown = 2.0;
#else
constexpr milliseconds kLeftSeenWithin{100};
constexpr double kSlowdown = 1.0;
#endif

// An endpoint nothing listens on: bind an ephemeral port, then release it.
std::string dead_endpoint() {
  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::router);
  socket.set(zmq::sockopt::linger, 0);
  socket.bind("tcp://127.0.0.1:*");
  return socket.get(zmq::sockopt::last_endpoint);
}

// One hour in the nanoseconds of a wall-clock incarnation.
constexpr uint64_t kHourNs = 3'600'000'000'000ull;

uint64_t wall_clock_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// How many replies with `code` the broker has sent (admin `stats`).
uint64_t errors_sent(AdminClient& admin, ErrorCode code) {
  auto reply = admin.call(StatsQuery{});
  const auto* stats = reply ? std::get_if<Stats>(&*reply) : nullptr;
  EXPECT_NE(stats, nullptr);
  if (stats == nullptr) return 0;
  auto it = stats->errors.find(std::string(to_string(code)));
  return it == stats->errors.end() ? 0 : it->second;
}

// Every incarnation roster-agent named in its log lines ("agent N inc I:").
std::set<uint64_t> logged_incarnations(const std::string& output) {
  static const std::string kInc = " inc ";
  std::set<uint64_t> incs;
  for (size_t at = output.find(kInc); at != std::string::npos; at = output.find(kInc, at + 1)) {
    const size_t digits = at + kInc.size();
    const size_t end = output.find_first_not_of("0123456789", digits);
    if (end == digits || end == std::string::npos || output[end] != ':') continue;
    incs.insert(std::stoull(output.substr(digits, end - digits)));
  }
  return incs;
}

class AgentBroker : public ::testing::Test {
 protected:
  void start_broker(const std::vector<std::string>& args = {}) {
    broker_ = BrokerProcess::start(args);
    ASSERT_NE(broker_, nullptr);
    watcher_ = std::make_unique<StateWatcher>(broker_->endpoints().publish);
    ASSERT_TRUE(watcher_->wait_live(kEventually));
  }

  // Starts roster-agent as `node_id` with the flags `extra` against
  // `brokers` (by default the broker's agent endpoint), and waits until the
  // watcher sees it alive; that delta is left in alive_. Returns the agent,
  // or null after a test failure (with the agent's output) if it did not
  // start or was not seen alive.
  std::unique_ptr<Process> start_alive_agent(const std::string& node_id,
                                             const std::vector<std::string>& extra,
                                             std::vector<std::string> brokers = {}) {
    if (brokers.empty()) brokers = {broker_->endpoints().agents};
    auto agent = start_agent(brokers, node_id, extra);
    if (agent == nullptr) {
      ADD_FAILURE() << "roster-agent " << node_id << " did not start";
      return nullptr;
    }
    alive_ = watcher_->wait_delta(node_id, NodeState::kAlive, kEventually);
    if (!alive_) {
      ADD_FAILURE() << node_id << " was not seen alive\n" << agent->output();
      return nullptr;
    }
    return agent;
  }

  std::unique_ptr<BrokerProcess> broker_;
  std::unique_ptr<StateWatcher> watcher_;
  std::optional<StateWatcher::Seen> alive_;
};

TEST_F(AgentBroker, JoinsAndStaysAliveForManyLeases) {
  start_broker();
  // A 1 s lease leaves room for a loaded machine to delay a heartbeat.
  auto agent = start_alive_agent("steady", {"--lease", "1s"});
  ASSERT_NE(agent, nullptr);
  // Six leases (18 heartbeats): never suspect, never anything but the one
  // alive record.
  const bool lapsed =
      wait_until([&] { return watcher_->first_delta("steady", NodeState::kSuspect).has_value(); },
                 milliseconds(6000));
  EXPECT_FALSE(lapsed) << agent->output();
  for (const auto& seen : watcher_->seen("steady")) {
    EXPECT_EQ(seen.record.state, NodeState::kAlive);
    EXPECT_EQ(seen.record.inc, alive_->record.inc);
  }
  AdminClient admin(broker_->endpoints().admin);
  auto record = admin.node("steady");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->state, NodeState::kAlive);
  EXPECT_EQ(record->lease_ms, 1000u);
  EXPECT_TRUE(agent->running());
}

TEST_F(AgentBroker, KilledAgentTurnsSuspectThenDead) {
  start_broker({"--dead-after", "500ms"});
  auto agent = start_alive_agent("doomed", {"--lease", "300ms"});
  ASSERT_NE(agent, nullptr);
  agent->signal(SIGKILL);
  auto suspect = watcher_->wait_delta("doomed", NodeState::kSuspect, kEventually);
  ASSERT_TRUE(suspect.has_value());
  auto dead = watcher_->wait_delta("doomed", NodeState::kDead, kEventually);
  ASSERT_TRUE(dead.has_value());
  EXPECT_LT(suspect->at, dead->at);
  EXPECT_FALSE(watcher_->first_delta("doomed", NodeState::kLeft).has_value());
}

TEST_F(AgentBroker, SigtermIsSeenAsLeftQuicklyAndExitsZero) {
  start_broker();
  auto agent = start_alive_agent("polite", {"--lease", "3s"});
  ASSERT_NE(agent, nullptr);
  const auto signalled = Clock::now();
  agent->signal(SIGTERM);
  auto left = watcher_->wait_delta("polite", NodeState::kLeft, kEventually);
  ASSERT_TRUE(left.has_value()) << agent->output();
  const auto took = std::chrono::duration_cast<milliseconds>(left->at - signalled);
  RecordProperty(
      "left_seen_after_sigterm_us",
      static_cast<int>(
          std::chrono::duration_cast<std::chrono::microseconds>(left->at - signalled).count()));
  EXPECT_LE(took, kLeftSeenWithin) << "left seen " << took.count() << " ms after SIGTERM";
  EXPECT_EQ(agent->wait_exit(kEventually), 0) << agent->output();
}

TEST_F(AgentBroker, SigintLeavesToo) {
  start_broker();
  auto agent = start_alive_agent("interrupted", {"--lease", "3s"});
  ASSERT_NE(agent, nullptr);
  agent->signal(SIGINT);
  EXPECT_TRUE(watcher_->wait_delta("interrupted", NodeState::kLeft, kEventually).has_value());
  EXPECT_EQ(agent->wait_exit(kEventually), 0) << agent->output();
}

TEST_F(AgentBroker, RestartedBrokerGetsTheNodeBackWithinTwoIntervals) {
  start_broker();
  const milliseconds interval{1000};
  auto agent = start_alive_agent("survivor", {"--lease", "3s", "--interval", "1s"});
  ASSERT_NE(agent, nullptr);
  const auto same_endpoints = broker_->same_endpoint_args();
  watcher_.reset();
  broker_->process().signal(SIGKILL);
  ASSERT_TRUE(broker_->process().wait_exit(kEventually).has_value());
  broker_.reset();

  broker_ = BrokerProcess::start(same_endpoints);
  ASSERT_NE(broker_, nullptr);
  const auto ready = Clock::now();
  AdminClient admin(broker_->endpoints().admin);
  std::optional<NodeRecord> record;
  ASSERT_TRUE(wait_until(
      [&] {
        record = admin.node("survivor");
        return record && record->state == NodeState::kAlive;
      },
      kEventually))
      << agent->output();
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - ready);
  RecordProperty("rejoined_after_broker_ready_ms", static_cast<int>(took.count()));
  EXPECT_LE(took.count(), 2 * interval.count() * kSlowdown)
      << "rejoined " << took.count() << " ms after the broker was back";
  EXPECT_TRUE(agent->running());
  // The broker acks before the agent logs: wait for the line, do not race it.
  EXPECT_TRUE(wait_until([&] { return agent->output().find("rejoined") != std::string::npos; },
                         kEventually))
      << agent->output();
}

TEST_F(AgentBroker, OperatorRemovalMakesTheAgentExitWithStatus3ForGood) {
  start_broker();
  auto agent = start_alive_agent("evicted", {"--lease", "600ms"});
  ASSERT_NE(agent, nullptr);

  AdminClient admin(broker_->endpoints().admin);
  auto reply = admin.call(RemoveCommand{"evicted", std::nullopt});
  ASSERT_TRUE(reply.has_value());
  ASSERT_TRUE(std::holds_alternative<RemovedReply>(*reply));
  EXPECT_EQ(agent->wait_exit(kEventually), 3) << agent->output();
  const auto exited = Clock::now();

  auto removed = watcher_->wait_delta("evicted", NodeState::kRemoved, kEventually);
  ASSERT_TRUE(removed.has_value());
  // Over two leases after the exit: the node never comes back.
  EXPECT_FALSE(wait_until(
      [&] {
        for (const auto& seen : watcher_->seen("evicted")) {
          if (seen.at > removed->at && seen.record.state != NodeState::kRemoved) return true;
        }
        return false;
      },
      milliseconds(1500)));
  EXPECT_GT(Clock::now() - exited, milliseconds(1200));
  EXPECT_FALSE(admin.node("evicted").has_value());
}

TEST_F(AgentBroker, FirstEndpointDownWorksThroughTheSecond) {
  start_broker();
  auto agent = start_alive_agent("failover", {"--lease", "1s", "--broker-mode", "failover"},
                                 {dead_endpoint(), broker_->endpoints().agents});
  ASSERT_NE(agent, nullptr);
  EXPECT_NE(agent->output().find("broker_lost"), std::string::npos) << agent->output();
  // And it stays there.
  EXPECT_FALSE(
      wait_until([&] { return watcher_->first_delta("failover", NodeState::kSuspect).has_value(); },
                 milliseconds(1500)));
}

TEST_F(AgentBroker, LabelUpdateReachesSubscribersAsADelta) {
  start_broker();
  AgentConfig config;
  config.brokers = {broker_->endpoints().agents};
  config.node_id = "relabelled";
  config.addr = "10.1.2.3:9000";
  config.labels = {{"zone", "a"}};
  config.lease_ms = 1000;
  EventLog log;
  Agent agent(config, log.callback());
  ASSERT_EQ(agent.start(), std::nullopt);
  auto before = watcher_->wait_delta("relabelled", NodeState::kAlive, kEventually);
  ASSERT_TRUE(before.has_value());
  EXPECT_EQ(before->record.labels, (Labels{{"zone", "a"}}));
  EXPECT_EQ(before->record.addr, "10.1.2.3:9000");

  ASSERT_EQ(agent.update_labels({{"zone", "b"}, {"tier", "gold"}}), std::nullopt);
  auto after =
      watcher_->wait_delta("relabelled", NodeState::kAlive, kEventually, [](const NodeRecord& r) {
        return r.labels == Labels{{"tier", "gold"}, {"zone", "b"}};
      });
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->record.inc, before->record.inc);
  EXPECT_EQ(after->record.addr, "10.1.2.3:9000");
  EXPECT_EQ(log.count(AgentEvent::kRejoined), 0u);

  agent.stop(true);
  EXPECT_EQ(log.count(AgentEvent::kLeft), 1u);
  EXPECT_TRUE(watcher_->wait_delta("relabelled", NodeState::kLeft, kEventually).has_value());
  EXPECT_EQ(watcher_->undecodable(), 0u);
}

// The scenario: the agent is paused (SIGSTOP: a GC pause, a VM
// migration, a partition) past lease + dead_after + forget_dead_after, so
// the broker forgets its incarnation. On resuming it must start a higher
// incarnation and carry on, not take itself for removed by the operator.
TEST_F(AgentBroker, PausedPastTheForgetTimersRejoinsWithAHigherIncarnation) {
  start_broker({"--max-lease", "1s", "--dead-after", "300ms", "--forget-dead-after", "300ms"});
  auto agent = start_alive_agent("paused", {"--lease", "500ms"});
  ASSERT_NE(agent, nullptr);

  agent->signal(SIGSTOP);
  // Suspect, dead, then forgotten: published as removed.
  auto forgotten = watcher_->wait_delta("paused", NodeState::kRemoved, kEventually);
  agent->signal(SIGCONT);
  ASSERT_TRUE(forgotten.has_value()) << agent->output();
  EXPECT_TRUE(watcher_->first_delta("paused", NodeState::kDead).has_value());

  const uint64_t old_inc = alive_->record.inc;
  auto back = watcher_->wait_delta("paused", NodeState::kAlive, kEventually,
                                   [&](const NodeRecord& r) { return r.inc > old_inc; });
  ASSERT_TRUE(back.has_value()) << agent->output();
  // It keeps running (the old agent exited 3 here).
  EXPECT_FALSE(agent->wait_exit(milliseconds(1000)).has_value()) << agent->output();
  AdminClient admin(broker_->endpoints().admin);
  auto record = admin.node("paused");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->state, NodeState::kAlive);
  EXPECT_EQ(record->inc, back->record.inc);
  EXPECT_EQ(agent->output().find("removed by the operator"), std::string::npos) << agent->output();
  EXPECT_EQ(errors_sent(admin, ErrorCode::kRemoved), 0u);
}

// Another process joins the agent's node id with a higher incarnation and
// keeps heartbeating it. The agent must neither fight for the id (the old
// agent took a new incarnation on every stale_incarnation: ~10,000 replies
// a second) nor climb incarnations; once the claimant is over, it comes back.
TEST_F(AgentBroker, HigherClaimantGetsNoTightLoopOfStaleIncarnations) {
  start_broker();
  auto agent = start_alive_agent("claimed", {"--lease", "1s"});
  ASSERT_NE(agent, nullptr);
  AdminClient admin(broker_->endpoints().admin);
  auto record = admin.node("claimed");
  ASSERT_TRUE(record.has_value());
  const uint64_t agent_inc = record->inc;

  // Another claimant of the node id (a hostile peer, or the node's own
  // earlier process).
  AgentClient claimant(broker_->endpoints().agents);
  const uint64_t claimed_inc = agent_inc + kHourNs;
  ASSERT_TRUE(is_ack(claimant.join("claimed", claimed_inc, 1000)));
  const uint64_t stale_before = errors_sent(admin, ErrorCode::kStaleIncarnation);
  const auto window = milliseconds(3000);
  const auto end = Clock::now() + window;
  while (Clock::now() < end) {
    ASSERT_TRUE(is_ack(claimant.heartbeat("claimed", claimed_inc)));
    wait_until([&] { return Clock::now() >= end; }, milliseconds(100));
  }
  const uint64_t stale = errors_sent(admin, ErrorCode::kStaleIncarnation) - stale_before;
  RecordProperty("stale_incarnation_replies_in_3s", static_cast<int>(stale));
  // Backoff from 100 ms doubling to the 1 s lease: about 6 in 3 s.
  EXPECT_LE(stale, 15u);
  EXPECT_GE(stale, 1u);
  record = admin.node("claimed");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->inc, claimed_inc);
  EXPECT_EQ(logged_incarnations(agent->output()), std::set<uint64_t>{agent_inc}) << agent->output();
  EXPECT_NE(agent->output().find(std::to_string(claimed_inc)), std::string::npos)
      << "the holder's incarnation is logged\n"
      << agent->output();

  // The claimant leaves: its incarnation is over, and the agent takes one
  // above it.
  ASSERT_TRUE(is_ack(claimant.leave("claimed", claimed_inc)));
  ASSERT_TRUE(wait_until(
      [&] {
        record = admin.node("claimed");
        return record && record->state == NodeState::kAlive && record->inc > claimed_inc;
      },
      kEventually))
      << agent->output();
  EXPECT_TRUE(agent->running()) << agent->output();
}

// An agent whose clock is behind its own previous incarnation (the earlier
// process ran with a clock an hour ahead, and crashed): it waits until that
// incarnation is over, then joins above it, instead of spinning.
TEST_F(AgentBroker, ClockBehindItsPreviousIncarnationConverges) {
  start_broker({"--max-lease", "1s", "--dead-after", "300ms", "--forget-dead-after", "300ms"});
  AdminClient admin(broker_->endpoints().admin);
  const uint64_t previous_inc = wall_clock_ns() + kHourNs;
  {
    AgentClient previous(broker_->endpoints().agents);
    ASSERT_TRUE(is_ack(previous.join("behind", previous_inc, 250)));
  }
  AgentConfig config;
  config.brokers = {broker_->endpoints().agents};
  config.node_id = "behind";
  config.lease_ms = 500;
  config.incarnation = wall_clock_ns();  // below the previous one
  EventLog log;
  Agent agent(config, log.callback());
  ASSERT_EQ(agent.start(), std::nullopt);
  std::optional<NodeRecord> record;
  ASSERT_TRUE(wait_until(
      [&] {
        record = admin.node("behind");
        return record && record->state == NodeState::kAlive && record->inc > previous_inc;
      },
      kEventually));
  // The broker records the join before its ack reaches the agent.
  EXPECT_TRUE(wait_until([&] { return agent.status().phase == AgentPhase::kJoined; }, kEventually))
      << to_string(agent.status().phase);
  EXPECT_EQ(agent.status().incarnation, record->inc);
  EXPECT_EQ(log.count(AgentEvent::kRemoved), 0u);
  EXPECT_LE(errors_sent(admin, ErrorCode::kStaleIncarnation), 15u);
  agent.stop(true);
}

// Two roster-agent processes with one node id (a copy-pasted config). The
// later one (higher incarnation) takes the node at once; the earlier one
// does not take it back and, the holder being live for longer than its
// lease + dead-after, exits 4. The broker names both peers, and a
// subscriber sees the node change hands once instead of flapping. (The old
// agent retried forever.)
TEST_F(AgentBroker, SecondAgentWithTheSameNodeIdMakesTheFirstExitFour) {
  start_broker({"--dead-after", "1s"});
  const std::vector<std::string> flags = {"--lease", "1s", "--dead-after", "1s"};
  auto first = start_alive_agent("twin", flags);
  ASSERT_NE(first, nullptr);
  const uint64_t first_inc = alive_->record.inc;
  auto second = start_agent({broker_->endpoints().agents}, "twin", flags);
  ASSERT_NE(second, nullptr);
  auto taken = watcher_->wait_delta("twin", NodeState::kAlive, kEventually,
                                    [&](const NodeRecord& r) { return r.inc > first_inc; });
  ASSERT_TRUE(taken.has_value()) << second->output();
  const uint64_t second_inc = taken->record.inc;

  // lease 1 s + dead-after 1 s + 0.5 s grace, and room for a loaded machine.
  const auto exit_within = milliseconds(static_cast<int64_t>(4000 * kSlowdown));
  EXPECT_EQ(first->wait_exit(kEventually), 4) << first->output();
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - taken->at);
  RecordProperty("duplicate_exit_after_takeover_ms", static_cast<int>(took.count()));
  EXPECT_LE(took, exit_within) << first->output();
  EXPECT_GE(took, milliseconds(2000)) << "gave up before lease + dead-after\n" << first->output();
  EXPECT_NE(first->output().find("another agent holds node id twin"), std::string::npos)
      << first->output();
  EXPECT_EQ(logged_incarnations(first->output()), std::set<uint64_t>{first_inc}) << first->output();
  EXPECT_TRUE(wait_until(
      [&] {
        return broker_->process().output().find("two agents claim node id twin") !=
               std::string::npos;
      },
      kEventually))
      << broker_->process().output();

  // Two more leases: the later agent keeps the node, and the subscriber saw
  // it change hands once.
  EXPECT_FALSE(wait_until(
      [&] {
        for (const auto& seen : watcher_->seen("twin")) {
          if (seen.record.state != NodeState::kAlive) return true;
        }
        return false;
      },
      milliseconds(2000)));
  size_t changes_of_hands = 0;
  uint64_t inc = first_inc;
  for (const auto& seen : watcher_->seen("twin")) {
    if (seen.record.inc != inc) ++changes_of_hands;
    inc = seen.record.inc;
  }
  EXPECT_EQ(changes_of_hands, 1u);
  EXPECT_EQ(inc, second_inc);
  EXPECT_TRUE(second->running()) << second->output();
}

}  // namespace
}  // namespace roster::testing
