// The node timers of the membership core (membership_timer_queue.h): one
// lazily armed timer per node, stale entries skipped and bounded.
// Virtual time is simulated.
#include "membership_timer_queue.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace roster::internal {
namespace {

// A node table and its timers, empty.
class NodeTimersTest : public ::testing::Test {
 protected:
  NodeTable nodes;
  NodeTimers timers{nodes};
};

TEST_F(NodeTimersTest, ANodePopsAtItsDeadlineAndNotBefore) {
  Node& a = nodes.allocate("a", 0);
  timers.set_due(a, 100);
  EXPECT_EQ(timers.next(), 100);
  EXPECT_EQ(timers.pop_due(99), nullptr);
  EXPECT_EQ(timers.pop_due(100), &a);
  EXPECT_EQ(a.armed, kNoTimer);
  EXPECT_EQ(timers.next(), std::nullopt);
}

TEST_F(NodeTimersTest, NodesPopInDeadlineOrder) {
  Node& a = nodes.allocate("a", 0);
  Node& b = nodes.allocate("b", 0);
  Node& c = nodes.allocate("c", 0);
  timers.set_due(a, 300);
  timers.set_due(b, 100);
  timers.set_due(c, 200);
  EXPECT_EQ(timers.pop_due(1'000), &b);
  EXPECT_EQ(timers.pop_due(1'000), &c);
  EXPECT_EQ(timers.pop_due(1'000), &a);
  EXPECT_EQ(timers.pop_due(1'000), nullptr);
}

TEST_F(NodeTimersTest, MovingADeadlineLaterPushesNothingAndReArmsOnPop) {
  Node& a = nodes.allocate("a", 0);
  timers.set_due(a, 100);
  timers.set_due(a, 200);
  timers.set_due(a, 300);
  EXPECT_EQ(timers.size(), 1u);
  // The entry at 100 comes up early: re-armed at 300, nothing fires.
  EXPECT_EQ(timers.pop_due(150), nullptr);
  EXPECT_EQ(timers.size(), 1u);
  EXPECT_EQ(timers.next(), 300);
  EXPECT_EQ(timers.pop_due(299), nullptr);
  EXPECT_EQ(timers.pop_due(300), &a);
}

TEST_F(NodeTimersTest, MovingADeadlineEarlierFiresAtTheEarlierOneOnly) {
  Node& a = nodes.allocate("a", 0);
  timers.set_due(a, 200);
  timers.set_due(a, 100);
  EXPECT_EQ(timers.size(), 2u);
  EXPECT_EQ(timers.pop_due(100), &a);
  // The owner gives it its next deadline; the old entry at 200 is stale.
  timers.set_due(a, 500);
  EXPECT_EQ(timers.pop_due(400), nullptr);
  EXPECT_EQ(timers.pop_due(500), &a);
}

TEST_F(NodeTimersTest, AFreedNodesTimerNeverFiresForTheSlotsNextNode) {
  Node& a = nodes.allocate("a", 0);
  timers.set_due(a, 100);
  nodes.free(a);
  Node& b = nodes.allocate("b", 0);
  ASSERT_EQ(&b, &a);  // the same slot, a new generation
  timers.set_due(b, 100);
  // Two entries at 100 for the slot; only b's (the current generation) fires.
  EXPECT_EQ(timers.pop_due(100), &b);
  EXPECT_EQ(timers.pop_due(100), nullptr);
  EXPECT_EQ(timers.size(), 0u);
}

TEST_F(NodeTimersTest, StaleEntriesStayBoundedByTheHeldNodes) {
  Node& a = nodes.allocate("a", 0);
  Node& b = nodes.allocate("b", 0);
  timers.set_due(b, 1'000'000);
  // Every earlier deadline pushes an entry; the heap is rebuilt before the
  // stale ones exceed the held nodes plus a slack.
  for (int64_t due = 100'000; due > 0; --due) {
    timers.set_due(a, due);
    ASSERT_LE(timers.size(), 2 * nodes.size() + 1'024 + 1);
  }
  EXPECT_EQ(timers.pop_due(1), &a);
  EXPECT_EQ(timers.pop_due(999'999), nullptr);
  EXPECT_EQ(timers.pop_due(1'000'000), &b);
}

}  // namespace
}  // namespace roster::internal
