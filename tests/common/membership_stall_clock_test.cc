// The stall clock of the membership core (membership_stall_clock.h): stall
// detection, virtual time and the keepalive cap of the wake-up time. Time is
// simulated: every case says what observe() was told.
#include "membership_stall_clock.h"

#include <gtest/gtest.h>

#include <vector>

namespace roster::internal {
namespace {

constexpr TimeMs kStart = 1'700'000'000'000;

TEST(StallClock, StartsWithVirtualEqualToReal) {
  StallClock c(kStart, 1'000);
  EXPECT_EQ(c.now(), kStart);
  EXPECT_EQ(c.vnow(), kStart);
  EXPECT_EQ(c.to_real(kStart + 5), kStart + 5);
  EXPECT_EQ(c.stalls(), 0u);
}

// One gap after the start, observed with `armed`; what the clock makes of it.
struct GapCase {
  const char* name;
  uint64_t threshold_ms;
  int64_t gap_ms;
  bool armed;
  bool stall;
};

TEST(StallClock, AGapIsAStallOnlyOverTheThresholdWhileArmed) {
  const std::vector<GapCase> cases = {
      {"under the threshold", 1'000, 999, true, false},
      {"at the threshold", 1'000, 1'000, true, false},
      {"over the threshold", 1'000, 1'001, true, true},
      {"long gap", 1'000, 3'600'000, true, true},
      {"nothing armed", 1'000, 5'000, false, false},
      {"protection off", 0, 5'000, true, false},
      {"threshold of 1 ms", 1, 2, true, true},
  };
  for (const GapCase& k : cases) {
    SCOPED_TRACE(k.name);
    StallClock c(kStart, k.threshold_ms);
    c.observe(kStart + k.gap_ms, k.armed);
    EXPECT_EQ(c.now(), kStart + k.gap_ms);
    EXPECT_EQ(c.stalls(), k.stall ? 1u : 0u);
    EXPECT_EQ(c.stalled_ms(), k.stall ? static_cast<uint64_t>(k.gap_ms) : 0u);
    // A stall stops virtual time for its whole length.
    EXPECT_EQ(c.vnow(), k.stall ? kStart : kStart + k.gap_ms);
    EXPECT_EQ(c.to_real(c.vnow()), c.now());
  }
}

TEST(StallClock, StallsAddUpAndVirtualTimeRunsOnBetweenThem) {
  StallClock c(kStart, 1'000);
  c.observe(kStart + 2'000, true);  // a stall of 2 s
  c.observe(kStart + 2'500, true);  // 500 ms of normal time
  c.observe(kStart + 5'500, true);  // a stall of 3 s
  EXPECT_EQ(c.stalls(), 2u);
  EXPECT_EQ(c.stalled_ms(), 5'000u);
  EXPECT_EQ(c.vnow(), kStart + 500);
  EXPECT_EQ(c.to_real(kStart + 600), kStart + 5'600);
}

TEST(StallClock, TimeGoingBackwardsCountsAsNoTimePassing) {
  StallClock c(kStart, 1'000);
  c.observe(kStart + 300, true);
  c.observe(kStart + 100, true);
  EXPECT_EQ(c.now(), kStart + 300);
  EXPECT_EQ(c.vnow(), kStart + 300);
  // The gap is measured from the latest time seen, not the earlier one.
  c.observe(kStart + 1'200, true);
  EXPECT_EQ(c.stalls(), 0u);
}

TEST(StallClock, WakeAtIsTheDeadlineCappedAtHalfTheThreshold) {
  StallClock c(kStart, 1'000);
  c.observe(kStart + 100, true);
  EXPECT_EQ(c.wake_at(kStart + 300), kStart + 300);
  EXPECT_EQ(c.wake_at(kStart + 600), kStart + 600);
  EXPECT_EQ(c.wake_at(kStart + 601), kStart + 600);
  EXPECT_EQ(c.wake_at(kStart + 60'000), kStart + 600);
  // After a stall, deadlines are shown in real time.
  c.observe(kStart + 3'100, true);
  EXPECT_EQ(c.wake_at(kStart + 200), kStart + 3'200);
}

TEST(StallClock, WakeAtIsNeverCappedBelowOneMillisecond) {
  StallClock c(kStart, 1);
  EXPECT_EQ(c.wake_at(kStart + 50), kStart + 1);
}

TEST(StallClock, WakeAtIsUncappedWithoutStallProtection) {
  StallClock c(kStart, 0);
  EXPECT_EQ(c.wake_at(kStart + 60'000), kStart + 60'000);
}

TEST(StallClock, SleepingUntilWakeAtIsNeverAStall) {
  StallClock c(kStart, 1'000);
  int64_t far = kStart + 3'600'000;
  while (c.now() < far) c.observe(c.wake_at(far), true);
  EXPECT_EQ(c.stalls(), 0u);
  EXPECT_EQ(c.vnow(), far);
}

}  // namespace
}  // namespace roster::internal
