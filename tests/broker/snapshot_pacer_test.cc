// SnapshotPacer: when state-channel snapshots go out, on a simulated clock.
#include "snapshot_pacer.h"

#include <gtest/gtest.h>

namespace roster::broker {
namespace {

SnapshotPacing pacing(TimeMs interval_ms) {
  SnapshotPacing p;
  p.interval_ms = interval_ms;
  p.min_triggered_gap_ms = 50;
  p.triggered_bytes_per_second = 1'000'000;
  p.max_triggered_gap_ms = 30'000;
  p.retry_ms = 1'000;
  return p;
}

TEST(SnapshotPacerTest, NothingScheduledWithoutIntervalOrTrigger) {
  SnapshotPacer pacer(pacing(0), 0);
  EXPECT_EQ(pacer.next_due(), std::nullopt);
  EXPECT_FALSE(pacer.due(1'000'000));
}

TEST(SnapshotPacerTest, PeriodicEveryInterval) {
  SnapshotPacer pacer(pacing(30'000), 1'000);
  EXPECT_EQ(pacer.next_due(), 31'000);
  EXPECT_FALSE(pacer.due(30'999));
  EXPECT_TRUE(pacer.due(31'000));
  pacer.published(31'005, 10);
  EXPECT_EQ(pacer.next_due(), 61'005);
}

TEST(SnapshotPacerTest, FirstTriggerIsServedAtOnce) {
  SnapshotPacer pacer(pacing(30'000), 1'000);
  pacer.trigger();
  EXPECT_TRUE(pacer.due(1'000));
}

TEST(SnapshotPacerTest, TriggersWithinTheGapCostOneSnapshot) {
  SnapshotPacer pacer(pacing(0), 0);
  pacer.trigger();
  ASSERT_TRUE(pacer.due(0));
  pacer.published(0, 10'000'000);  // 10 MB: 10 s at 1 MB/s
  int published = 1;
  // A subscriber toggling every 10 ms for 30 s.
  for (TimeMs now = 10; now <= 30'000; now += 10) {
    pacer.trigger();
    if (pacer.due(now)) {
      pacer.published(now, 10'000'000);
      ++published;
    }
  }
  EXPECT_EQ(published, 4);  // at 0, 10 s, 20 s, 30 s
}

TEST(SnapshotPacerTest, SmallSnapshotsKeepTheMinimumGap) {
  SnapshotPacer pacer(pacing(0), 0);
  pacer.trigger();
  pacer.published(0, 5'000);
  pacer.trigger();
  EXPECT_EQ(pacer.next_due(), 50);
  EXPECT_FALSE(pacer.due(49));
  EXPECT_TRUE(pacer.due(50));
}

TEST(SnapshotPacerTest, GapGrowsWithSizeUpToTheCap) {
  SnapshotPacer pacer(pacing(0), 0);
  EXPECT_EQ(pacer.triggered_gap(0), 50);
  EXPECT_EQ(pacer.triggered_gap(1'000'000), 1'000);
  EXPECT_EQ(pacer.triggered_gap(10'000'000), 10'000);
  EXPECT_EQ(pacer.triggered_gap(500'000'000), 30'000);
}

TEST(SnapshotPacerTest, APeriodicSnapshotAlsoSpacesTheNextTriggered) {
  SnapshotPacer pacer(pacing(30'000), 0);
  ASSERT_TRUE(pacer.due(30'000));
  pacer.published(30'000, 2'000'000);
  pacer.trigger();
  EXPECT_EQ(pacer.next_due(), 32'000);
}

TEST(SnapshotPacerTest, DeferredSnapshotStaysDueAndIsRetriedLater) {
  SnapshotPacer pacer(pacing(30'000), 0);
  ASSERT_TRUE(pacer.due(30'000));
  pacer.deferred(30'000);
  EXPECT_FALSE(pacer.due(30'999));
  EXPECT_EQ(pacer.next_due(), 31'000);
  EXPECT_TRUE(pacer.due(31'000));
  pacer.published(31'000, 10);
  EXPECT_EQ(pacer.next_due(), 61'000);
}

TEST(SnapshotPacerTest, TriggerDuringRetryWaitsForTheRetry) {
  SnapshotPacer pacer(pacing(0), 0);
  pacer.trigger();
  pacer.deferred(0);
  pacer.trigger();
  EXPECT_FALSE(pacer.due(500));
  EXPECT_TRUE(pacer.due(1'000));
}

}  // namespace
}  // namespace roster::broker
