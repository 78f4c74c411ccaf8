// roster-agent with two real roster-broker processes (--broker A --broker
// B): in the default mode (all) each broker observes the node directly, so
// losing one broker changes nothing in the other's view; an operator
// removal at either fences the agent. --broker-mode failover keeps the old
// one-broker-at-a-time behaviour.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "agent_process.h"
#include "support/admin.h"
#include "support/broker_process.h"
#include "support/process.h"
#include "support/state_watcher.h"

namespace roster::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr milliseconds kEventually = seconds(15);
#ifdef ROSTER_TEST_SANITIZED
constexpr double kSlowdown = 2.0;
#else
constexpr double kSlowdown = 1.0;
#endif

milliseconds scaled(int64_t ms) {
  return milliseconds(static_cast<int64_t>(static_cast<double>(ms) * kSlowdown));
}

// One broker and a subscriber's view of it.
struct ObservedBroker {
  std::unique_ptr<BrokerProcess> broker;
  std::unique_ptr<StateWatcher> watcher;
  std::vector<std::string> same_endpoints;

  // Starts a broker (with `args`) and a watcher on it.
  static ObservedBroker start(const std::vector<std::string>& args = {}) {
    ObservedBroker observed;
    observed.broker = BrokerProcess::start(args);
    if (observed.broker == nullptr) return observed;
    observed.same_endpoints = observed.broker->same_endpoint_args();
    observed.watcher = std::make_unique<StateWatcher>(observed.broker->endpoints().publish);
    EXPECT_TRUE(observed.watcher->wait_live(kEventually));
    return observed;
  }
  const std::string& agents() const { return broker->endpoints().agents; }
  const std::string& admin() const { return broker->endpoints().admin; }
  // SIGKILLs the broker and drops the watcher.
  void kill() {
    watcher.reset();
    broker->process().signal(SIGKILL);
    EXPECT_TRUE(broker->process().wait_exit(kEventually).has_value());
    broker.reset();
  }
  // Starts it again on the same endpoints, with a new watcher.
  void restart() {
    broker = BrokerProcess::start(same_endpoints);
    ASSERT_NE(broker, nullptr);
    watcher = std::make_unique<StateWatcher>(broker->endpoints().publish);
    EXPECT_TRUE(watcher->wait_live(kEventually));
  }
  // True once the broker's subscriber has seen `node` in `state`.
  bool seen(const std::string& node, NodeState state) const {
    return watcher->first_delta(node, state).has_value();
  }
};

// Whether `broker` holds `node` alive now (admin `node`).
bool alive_at(const std::string& admin, const std::string& node) {
  auto reply = admin_call(admin, NodeQuery{node});
  const auto* info = reply ? std::get_if<NodeInfo>(&*reply) : nullptr;
  return info != nullptr && info->record.state == NodeState::kAlive;
}

TEST(AgentTwoBrokers, AgentIsAliveOnBothBrokersWithOneIncarnation) {
  auto a = ObservedBroker::start();
  auto b = ObservedBroker::start();
  ASSERT_NE(a.broker, nullptr);
  ASSERT_NE(b.broker, nullptr);
  auto agent = start_agent({a.agents(), b.agents()}, "both", {"--lease", "1s"});
  ASSERT_NE(agent, nullptr);
  auto at_a = a.watcher->wait_delta("both", NodeState::kAlive, kEventually);
  auto at_b = b.watcher->wait_delta("both", NodeState::kAlive, kEventually);
  ASSERT_TRUE(at_a.has_value()) << agent->output();
  ASSERT_TRUE(at_b.has_value()) << agent->output();
  EXPECT_EQ(at_a->record.inc, at_b->record.inc);
  EXPECT_EQ(agent->stop(kEventually), 0) << agent->output();
  // The leave reached both.
  EXPECT_TRUE(a.watcher->wait_delta("both", NodeState::kLeft, kEventually).has_value());
  EXPECT_TRUE(b.watcher->wait_delta("both", NodeState::kLeft, kEventually).has_value());
}

// SIGKILL one broker: the other never suspects the node (the old agent
// heartbeated only the first and reached the second a lease later, so the
// second saw the node only after a failover). Restart the killed one: the
// agent joins it again.
TEST(AgentTwoBrokers, KilledBrokerNeverMakesTheOtherSuspectAndIsRejoinedWhenBack) {
  auto a = ObservedBroker::start();
  auto b = ObservedBroker::start();
  ASSERT_NE(a.broker, nullptr);
  ASSERT_NE(b.broker, nullptr);
  auto agent = start_agent({a.agents(), b.agents()}, "steady", {"--lease", "1s"});
  ASSERT_NE(agent, nullptr);
  ASSERT_TRUE(a.watcher->wait_delta("steady", NodeState::kAlive, kEventually).has_value());
  ASSERT_TRUE(b.watcher->wait_delta("steady", NodeState::kAlive, kEventually).has_value())
      << agent->output();

  a.kill();
  // Three leases without broker a: b's view never changes.
  EXPECT_FALSE(wait_until(
      [&] {
        for (const auto& seen : b.watcher->seen("steady")) {
          if (seen.record.state != NodeState::kAlive) return true;
        }
        return false;
      },
      milliseconds(3000)))
      << agent->output();
  EXPECT_TRUE(alive_at(b.admin(), "steady"));

  a.restart();
  const auto back = Clock::now();
  ASSERT_TRUE(wait_until([&] { return alive_at(a.admin(), "steady"); }, kEventually))
      << agent->output();
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - back);
  RecordProperty("rejoined_restarted_broker_ms", static_cast<int>(took.count()));
  // A lease to notice the loss has passed long ago; the reconnection
  // backoff is at most a lease (1 s).
  EXPECT_LE(took, scaled(3000));
  EXPECT_TRUE(agent->running()) << agent->output();
  EXPECT_FALSE(b.seen("steady", NodeState::kSuspect));
}

// An operator removal at the live broker while the other is down: removed
// there at once, the agent exits 3 (after trying to leave the down broker
// for at most --leave-timeout), and the down broker, once restarted, never
// shows the node alive.
TEST(AgentTwoBrokers, RemovalWhileTheOtherBrokerIsDownFencesTheAgentEverywhere) {
  auto a = ObservedBroker::start();
  auto b = ObservedBroker::start();
  ASSERT_NE(a.broker, nullptr);
  ASSERT_NE(b.broker, nullptr);
  auto agent = start_agent({a.agents(), b.agents()}, "evicted",
                           {"--lease", "1s", "--leave-timeout", "500ms"});
  ASSERT_NE(agent, nullptr);
  ASSERT_TRUE(a.watcher->wait_delta("evicted", NodeState::kAlive, kEventually).has_value());
  ASSERT_TRUE(b.watcher->wait_delta("evicted", NodeState::kAlive, kEventually).has_value());

  b.kill();
  AdminClient admin(a.admin());
  auto reply = admin.call(RemoveCommand{"evicted", std::nullopt});
  ASSERT_TRUE(reply.has_value());
  ASSERT_TRUE(std::holds_alternative<RemovedReply>(*reply));
  const auto removed_at = Clock::now();
  EXPECT_TRUE(a.watcher->wait_delta("evicted", NodeState::kRemoved, kEventually).has_value());
  EXPECT_EQ(agent->wait_exit(kEventually), 3) << agent->output();
  const auto took = std::chrono::duration_cast<milliseconds>(Clock::now() - removed_at);
  RecordProperty("exit_after_removal_ms", static_cast<int>(took.count()));
  // The next heartbeat (a third of a lease) plus the leave timeout for b.
  EXPECT_LE(took, scaled(3000)) << agent->output();
  EXPECT_NE(agent->output().find("removed"), std::string::npos) << agent->output();

  b.restart();
  // Two leases after b is back: the node never shows up there.
  EXPECT_FALSE(wait_until(
      [&] { return !b.watcher->seen("evicted").empty() || alive_at(b.admin(), "evicted"); },
      milliseconds(2000)));
  EXPECT_FALSE(admin.node("evicted").has_value());
}

// --broker-mode failover: one broker at a time, the second only after the
// first is lost.
TEST(AgentTwoBrokers, FailoverModeHeartbeatsOneBrokerAtATime) {
  auto a = ObservedBroker::start();
  auto b = ObservedBroker::start();
  ASSERT_NE(a.broker, nullptr);
  ASSERT_NE(b.broker, nullptr);
  auto agent = start_agent({a.agents(), b.agents()}, "single",
                           {"--lease", "1s", "--broker-mode", "failover"});
  ASSERT_NE(agent, nullptr);
  ASSERT_TRUE(a.watcher->wait_delta("single", NodeState::kAlive, kEventually).has_value());
  EXPECT_FALSE(wait_until([&] { return alive_at(b.admin(), "single"); }, milliseconds(1500)));
  a.kill();
  EXPECT_TRUE(b.watcher->wait_delta("single", NodeState::kAlive, kEventually).has_value())
      << agent->output();
  EXPECT_NE(agent->output().find("broker_lost"), std::string::npos) << agent->output();
}

}  // namespace
}  // namespace roster::testing
