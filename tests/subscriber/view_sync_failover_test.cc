// The subscriber's failover between redundant brokers, without sockets and
// with simulated times: which broker it follows, when it switches, what it
// reports when the next broker's snapshot replaces the view (only real
// differences), and when the view is stale (only when no broker is heard).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/messages.h"
#include "view_sync.h"
#include "view_sync_driver.h"

namespace roster::subscriber {
namespace {

using testing::alive;
using testing::beat;
using testing::delta;
using testing::in_state;
using testing::snapshot;

constexpr TimeMs kStart = 1'000'000;
constexpr TimeMs kBeat = 100;
constexpr TimeMs kWindow = 3 * kBeat;  // stale_after_beats beat intervals

// `record` as a broker that saw it enter its state at `since_ms` holds it.
NodeRecord seen_since(NodeRecord record, uint64_t since_ms) {
  record.since_ms = since_ms;
  return record;
}

SubscriberOptions options_for(size_t brokers) {
  SubscriberOptions o;
  o.beat_interval_ms = kBeat;
  o.stale_after_beats = 3;
  o.snapshot_timeout_ms = 500;
  for (size_t i = 0; i < brokers; ++i) {
    const std::string n = std::to_string(i);
    o.brokers.push_back({"inproc://state-" + n, "inproc://admin-" + n});
  }
  return o;
}

// A subscriber of a redundant pair, synced to broker 0 (epoch 1, version 5)
// with a and b alive.
class ViewSyncFailoverTest : public ViewSyncDriver {
 protected:
  explicit ViewSyncFailoverTest(size_t brokers = 2) : ViewSyncDriver(options_for(brokers), kStart) {
    SyncOutput out;
    sync_.start(now_, out);
    sync_.on_admin_snapshot(
        snapshot(1, 5, {seen_since(alive("a"), 10), seen_since(alive("b"), 11)}), now_, out);
  }

  // Lets `ms` pass and runs the timers.
  SyncOutput advance(TimeMs ms) {
    now_ += ms;
    SyncOutput out;
    sync_.tick(now_, out);
    return out;
  }
};

TEST_F(ViewSyncFailoverTest, FollowsTheFirstBrokerAtStart) {
  EXPECT_EQ(sync_.following(), 0u);
  EXPECT_TRUE(sync_.synced());
  EXPECT_EQ(sync_.stats().failovers, 0u);
}

TEST_F(ViewSyncFailoverTest, SilentBrokerIsLeftForTheNextAfterOneWindowWithoutGoingStale) {
  SyncOutput early = advance(kWindow - 1);
  EXPECT_FALSE(early.switch_broker);
  SyncOutput out = advance(1);
  EXPECT_TRUE(out.switch_broker);
  EXPECT_TRUE(out.request_snapshot);  // the next broker's snapshot
  EXPECT_EQ(sync_.following(), 1u);
  EXPECT_EQ(sync_.stats().failovers, 1u);
  EXPECT_EQ(sync_.stats().broker_index, 1u);
  EXPECT_TRUE(stales_of(out).empty()) << "another broker may still be heard";
  EXPECT_FALSE(sync_.stale());
  EXPECT_FALSE(sync_.synced());
  // The view stays readable while the next snapshot is awaited.
  EXPECT_EQ(sync_.view().nodes().size(), 2u);
}

TEST_F(ViewSyncFailoverTest, FailoverToAWarmBrokerReportsNoChange) {
  advance(kWindow);
  ASSERT_EQ(sync_.following(), 1u);
  // The other broker saw the same nodes, under its own epoch and times.
  SyncOutput out =
      admin(snapshot(7, 40, {seen_since(alive("a"), 20), seen_since(alive("b"), 21)}, true));
  EXPECT_EQ(resyncs_of(out), std::vector<ResyncReason>{ResyncReason::kFailover});
  EXPECT_TRUE(changes_of(out).empty());
  EXPECT_EQ(sync_.view().epoch(), 7u);
  EXPECT_EQ(sync_.view().version(), 40u);
  EXPECT_EQ(sync_.view().nodes().at("a").since_ms, 20u);  // the view is the new broker's
  // And it follows that broker's deltas from there.
  SyncOutput next = feed(delta(7, 41, {in_state(alive("b"), NodeState::kSuspect)}));
  ASSERT_EQ(changes_of(next).size(), 1u);
  EXPECT_EQ(changes_of(next)[0].record.state, NodeState::kSuspect);
}

TEST_F(ViewSyncFailoverTest, FailoverToAWarmingUpBrokerHoldsOverTheNodesItLacks) {
  advance(kWindow);
  // Restarted not long ago: it has heard only from a so far.
  SyncOutput out = admin(snapshot(9, 2, {seen_since(alive("a"), 30)}, false));
  EXPECT_TRUE(changes_of(out).empty()) << "b is held over, not removed";
  // b's agent reaches it: the same record, seen since another time.
  SyncOutput back = feed(delta(9, 3, {seen_since(alive("b"), 31)}));
  EXPECT_TRUE(changes_of(back).empty());
  EXPECT_EQ(sync_.view().nodes().count("b"), 1u);
  // Warm-up over: nothing left over to report.
  SyncOutput done =
      published(snapshot(9, 3, {seen_since(alive("a"), 30), seen_since(alive("b"), 31)}, true));
  EXPECT_TRUE(changes_of(done).empty());
  EXPECT_TRUE(sync_.view().complete());
}

TEST_F(ViewSyncFailoverTest, FailoverReportsRealDifferences) {
  advance(kWindow);
  SyncOutput out = admin(snapshot(
      7, 40, {in_state(seen_since(alive("a"), 20), NodeState::kSuspect), alive("c")}, true));
  auto changes = changes_of(out);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_EQ(changes[0].record.state, NodeState::kSuspect);  // a
  EXPECT_EQ(changes[1].record.node, "b");
  EXPECT_EQ(changes[1].record.state, NodeState::kRemoved);  // complete, without b
  EXPECT_EQ(changes[2].record.node, "c");
  EXPECT_FALSE(changes[2].old.has_value());
}

TEST_F(ViewSyncFailoverTest, StaleOnlyWhenEveryBrokerWasSilentForAWindow) {
  SyncOutput first = advance(kWindow);
  EXPECT_TRUE(stales_of(first).empty());
  SyncOutput second = advance(kWindow);  // broker 1 silent too
  EXPECT_TRUE(second.switch_broker);
  EXPECT_EQ(sync_.following(), 0u);  // round the list again
  EXPECT_EQ(stales_of(second), std::vector<bool>{true});
  EXPECT_TRUE(sync_.stale());
  EXPECT_EQ(sync_.stats().stale_periods, 1u);
  // Any broker heard again: fresh.
  SyncOutput heard = feed(beat(1, 5));
  EXPECT_EQ(stales_of(heard), std::vector<bool>{false});
  EXPECT_FALSE(sync_.stale());
}

// The next broker answered the snapshot request but was killed before it
// published anything: it was reachable, so leaving it is no proof that
// every broker is silent.
TEST_F(ViewSyncFailoverTest, SnapshotReplyOfTheFollowedBrokerCountsAsHeard) {
  advance(kWindow);
  admin(snapshot(7, 40, {seen_since(alive("a"), 20), seen_since(alive("b"), 21)}, true));
  SyncOutput out = advance(kWindow);
  EXPECT_TRUE(out.switch_broker);
  EXPECT_TRUE(stales_of(out).empty());
  EXPECT_EQ(sync_.following(), 0u);
}

TEST_F(ViewSyncFailoverTest, SilentRoundsBackOffUpToEightWindows) {
  advance(kWindow);
  advance(kWindow);  // a whole round silent: stale
  // Time between switches (snapshot request retries wake it meanwhile).
  std::vector<TimeMs> windows;
  TimeMs switched_at = now_;
  while (windows.size() < 8) {
    SyncOutput out = advance(sync_.next_deadline() - now_);
    EXPECT_EQ(stales_of(out).size(), 0u) << "stale is reported once per period";
    if (!out.switch_broker) continue;
    windows.push_back(now_ - switched_at);
    switched_at = now_;
  }
  EXPECT_EQ(windows, (std::vector<TimeMs>{2 * kWindow, 2 * kWindow, 4 * kWindow, 4 * kWindow,
                                          8 * kWindow, 8 * kWindow, 8 * kWindow, 8 * kWindow}));
  // Heard again: the window is one again.
  feed(beat(1, 5));
  EXPECT_EQ(sync_.next_deadline() - now_, kWindow);
}

TEST_F(ViewSyncFailoverTest, StaysOnTheBrokerItFollowsWhileThatOneIsHeard) {
  advance(kWindow);
  admin(snapshot(7, 40, {seen_since(alive("a"), 20), seen_since(alive("b"), 21)}, true));
  // Broker 0 may be back meanwhile: no reason to leave broker 1.
  for (int i = 0; i < 50; ++i) {
    SyncOutput out = advance(kBeat);
    EXPECT_FALSE(out.switch_broker);
    feed(beat(7, 40));
  }
  EXPECT_EQ(sync_.following(), 1u);
  EXPECT_EQ(sync_.stats().failovers, 1u);
}

class ViewSyncOneBrokerTest : public ViewSyncFailoverTest {
 protected:
  ViewSyncOneBrokerTest() : ViewSyncFailoverTest(1) {}
};

TEST_F(ViewSyncOneBrokerTest, OneListedBrokerGoesStaleAndNeverSwitches) {
  SyncOutput out = advance(kWindow);
  EXPECT_FALSE(out.switch_broker);
  EXPECT_EQ(stales_of(out), std::vector<bool>{true});
  SyncOutput later = advance(10 * kWindow);
  EXPECT_FALSE(later.switch_broker);
  EXPECT_TRUE(stales_of(later).empty());
  EXPECT_EQ(sync_.stats().failovers, 0u);
  EXPECT_TRUE(sync_.synced()) << "one broker: the view is kept, no resync";
}

// The same holds for one broker across its own restart: its new epoch's
// record that differs only in since_ms is no change of the node.
TEST_F(ViewSyncOneBrokerTest, RestartedBrokersRecordThatDiffersOnlyInSinceIsNoChange) {
  feed(beat(2, 0));
  SyncOutput out =
      admin(snapshot(2, 3, {seen_since(alive("a"), 50), seen_since(alive("b"), 51)}, true));
  EXPECT_EQ(resyncs_of(out), std::vector<ResyncReason>{ResyncReason::kEpochChange});
  EXPECT_TRUE(changes_of(out).empty());
  EXPECT_EQ(sync_.view().nodes().at("b").since_ms, 51u);
}

// Within one epoch a new since_ms means the node left its state and came
// back (a missed suspect -> alive): reported.
TEST_F(ViewSyncOneBrokerTest, SameEpochRecordWithAnotherSinceIsAChange) {
  feed(beat(1, 8));  // deltas 6..8 missed
  SyncOutput out =
      admin(snapshot(1, 8, {seen_since(alive("a"), 10), seen_since(alive("b"), 60)}, true));
  ASSERT_EQ(changes_of(out).size(), 1u);
  EXPECT_EQ(changes_of(out)[0].record.node, "b");
}

}  // namespace
}  // namespace roster::subscriber
