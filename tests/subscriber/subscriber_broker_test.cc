// roster::Subscriber against a real roster-broker process: agents are raw
// DEALERs speaking the protocol through the codec; the truth is the broker's
// admin snapshot.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <variant>

#include "roster/subscriber.h"
#include "support/admin.h"
#include "support/agent_client.h"
#include "support/broker_process.h"
#include "support/callback_recorder.h"

namespace roster {
namespace {

using testing::admin_call;
using testing::admin_snapshot;
using testing::AgentClient;
using testing::BrokerProcess;
using testing::wait_until;
using namespace std::chrono_literals;

constexpr uint64_t kBeatMs = 100;
constexpr uint64_t kLongLeaseMs = 60'000;  // no expiry while a test runs
// Joins published while the subscriber is blocked (see MissedDeltas...).
constexpr int kMissedDeltasJoins = 14'000;

// Fast beats so staleness and epoch changes show quickly.
std::vector<std::string> broker_args() {
  return {"--beat-interval", "100ms"};
}

// Records what the callbacks said (they run on the subscriber's thread).
// Holds the subscriber's callback thread at a change until the test opens
// the gate: meanwhile the broker publishes past every buffer.
class CallbackGate {
 public:
  // Called by a callback that holds `lock` on mutex(): says it is held,
  // then waits until open().
  void hold(std::unique_lock<std::mutex>& lock) {
    held_ = true;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
  }
  // Waits up to `timeout` for a callback to be held.
  bool wait_held(std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return held_; });
  }
  void open() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      open_ = true;
    }
    cv_.notify_all();
  }
  // Guards the gate, and whatever the callbacks record beside it.
  std::mutex& mutex() { return mutex_; }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool held_ = false;
  bool open_ = false;
};

// Joins `node` and waits until the subscriber's callback is held by `gate`
// (at that join's change, the first the subscriber sees).
void join_and_hold(AgentClient& agent, CallbackGate& gate, const std::string& node) {
  ASSERT_TRUE(agent.join(node, 1, kLongLeaseMs));
  ASSERT_TRUE(gate.wait_held(20s));
}

// Joins kMissedDeltasJoins nodes, each with `pads` labels of 250 bytes, so
// that their deltas overflow the broker's XPUB high-water mark (10000
// messages) and the small TCP buffers of a blocked subscriber.
void flood_joins(AgentClient& agent, int pads) {
  Labels labels;
  for (int i = 0; i < pads; ++i) labels["pad" + std::to_string(i)] = std::string(250, 'x');
  for (int i = 0; i < kMissedDeltasJoins; ++i) {
    ASSERT_TRUE(agent.join("n" + std::to_string(i), 1, kLongLeaseMs, "", labels));
  }
}

// A started subscriber with `options` and `callbacks` once it is synced;
// nullptr (and a test failure) if it cannot be created or does not sync
// within 20 s.
std::unique_ptr<Subscriber> start_synced(const SubscriberOptions& options,
                                         const SubscriberCallbacks& callbacks) {
  auto sub = Subscriber::create(options, callbacks);
  if (!sub || !sub->start()) {
    ADD_FAILURE() << "cannot start the subscriber";
    return nullptr;
  }
  if (!wait_until([&] { return sub->synced(); }, 20s)) {
    ADD_FAILURE() << "the subscriber did not sync";
    return nullptr;
  }
  return sub;
}

SubscriberOptions options_for(const BrokerProcess& broker) {
  SubscriberOptions options;
  options.state_endpoint = broker.endpoints().publish;
  options.admin_endpoint = broker.endpoints().admin;
  options.beat_interval_ms = kBeatMs;
  options.snapshot_timeout_ms = 1'000;
  return options;
}

// options_for(broker) with a receive queue of one message and 4 KiB of
// kernel buffer, so that a blocked subscriber misses deltas soon.
SubscriberOptions small_buffers_options_for(const BrokerProcess& broker) {
  SubscriberOptions options = options_for(broker);
  options.receive_hwm = 1;
  options.receive_buffer_bytes = 4096;
  return options;
}

// True when `view` holds exactly the broker's current admin snapshot.
bool view_matches_broker(const Subscriber& sub, const std::string& admin_endpoint) {
  auto truth = admin_snapshot(admin_endpoint);
  if (!truth) return false;
  View view = sub.view();
  if (!sub.synced() || view.epoch() != truth->epoch || view.version() != truth->version) {
    return false;
  }
  View expected;
  expected.reset(*truth);
  return view.nodes() == expected.nodes();
}

class SubscriberBrokerTest : public ::testing::Test {
 protected:
  // Starts a broker with broker_args() and a started subscriber of it whose
  // callbacks feed recorder_.
  void StartWithRecorder() {
    broker_ = BrokerProcess::start(broker_args());
    ASSERT_NE(broker_, nullptr);
    sub_ = Subscriber::create(options_for(*broker_), recorder_.callbacks());
    ASSERT_NE(sub_, nullptr);
    ASSERT_TRUE(sub_->start());
  }

  std::unique_ptr<BrokerProcess> broker_;
  testing::CallbackRecorder recorder_;
  std::unique_ptr<Subscriber> sub_;  // stopped before recorder_ goes
};

TEST_F(SubscriberBrokerTest, ViewEqualsTheAdminSnapshotAfterRandomChurn) {
  ASSERT_NO_FATAL_FAILURE(StartWithRecorder());

  AgentClient agent(broker_->endpoints().agents);
  const unsigned seed = std::random_device{}();
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937 random(seed);
  std::map<std::string, uint64_t> incs;  // node -> current incarnation
  for (int step = 0; step < 400; ++step) {
    const std::string node = "node-" + std::to_string(random() % 25);
    uint64_t& inc = incs[node];
    switch (random() % 5) {
      case 0:
      case 1:  // join, sometimes as a new incarnation (a restart)
        if (inc == 0 || random() % 3 == 0) ++inc;
        ASSERT_TRUE(agent.join(node, inc, kLongLeaseMs,
                               "10.0.0." + std::to_string(random() % 250) + ":80",
                               {{"zone", std::to_string(random() % 3)}}));
        break;
      case 2:
        ASSERT_TRUE(agent.heartbeat(node, inc));
        break;
      case 3:
        ASSERT_TRUE(agent.leave(node, inc));
        break;
      case 4:
        ASSERT_TRUE(admin_call(broker_->endpoints().admin, AdminRequest{RemoveCommand{node, {}}}));
        break;
    }
  }
  ASSERT_TRUE(wait_until([&] { return view_matches_broker(*sub_, broker_->endpoints().admin); },
                         30s, 20ms));
  sub_->stop();
  EXPECT_FALSE(recorder_.changes().empty());
  EXPECT_EQ(sub_->stats().bad_messages, 0u);
}

TEST_F(SubscriberBrokerTest, MissedDeltasAreDetectedAndRepaired) {
  auto broker = BrokerProcess::start(broker_args());
  ASSERT_NE(broker, nullptr);
  SubscriberOptions options = small_buffers_options_for(*broker);
  // The first change holds the subscriber's thread.
  CallbackGate gate;
  SubscriberCallbacks callbacks;
  callbacks.on_change = [&](const NodeChange&) {
    std::unique_lock<std::mutex> lock(gate.mutex());
    gate.hold(lock);
  };
  auto sub = start_synced(options, callbacks);
  ASSERT_NE(sub, nullptr);

  AgentClient agent(broker->endpoints().agents);
  ASSERT_NO_FATAL_FAILURE(join_and_hold(agent, gate, "first"));
  // About 1 KiB per delta, to fill the kernel's buffers sooner.
  ASSERT_NO_FATAL_FAILURE(flood_joins(agent, 4));
  gate.open();
  ASSERT_TRUE(
      wait_until([&] { return view_matches_broker(*sub, broker->endpoints().admin); }, 60s, 200ms));
  sub->stop();
  EXPECT_GE(sub->stats().gaps, 1u);
  EXPECT_GE(sub->stats().resyncs, 2u);
}

// Issue 11, item 4. The broker warms up for a minute (--max-lease 60s), so
// every snapshot says complete: false. The subscriber is blocked while a
// flood of joins overflows every buffer between it and the broker, and
// meanwhile a node it holds leaves and is forgotten (--forget-left-after
// 1s). After the gap resync from an incomplete snapshot of the same epoch,
// that node must be reported removed, not held over as a zombie.
TEST_F(SubscriberBrokerTest, NodeForgottenDuringAGapIsRemovedWhileTheBrokerWarmsUp) {
  auto broker = BrokerProcess::start(
      {"--beat-interval", "100ms", "--max-lease", "60s", "--forget-left-after", "1s"});
  ASSERT_NE(broker, nullptr);
  SubscriberOptions options = small_buffers_options_for(*broker);
  CallbackGate gate;
  std::mutex& mutex = gate.mutex();
  // What the controller was told: node -> state, built from on_change only.
  std::map<std::string, NodeState> told;
  std::vector<ResyncReason> resyncs;
  SubscriberCallbacks callbacks;
  callbacks.on_change = [&](const NodeChange& change) {
    std::unique_lock<std::mutex> lock(mutex);
    if (change.record.state == NodeState::kRemoved) {
      told.erase(change.record.node);
    } else {
      told[change.record.node] = change.record.state;
    }
    // The first change ("gone" joins) holds the subscriber's thread.
    gate.hold(lock);
  };
  callbacks.on_resync = [&](const View&, ResyncReason reason) {
    std::lock_guard<std::mutex> lock(mutex);
    resyncs.push_back(reason);
  };
  auto sub = start_synced(options, callbacks);
  ASSERT_NE(sub, nullptr);

  AgentClient agent(broker->endpoints().agents);
  ASSERT_NO_FATAL_FAILURE(join_and_hold(agent, gate, "gone"));
  ASSERT_EQ(sub->view().nodes().count("gone"), 1u);
  // Past the broker's XPUB high-water mark (10,000 messages) and the TCP
  // buffers (about 2 KiB per delta, so the sender's few MiB hold about two
  // thousand), so the deltas that follow (the leave and the forgetting)
  // are dropped.
  ASSERT_NO_FATAL_FAILURE(flood_joins(agent, 8));
  ASSERT_TRUE(agent.leave("gone", 1));
  ASSERT_TRUE(wait_until(
      [&] {
        auto truth = admin_snapshot(broker->endpoints().admin);
        return truth && !truth->complete &&
               std::none_of(truth->nodes.begin(), truth->nodes.end(),
                            [](const NodeRecord& r) { return r.node == "gone"; });
      },
      20s, 50ms))
      << "the broker did not forget the node";
  gate.open();

  ASSERT_TRUE(
      wait_until([&] { return view_matches_broker(*sub, broker->endpoints().admin); }, 60s, 200ms));
  EXPECT_FALSE(sub->view().complete());  // the resync took a warming-up snapshot
  EXPECT_GE(sub->stats().gaps, 1u);
  // Every change the resync found has been reported once the callbacks ran.
  const View view = sub->view();
  const bool told_the_view = wait_until(
      [&] {
        std::lock_guard<std::mutex> lock(mutex);
        return told.size() == view.nodes().size();
      },
      5s, 20ms);
  sub->stop();
  std::lock_guard<std::mutex> lock(mutex);
  EXPECT_NE(std::find(resyncs.begin(), resyncs.end(), ResyncReason::kGap), resyncs.end());
  EXPECT_EQ(told.count("gone"), 0u) << "a forgotten node is still alive for the controller";
  EXPECT_TRUE(told_the_view) << told.size() << " nodes told, " << view.nodes().size()
                             << " in the view";
}

TEST_F(SubscriberBrokerTest, BrokerRestartMakesSubscribersResync) {
  ASSERT_NO_FATAL_FAILURE(StartWithRecorder());
  {
    AgentClient agent(broker_->endpoints().agents);
    ASSERT_TRUE(agent.join("old-life", 1, kLongLeaseMs));
  }
  ASSERT_TRUE(wait_until([&] { return sub_->view().nodes().count("old-life") == 1; }, 20s));
  const uint64_t old_epoch = sub_->view().epoch();

  auto args = broker_->same_endpoint_args();
  broker_->process().signal(SIGKILL);
  ASSERT_TRUE(broker_->process().wait_exit(10s));
  std::vector<std::string> restart_args = broker_args();
  restart_args.insert(restart_args.end(), args.begin(), args.end());
  auto restarted = BrokerProcess::start(restart_args);
  ASSERT_NE(restarted, nullptr);

  ASSERT_TRUE(wait_until([&] { return view_matches_broker(*sub_, restarted->endpoints().admin); },
                         30s, 20ms));
  EXPECT_NE(sub_->view().epoch(), old_epoch);
  EXPECT_EQ(sub_->view().nodes().count("old-life"), 0u);
  const auto resyncs = recorder_.resyncs();
  EXPECT_NE(std::find(resyncs.begin(), resyncs.end(), ResyncReason::kEpochChange), resyncs.end());
  EXPECT_GE(sub_->stats().epoch_changes, 1u);
  // It follows the new broker's deltas.
  AgentClient agent(restarted->endpoints().agents);
  ASSERT_TRUE(agent.join("new-life", 1, kLongLeaseMs));
  ASSERT_TRUE(wait_until([&] { return sub_->view().nodes().count("new-life") == 1; }, 20s));
  sub_->stop();
}

TEST_F(SubscriberBrokerTest, StaleWhileTheBrokerIsStoppedFreshWhenItContinues) {
  ASSERT_NO_FATAL_FAILURE(StartWithRecorder());
  ASSERT_TRUE(wait_until([&] { return sub_->synced() && !sub_->stale(); }, 20s));

  broker_->process().signal(SIGSTOP);
  ASSERT_TRUE(wait_until([&] { return sub_->stale(); }, 20s));
  EXPECT_EQ(recorder_.stales().back(), true);
  EXPECT_TRUE(sub_->view().has_base());  // the last view is kept, flagged stale

  broker_->process().signal(SIGCONT);
  ASSERT_TRUE(wait_until([&] { return !sub_->stale(); }, 20s));
  const std::vector<bool> history = recorder_.stales();
  ASSERT_GE(history.size(), 2u);
  EXPECT_EQ(history[history.size() - 2], true);
  EXPECT_EQ(history.back(), false);
  EXPECT_GE(sub_->stats().stale_periods, 1u);
  sub_->stop();
}

}  // namespace
}  // namespace roster
