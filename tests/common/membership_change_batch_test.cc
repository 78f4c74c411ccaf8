// The change batch of the membership core (membership_change_batch.h):
// versions, one entry per node with its final record, removals, id order.
#include "membership_change_batch.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace roster::internal {
namespace {

constexpr uint64_t kEpoch = 7;

std::vector<std::string> Ids(const Delta& delta) {
  std::vector<std::string> ids;
  for (const NodeRecord& r : delta.changes) ids.push_back(r.node);
  return ids;
}

TEST(ChangeBatch, AnEmptyBatchCommitsNothingAndKeepsTheVersion) {
  NodeTable nodes;
  ChangeBatch b;
  EXPECT_TRUE(b.empty());
  EXPECT_FALSE(b.commit(kEpoch, 100, nodes));
  EXPECT_EQ(b.version(), 0u);
}

TEST(ChangeBatch, EachCommitIsTheNextVersion) {
  NodeTable nodes;
  nodes.allocate("a", 0);
  ChangeBatch b;
  b.mark("a", 1);
  std::optional<Delta> first = b.commit(kEpoch, 100, nodes);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->epoch, kEpoch);
  EXPECT_EQ(first->prev_version, 0u);
  EXPECT_EQ(first->version, 1u);
  EXPECT_EQ(first->time_ms, 100u);
  EXPECT_TRUE(b.empty());
  EXPECT_FALSE(b.commit(kEpoch, 150, nodes));
  b.mark("a", 1);
  std::optional<Delta> second = b.commit(kEpoch, 200, nodes);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->prev_version, 1u);
  EXPECT_EQ(second->version, 2u);
  EXPECT_EQ(b.version(), 2u);
}

TEST(ChangeBatch, ANodeMarkedSeveralTimesAppearsOnceWithItsFinalRecord) {
  NodeTable nodes;
  Node& a = nodes.allocate("a", 0);
  a.inc = 1;
  ChangeBatch b;
  b.mark("a", 1);
  nodes.enter(a, NodeState::kSuspect, 10);
  b.mark("a", 1);
  nodes.enter(a, NodeState::kDead, 20);
  b.mark("a", 1);
  EXPECT_EQ(b.size(), 1u);
  std::optional<Delta> delta = b.commit(kEpoch, 30, nodes);
  ASSERT_TRUE(delta);
  ASSERT_EQ(delta->changes.size(), 1u);
  EXPECT_EQ(delta->changes[0].state, NodeState::kDead);
  EXPECT_EQ(delta->changes[0].since_ms, 20u);
}

TEST(ChangeBatch, ANodeNoLongerHeldIsRemovedWithTheLatestMarkedIncarnation) {
  NodeTable nodes;
  Node& a = nodes.allocate("a", 0);
  ChangeBatch b;
  b.mark("a", 3);
  b.mark("a", 4);
  nodes.free(a);
  std::optional<Delta> delta = b.commit(kEpoch, 30, nodes);
  ASSERT_TRUE(delta);
  ASSERT_EQ(delta->changes.size(), 1u);
  EXPECT_EQ(delta->changes[0].node, "a");
  EXPECT_EQ(delta->changes[0].inc, 4u);
  EXPECT_EQ(delta->changes[0].state, NodeState::kRemoved);
}

TEST(ChangeBatch, ANodeForgottenAndHeldAgainShowsTheNewIncarnation) {
  NodeTable nodes;
  Node& old = nodes.allocate("a", 0);
  ChangeBatch b;
  b.mark("a", 1);
  nodes.free(old);
  Node& fresh = nodes.allocate("a", 5);
  fresh.inc = 2;
  b.mark("a", 2);
  std::optional<Delta> delta = b.commit(kEpoch, 30, nodes);
  ASSERT_TRUE(delta);
  ASSERT_EQ(delta->changes.size(), 1u);
  EXPECT_EQ(delta->changes[0].inc, 2u);
  EXPECT_EQ(delta->changes[0].state, NodeState::kAlive);
}

TEST(ChangeBatch, ChangesAreInNodeIdOrder) {
  NodeTable nodes;
  ChangeBatch b;
  for (const char* id : {"c", "a", "d", "b"}) {
    nodes.allocate(id, 0);
    b.mark(id, 1);
  }
  std::optional<Delta> delta = b.commit(kEpoch, 30, nodes);
  ASSERT_TRUE(delta);
  EXPECT_EQ(Ids(*delta), (std::vector<std::string>{"a", "b", "c", "d"}));
}

}  // namespace
}  // namespace roster::internal
