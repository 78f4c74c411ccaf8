// The subscriber's logic without sockets, driven by hand with simulated
// times: the Clone pattern, gap and epoch detection, retries, staleness.
#include "view_sync.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/messages.h"
#include "view_sync_driver.h"

namespace roster::subscriber {
namespace {

using testing::alive;
using testing::beat;
using testing::delta;
using testing::in_state;
using testing::removed;
using testing::snapshot;

constexpr TimeMs kStart = 1'000'000;

class ViewSyncTest : public ViewSyncDriver {
 protected:
  ViewSyncTest() : ViewSyncDriver(make_options(), kStart) {
    SyncOutput out;
    sync_.start(now_, out);
    EXPECT_TRUE(out.request_snapshot);
  }

  static SubscriberOptions make_options() {
    SubscriberOptions o;
    o.beat_interval_ms = 100;
    o.stale_after_beats = 3;
    o.snapshot_timeout_ms = 500;
    o.max_buffered_deltas = 4;
    return o;
  }

  // The broker restarted: a beat of epoch 2, then its admin snapshot at
  // version 1, still warming up, holding `nodes`. Returns what both gave.
  SyncOutput restart_warming_up(std::vector<NodeRecord> nodes) {
    SyncOutput out;
    sync_.on_beat(beat(2, 0), now_, out);
    sync_.on_admin_snapshot(snapshot(2, 1, std::move(nodes), false), now_, out);
    return out;
  }

  // Brings the view to epoch 1, version 5 with nodes a and b.
  void sync_at_5() {
    SyncOutput out;
    sync_.on_admin_snapshot(snapshot(1, 5, {alive("a"), alive("b")}), now_, out);
    ASSERT_TRUE(sync_.synced());
  }
};

TEST_F(ViewSyncTest, FirstSnapshotReportsEveryNodeAsNew) {
  SyncOutput out = admin(snapshot(1, 5, {alive("a"), alive("b")}));
  EXPECT_TRUE(sync_.synced());
  EXPECT_EQ(resyncs_of(out), std::vector<ResyncReason>{ResyncReason::kInitial});
  auto changes = changes_of(out);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_FALSE(changes[0].old.has_value());
  EXPECT_EQ(changes[0].record.node, "a");
  EXPECT_TRUE(changes[0].from_resync);
  EXPECT_EQ(changes[0].version, 5u);
  EXPECT_EQ(sync_.view().version(), 5u);
  EXPECT_EQ(sync_.stats().resyncs, 1u);
}

TEST_F(ViewSyncTest, DeltasBufferedBeforeTheSnapshotApplyOnlyAboveItsVersion) {
  SyncOutput out = feed(delta(1, 5, {alive("old")}));  // contained in the snapshot
  sync_.on_delta(delta(1, 6, {alive("c")}), now_, out);
  sync_.on_delta(delta(1, 7, {in_state(alive("a"), NodeState::kSuspect)}), now_, out);
  EXPECT_TRUE(changes_of(out).empty());
  sync_.on_admin_snapshot(snapshot(1, 5, {alive("a"), alive("b")}), now_, out);
  EXPECT_TRUE(sync_.synced());
  EXPECT_EQ(sync_.view().version(), 7u);
  EXPECT_EQ(sync_.view().nodes().count("old"), 0u);
  EXPECT_EQ(sync_.view().nodes().at("a").state, NodeState::kSuspect);
  EXPECT_EQ(sync_.view().nodes().count("c"), 1u);
  EXPECT_EQ(sync_.stats().deltas_applied, 2u);
  EXPECT_EQ(sync_.stats().deltas_old, 1u);
}

TEST_F(ViewSyncTest, AppliedDeltaReportsOldAndNewRecords) {
  sync_at_5();
  SyncOutput out;
  sync_.on_delta(delta(1, 6,
                       {in_state(alive("a"), NodeState::kSuspect), removed("b"),
                        removed("never-seen"), alive("c")}),
                 now_, out);
  auto changes = changes_of(out);
  ASSERT_EQ(changes.size(), 3u);  // removing a node the view never held is no change
  EXPECT_EQ(changes[0].old->state, NodeState::kAlive);
  EXPECT_EQ(changes[0].record.state, NodeState::kSuspect);
  EXPECT_EQ(changes[1].old->node, "b");
  EXPECT_EQ(changes[1].record.state, NodeState::kRemoved);
  EXPECT_FALSE(changes[2].old.has_value());
  EXPECT_EQ(changes[2].version, 6u);
  EXPECT_EQ(changes[2].time_ms, 88u);
  EXPECT_FALSE(changes[2].from_resync);
  EXPECT_EQ(sync_.view().nodes().size(), 2u);
}

TEST_F(ViewSyncTest, NodeNamedTwiceInOneDeltaSeesItsFirstRecordAsOld) {
  sync_at_5();
  SyncOutput out;
  sync_.on_delta(
      delta(1, 6,
            {in_state(alive("a"), NodeState::kSuspect), in_state(alive("a"), NodeState::kDead)}),
      now_, out);
  auto changes = changes_of(out);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[1].old->state, NodeState::kSuspect);
  EXPECT_EQ(changes[1].record.state, NodeState::kDead);
}

TEST_F(ViewSyncTest, OldDeltaIsIgnored) {
  sync_at_5();
  SyncOutput out = feed(delta(1, 5, {alive("x")}));
  EXPECT_TRUE(out.events.empty());
  EXPECT_FALSE(out.request_snapshot);
  EXPECT_EQ(sync_.stats().deltas_old, 1u);
  EXPECT_EQ(sync_.view().nodes().count("x"), 0u);
}

TEST_F(ViewSyncTest, PrevVersionGapStartsResyncAndKeepsTheDelta) {
  sync_at_5();
  SyncOutput out = feed(delta(1, 7, {alive("c")}));
  EXPECT_TRUE(out.request_snapshot);
  EXPECT_FALSE(sync_.synced());
  EXPECT_EQ(sync_.stats().gaps, 1u);
  EXPECT_EQ(sync_.view().version(), 5u);  // the last view stays until the snapshot

  SyncOutput after = admin(snapshot(1, 6, {alive("a")}));
  EXPECT_EQ(resyncs_of(after), std::vector<ResyncReason>{ResyncReason::kGap});
  EXPECT_EQ(sync_.view().version(), 7u);  // snapshot 6 + the kept delta 7
  auto changes = changes_of(after);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].record.node, "b");  // gone from the snapshot
  EXPECT_EQ(changes[0].record.state, NodeState::kRemoved);
  EXPECT_TRUE(changes[0].from_resync);
  EXPECT_EQ(changes[1].record.node, "c");
  EXPECT_FALSE(changes[1].from_resync);
}

TEST_F(ViewSyncTest, GapAmongBufferedDeltasStartsAnotherResync) {
  SyncOutput out = feed(delta(1, 6, {alive("c")}));
  sync_.on_delta(delta(1, 8, {alive("d")}), now_, out);  // 7 was lost
  sync_.on_admin_snapshot(snapshot(1, 5, {}), now_ + 1, out);
  EXPECT_EQ(sync_.view().version(), 6u);
  EXPECT_FALSE(sync_.synced());
  EXPECT_EQ(sync_.stats().gaps, 1u);
  SyncOutput again;
  sync_.on_admin_snapshot(snapshot(1, 8, {alive("c"), alive("d")}), now_ + 2, again);
  EXPECT_TRUE(sync_.synced());
  EXPECT_EQ(sync_.view().version(), 8u);
}

TEST_F(ViewSyncTest, DeltaOfAnotherEpochStartsResync) {
  sync_at_5();
  SyncOutput out = feed(delta(2, 1, {alive("z")}));
  EXPECT_TRUE(out.request_snapshot);
  EXPECT_EQ(sync_.stats().epoch_changes, 1u);
  SyncOutput after = admin(snapshot(2, 0, {}, false));
  EXPECT_EQ(resyncs_of(after), std::vector<ResyncReason>{ResyncReason::kEpochChange});
  EXPECT_EQ(sync_.view().epoch(), 2u);
  EXPECT_EQ(sync_.view().version(), 1u);
  EXPECT_EQ(sync_.view().nodes().count("z"), 1u);
  EXPECT_FALSE(sync_.view().complete());
}

TEST_F(ViewSyncTest, BeatOfAnotherEpochStartsResync) {
  sync_at_5();
  SyncOutput out = feed(beat(9, 0));
  EXPECT_TRUE(out.request_snapshot);
  EXPECT_FALSE(sync_.synced());
  EXPECT_EQ(sync_.stats().epoch_changes, 1u);
}

TEST_F(ViewSyncTest, BeatAheadOfTheViewIsAGap) {
  sync_at_5();
  SyncOutput same = feed(beat(1, 5));
  EXPECT_FALSE(same.request_snapshot);
  SyncOutput ahead = feed(beat(1, 6));
  EXPECT_TRUE(ahead.request_snapshot);
  EXPECT_EQ(sync_.stats().gaps, 1u);
}

TEST_F(ViewSyncTest, BeatAheadSeenWhileWaitingIsCheckedAgainstTheSnapshot) {
  SyncOutput out = feed(beat(1, 6));
  sync_.on_admin_snapshot(snapshot(1, 5, {}), now_, out);
  EXPECT_FALSE(sync_.synced());
  EXPECT_EQ(sync_.stats().gaps, 1u);
}

TEST_F(ViewSyncTest, PublishedSnapshotServesWhileWaiting) {
  SyncOutput out = published(snapshot(1, 3, {alive("a")}));
  EXPECT_TRUE(sync_.synced());
  SyncOutput late = admin(snapshot(1, 2, {}));  // late reply: ignored
  EXPECT_TRUE(late.events.empty());
  EXPECT_EQ(sync_.view().version(), 3u);
}

TEST_F(ViewSyncTest, NewerPublishedSnapshotReplacesTheView) {
  sync_at_5();
  SyncOutput out = published(snapshot(1, 9, {alive("a")}));
  EXPECT_EQ(resyncs_of(out), std::vector<ResyncReason>{ResyncReason::kGap});
  EXPECT_EQ(sync_.view().version(), 9u);
  EXPECT_EQ(sync_.stats().gaps, 1u);
}

TEST_F(ViewSyncTest, PublishedSnapshotAtTheSameVersionOnlyEndsWarmingUp) {
  SyncOutput out = admin(snapshot(1, 5, {alive("a")}, false));
  SyncOutput same = published(snapshot(1, 5, {alive("a")}, true));
  EXPECT_TRUE(same.events.empty());
  EXPECT_TRUE(sync_.view().complete());
}

TEST_F(ViewSyncTest, NodeMissingFromAWarmingUpSnapshotIsNotReportedRemoved) {
  sync_at_5();
  SyncOutput out = restart_warming_up({alive("a", 2)});
  for (const auto& change : changes_of(out)) {
    EXPECT_NE(change.record.state, NodeState::kRemoved) << change.record.node;
  }
  // b rejoins the restarted broker: reported as b's old record -> new one.
  SyncOutput rejoin = feed(delta(2, 2, {alive("b", 2)}));
  auto changes = changes_of(rejoin);
  ASSERT_EQ(changes.size(), 1u);
  ASSERT_TRUE(changes[0].old.has_value());
  EXPECT_EQ(changes[0].old->inc, 1u);
  EXPECT_EQ(changes[0].record.inc, 2u);
}

TEST_F(ViewSyncTest, HeldOverNodeIsRemovedWhenTheViewBecomesComplete) {
  sync_at_5();
  SyncOutput out = restart_warming_up({alive("a", 2)});
  SyncOutput done = published(snapshot(2, 1, {alive("a", 2)}, true));
  auto changes = changes_of(done);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0].record.node, "b");
  EXPECT_EQ(changes[0].record.state, NodeState::kRemoved);
  EXPECT_TRUE(sync_.view().complete());
}

TEST_F(ViewSyncTest, CompleteSnapshotReportsHeldOverNodesRemoved) {
  sync_at_5();
  SyncOutput out = restart_warming_up({});
  EXPECT_TRUE(changes_of(out).empty());
  SyncOutput newer = published(snapshot(2, 3, {alive("a", 2)}, true));
  auto changes = changes_of(newer);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].record.node, "a");
  EXPECT_EQ(changes[0].record.inc, 2u);
  EXPECT_EQ(changes[1].record.node, "b");
  EXPECT_EQ(changes[1].record.state, NodeState::kRemoved);
}

// Names of the nodes `out` reports removed.
std::vector<std::string> removed_in(const SyncOutput& out) {
  std::vector<std::string> nodes;
  for (const auto& change : changes_of(out)) {
    if (change.record.state == NodeState::kRemoved) nodes.push_back(change.record.node);
  }
  return nodes;
}

// Issue 11, item 4: the broker warms up (its snapshots say complete: false)
// and a subscriber misses deltas meanwhile, among them b's leave and
// forgetting. The same broker (same epoch) does not hold b any more: b is
// gone, not held over.
TEST_F(ViewSyncTest, SameEpochIncompleteSnapshotAfterAGapReportsAForgottenNodeRemoved) {
  SyncOutput out = admin(snapshot(1, 5, {alive("a"), alive("b")}, false));
  SyncOutput gap = feed(delta(1, 9, {alive("c")}));  // 6..8 lost: b left, was forgotten
  ASSERT_TRUE(gap.request_snapshot);
  SyncOutput after = admin(snapshot(1, 8, {alive("a")}, false));
  EXPECT_EQ(resyncs_of(after), std::vector<ResyncReason>{ResyncReason::kGap});
  EXPECT_EQ(removed_in(after), std::vector<std::string>{"b"});
  EXPECT_EQ(sync_.view().nodes().count("b"), 0u);
  EXPECT_EQ(sync_.view().version(), 9u);
  // Not reported a second time when warming up ends.
  SyncOutput done = published(snapshot(1, 9, {alive("a"), alive("c")}, true));
  EXPECT_TRUE(changes_of(done).empty());
}

TEST_F(ViewSyncTest, PublishedSnapshotOfTheSameEpochAfterAGapReportsAForgottenNodeRemoved) {
  SyncOutput out = admin(snapshot(1, 5, {alive("a"), alive("b")}, false));
  SyncOutput newer = published(snapshot(1, 9, {alive("a")}, false));
  EXPECT_EQ(resyncs_of(newer), std::vector<ResyncReason>{ResyncReason::kGap});
  EXPECT_EQ(removed_in(newer), std::vector<std::string>{"b"});
}

TEST_F(ViewSyncTest, AnotherEpochIncompleteSnapshotAfterAGapStillHoldsOver) {
  sync_at_5();
  SyncOutput out = feed(delta(2, 3, {alive("c")}));  // the broker restarted
  ASSERT_TRUE(out.request_snapshot);
  SyncOutput after = admin(snapshot(2, 2, {alive("a", 2)}, false));
  EXPECT_EQ(resyncs_of(after), std::vector<ResyncReason>{ResyncReason::kEpochChange});
  EXPECT_TRUE(removed_in(after).empty());
  EXPECT_EQ(sync_.view().nodes().count("b"), 0u);  // held over, not in the view
}

TEST_F(ViewSyncTest, NodeHeldOverFromAnEarlierEpochStaysHeldOverThroughAGap) {
  sync_at_5();
  SyncOutput out = restart_warming_up({alive("a", 2), alive("c")});
  ASSERT_TRUE(removed_in(out).empty());  // b held over
  // A gap within epoch 2: c (learnt in epoch 2) is gone, b (epoch 1) is not.
  SyncOutput gap = feed(beat(2, 4));
  ASSERT_TRUE(gap.request_snapshot);
  SyncOutput after = admin(snapshot(2, 4, {alive("a", 2)}, false));
  EXPECT_EQ(removed_in(after), std::vector<std::string>{"c"});
  // Warming up ends without b: now b is gone.
  SyncOutput done = published(snapshot(2, 4, {alive("a", 2)}, true));
  EXPECT_EQ(removed_in(done), std::vector<std::string>{"b"});
}

TEST_F(ViewSyncTest, HeldOverNodeConfirmedByADeltaBecomesTheNewEpochs) {
  sync_at_5();
  SyncOutput out = restart_warming_up({alive("a", 2)});
  SyncOutput back = feed(delta(2, 2, {alive("b", 2)}));  // b rejoins the new broker
  ASSERT_EQ(changes_of(back).size(), 1u);
  // b then leaves and is forgotten in deltas the subscriber misses.
  SyncOutput gap = feed(beat(2, 5));
  ASSERT_TRUE(gap.request_snapshot);
  SyncOutput after = admin(snapshot(2, 5, {alive("a", 2)}, false));
  EXPECT_EQ(removed_in(after), std::vector<std::string>{"b"});
  SyncOutput done = published(snapshot(2, 5, {alive("a", 2)}, true));
  EXPECT_TRUE(changes_of(done).empty());
}

TEST_F(ViewSyncTest, HeldOverNodeConfirmedByASnapshotBecomesTheNewEpochs) {
  sync_at_5();
  SyncOutput out = restart_warming_up({alive("a", 2)});
  SyncOutput gap = feed(beat(2, 3));
  SyncOutput confirmed = admin(snapshot(2, 3, {alive("a", 2), alive("b", 2)}, false));
  auto changes = changes_of(confirmed);
  ASSERT_EQ(changes.size(), 1u);
  ASSERT_TRUE(changes[0].old.has_value());  // b's epoch-1 record -> its epoch-2 record
  EXPECT_EQ(changes[0].old->inc, 1u);
  EXPECT_EQ(changes[0].record.inc, 2u);
  SyncOutput gap2 = feed(beat(2, 6));
  SyncOutput after = admin(snapshot(2, 6, {alive("a", 2)}, false));
  EXPECT_EQ(removed_in(after), std::vector<std::string>{"b"});
}

TEST_F(ViewSyncTest, HeldOverNodeRemovedByADeltaIsReportedOnce) {
  sync_at_5();
  SyncOutput out = restart_warming_up({alive("a", 2)});
  SyncOutput gone = feed(delta(2, 2, {removed("b")}));
  EXPECT_EQ(removed_in(gone), std::vector<std::string>{"b"});
  SyncOutput done = published(snapshot(2, 2, {alive("a", 2)}, true));
  EXPECT_TRUE(changes_of(done).empty());
}

TEST_F(ViewSyncTest, SnapshotRequestIsRetriedAfterTheTimeout) {
  SyncOutput early;
  sync_.tick(now_ + 499, early);
  EXPECT_FALSE(early.request_snapshot);
  SyncOutput due;
  sync_.tick(now_ + 500, due);
  EXPECT_TRUE(due.request_snapshot);
  EXPECT_EQ(sync_.stats().snapshot_requests, 2u);
  SyncOutput error;
  sync_.on_admin_error(now_ + 600, error);
  EXPECT_EQ(sync_.stats().admin_errors, 1u);
  EXPECT_TRUE(sync_.stale());                           // nothing arrived meanwhile
  EXPECT_EQ(sync_.next_deadline(), now_ + 500 + 1000);  // the next retry waits twice as long
}

TEST_F(ViewSyncTest, RetriesBackOffUpToSixteenTimesTheTimeout) {
  TimeMs at = now_;
  std::vector<TimeMs> waits;
  while (waits.size() < 7) {
    const TimeMs due = sync_.next_deadline();
    SyncOutput out;
    sync_.tick(due, out);
    if (out.request_snapshot) {
      waits.push_back(due - at);
      at = due;
    }
  }
  EXPECT_EQ(waits, (std::vector<TimeMs>{500, 1000, 2000, 4000, 8000, 8000, 8000}));
  // A new resync starts again from the base timeout.
  SyncOutput out;
  sync_.on_admin_snapshot(snapshot(1, 5, {}), at, out);
  sync_.on_beat(beat(2, 0), at, out);
  EXPECT_TRUE(out.request_snapshot);
  EXPECT_EQ(sync_.next_deadline(), at + 300);  // staleness comes first
  SyncOutput later;
  sync_.tick(at + 300, later);
  EXPECT_EQ(sync_.next_deadline(), at + 500);  // then the base timeout
}

TEST_F(ViewSyncTest, StaleAfterThreeSilentBeatsAndFreshWhenMessagesReturn) {
  sync_at_5();
  SyncOutput quiet;
  sync_.tick(now_ + 299, quiet);
  EXPECT_TRUE(stales_of(quiet).empty());
  EXPECT_EQ(sync_.next_deadline(), now_ + 300);
  SyncOutput stale;
  sync_.tick(now_ + 300, stale);
  EXPECT_EQ(stales_of(stale), std::vector<bool>{true});
  EXPECT_TRUE(sync_.stale());
  SyncOutput still;
  sync_.tick(now_ + 1000, still);
  EXPECT_TRUE(stales_of(still).empty());  // reported once
  SyncOutput fresh;
  sync_.on_beat(beat(1, 5), now_ + 1100, fresh);
  EXPECT_EQ(stales_of(fresh), std::vector<bool>{false});
  EXPECT_FALSE(sync_.stale());
  EXPECT_EQ(sync_.stats().stale_periods, 1u);
}

TEST_F(ViewSyncTest, BufferKeepsOnlyTheNewestDeltas) {
  SyncOutput out;
  for (uint64_t v = 6; v <= 11; ++v) sync_.on_delta(delta(1, v, {alive("n")}), now_, out);
  sync_.on_admin_snapshot(snapshot(1, 5, {}), now_, out);
  // 6 and 7 were dropped (cap 4): 8 does not follow 5.
  EXPECT_FALSE(sync_.synced());
  EXPECT_EQ(sync_.stats().gaps, 1u);
}

}  // namespace
}  // namespace roster::subscriber
