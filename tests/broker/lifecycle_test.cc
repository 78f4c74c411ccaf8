// Node lifecycles as a subscriber of the state channel sees them: every
// delta continues the view (contiguous versions), and each lifecycle shows
// up as the right sequence of states.
#include <gtest/gtest.h>

#include "roster/codec.h"
#include "roster/view.h"
#include "support/admin.h"
#include "support/agent_client.h"
#include "support/broker_process.h"
#include "support/messages.h"
#include "support/raw_sockets.h"

namespace roster::testing {
namespace {

// A subscriber that builds a View from the first snapshot and checks that
// every later delta continues it.
class Observer {
 public:
  explicit Observer(const std::string& endpoint) : watcher_(endpoint) {
    auto snapshot = watcher_.next_on(kTopicSnapshot);
    EXPECT_TRUE(snapshot) << "no snapshot after subscribing";
    if (!snapshot) return;
    auto decoded = decode_snapshot(snapshot->body);
    EXPECT_TRUE(decoded.ok());
    if (decoded.ok()) view_.reset(decoded.value());
  }

  bool ready() const { return view_.has_base(); }

  // Reads deltas until `node` reaches `final_state` or `timeout` passes;
  // returns every state `node` went through, in order.
  std::vector<NodeState> states_until(
      const std::string& node, NodeState final_state,
      std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    std::vector<NodeState> states;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto delta = next_delta(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
      if (!delta) break;
      for (const auto& record : delta->changes) {
        if (record.node == node) states.push_back(record.state);
      }
      if (!states.empty() && states.back() == final_state) break;
    }
    return states;
  }

  // The next delta; fails the test if it does not continue the view.
  std::optional<Delta> next_delta(std::chrono::milliseconds timeout) {
    auto message = watcher_.next_on(kTopicDelta, timeout);
    if (!message) return std::nullopt;
    auto decoded = decode_delta(message->body);
    EXPECT_TRUE(decoded.ok()) << decoded.error().message;
    if (!decoded.ok()) return std::nullopt;
    auto result = view_.apply(decoded.value());
    EXPECT_EQ(result, View::ApplyResult::kApplied)
        << "delta " << decoded.value().version << " (prev " << decoded.value().prev_version
        << ") does not continue the view at " << view_.version();
    return decoded.value();
  }

  const View& view() const { return view_; }

 private:
  StateReader watcher_;
  View view_;
};

// A broker with short lease timers.
class LifecycleBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ =
        BrokerProcess::start({"--min-lease", "100ms", "--dead-after", "200ms",
                              "--forget-dead-after", "200ms", "--forget-left-after", "200ms"});
    ASSERT_NE(broker_, nullptr);
  }
  std::unique_ptr<BrokerProcess> broker_;
};

// That broker, an Observer that has its first snapshot, and one agent client.
class LifecycleTest : public LifecycleBrokerTest {
 protected:
  void SetUp() override {
    LifecycleBrokerTest::SetUp();
    if (HasFatalFailure()) return;
    observer_ = std::make_unique<Observer>(broker_->endpoints().publish);
    ASSERT_TRUE(observer_->ready());
    agent_ = std::make_unique<AgentClient>(broker_->endpoints().agents);
  }
  std::unique_ptr<Observer> observer_;
  std::unique_ptr<AgentClient> agent_;
};

TEST_F(LifecycleTest, LeaseExpiryIsSeenAsSuspectDeadRemoved) {
  ASSERT_EQ(error_code(agent_->join("n1", 1, 100)), std::nullopt);
  auto states = observer_->states_until("n1", NodeState::kRemoved);
  std::vector<NodeState> expected = {NodeState::kAlive, NodeState::kSuspect, NodeState::kDead,
                                     NodeState::kRemoved};
  EXPECT_EQ(states, expected);
  EXPECT_EQ(observer_->view().nodes().count("n1"), 0u);
}

TEST_F(LifecycleTest, LeaveIsSeenAsLeftThenRemoved) {
  ASSERT_EQ(error_code(agent_->join("n1", 1, 10'000)), std::nullopt);
  ASSERT_EQ(error_code(agent_->leave("n1", 1)), std::nullopt);
  auto states = observer_->states_until("n1", NodeState::kRemoved);
  // The join and the leave may land in one batch: then only `left` shows.
  if (!states.empty() && states.front() == NodeState::kAlive) states.erase(states.begin());
  std::vector<NodeState> expected = {NodeState::kLeft, NodeState::kRemoved};
  EXPECT_EQ(states, expected);
}

TEST_F(LifecycleTest, OperatorRemovalIsPublishedAndRefusesTheNextHeartbeat) {
  AdminClient admin(broker_->endpoints().admin);
  ASSERT_EQ(error_code(agent_->join("n1", 3, 10'000)), std::nullopt);
  ASSERT_EQ(observer_->states_until("n1", NodeState::kAlive).back(), NodeState::kAlive);

  auto reply = admin.call(RemoveCommand{"n1", std::nullopt});
  ASSERT_TRUE(reply);
  auto* removed = std::get_if<RemovedReply>(&*reply);
  ASSERT_NE(removed, nullptr) << describe(*reply);
  EXPECT_EQ(removed->node, "n1");
  EXPECT_EQ(removed->inc, 3u);

  auto delta = observer_->next_delta(kReplyTimeout);
  ASSERT_TRUE(delta);
  EXPECT_EQ(delta->version, removed->version);
  ASSERT_EQ(delta->changes.size(), 1u);
  EXPECT_EQ(delta->changes[0].node, "n1");
  EXPECT_EQ(delta->changes[0].inc, 3u);
  EXPECT_EQ(delta->changes[0].state, NodeState::kRemoved);

  EXPECT_EQ(error_code(agent_->heartbeat("n1", 3)), ErrorCode::kRemoved);
  // A new incarnation may join again.
  EXPECT_EQ(error_code(agent_->join("n1", 4, 10'000)), std::nullopt);
}

TEST_F(LifecycleBrokerTest, RemovingAnUnknownNodeIsUnknownNode) {
  AdminClient admin(broker_->endpoints().admin);
  EXPECT_EQ(error_code(admin.call(RemoveCommand{"ghost", std::nullopt})), ErrorCode::kUnknownNode);
}

TEST_F(LifecycleTest, HeartbeatsKeepANodeAlive) {
  AgentClient other(broker_->endpoints().agents);
  ASSERT_EQ(error_code(agent_->join("steady", 1, 1'000)), std::nullopt);
  ASSERT_EQ(error_code(other.join("dies", 1, 100)), std::nullopt);
  // Heartbeat "steady" every ~100 ms until "dies" has gone all the way.
  std::vector<NodeState> steady_states;
  bool gone = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!gone && std::chrono::steady_clock::now() < deadline) {
    ASSERT_EQ(error_code(agent_->heartbeat("steady", 1)), std::nullopt);
    while (auto delta = observer_->next_delta(std::chrono::milliseconds(100))) {
      for (const auto& r : delta->changes) {
        if (r.node == "steady") steady_states.push_back(r.state);
        if (r.node == "dies" && r.state == NodeState::kRemoved) gone = true;
      }
    }
  }
  EXPECT_TRUE(gone);
  for (NodeState state : steady_states) EXPECT_EQ(state, NodeState::kAlive);
}

}  // namespace
}  // namespace roster::testing
