// The node table of the membership core (membership_node_table.h): slots,
// the id index, counts by state, and slot reuse with generations.
#include "membership_node_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace roster::internal {
namespace {

TEST(NodeTable, AllocateHoldsANewNodeAliveWithNoTimer) {
  NodeTable t;
  Node& a = t.allocate("a", 500);
  EXPECT_EQ(a.id, "a");
  EXPECT_TRUE(a.held);
  EXPECT_EQ(a.state, NodeState::kAlive);
  EXPECT_EQ(a.since_ms, 500);
  EXPECT_EQ(a.due, kNoTimer);
  EXPECT_EQ(a.armed, kNoTimer);
  EXPECT_EQ(t.find("a"), &a);
  EXPECT_EQ(t.find("b"), nullptr);
  EXPECT_EQ(t.size(), 1u);
  EXPECT_EQ(t.count(NodeState::kAlive), 1u);
}

TEST(NodeTable, CountsFollowEveryStateChange) {
  NodeTable t;
  Node& a = t.allocate("a", 0);
  Node& b = t.allocate("b", 0);
  t.enter(a, NodeState::kSuspect, 10);
  EXPECT_EQ(a.since_ms, 10);
  t.enter(b, NodeState::kLeft, 11);
  t.enter(a, NodeState::kDead, 12);
  EXPECT_EQ(t.count(NodeState::kAlive), 0u);
  EXPECT_EQ(t.count(NodeState::kSuspect), 0u);
  EXPECT_EQ(t.count(NodeState::kDead), 1u);
  EXPECT_EQ(t.count(NodeState::kLeft), 1u);
  t.free(a);
  EXPECT_EQ(t.count(NodeState::kDead), 0u);
  EXPECT_EQ(t.size(), 1u);
}

TEST(NodeTable, FreeForgetsTheIdAndMakesTheSlotStale) {
  NodeTable t;
  Node& a = t.allocate("a", 0);
  a.addr = "10.0.0.1:7000";
  set_labels(a, {{"zone", "eu"}});
  a.due = 100;
  a.armed = 100;
  uint32_t slot = a.slot;
  uint32_t generation = a.generation;
  t.free(a);
  EXPECT_EQ(t.find("a"), nullptr);
  EXPECT_EQ(t.size(), 0u);
  Node& old = t.at(slot);
  EXPECT_FALSE(old.held);
  EXPECT_EQ(old.generation, generation + 1);
  EXPECT_EQ(old.due, kNoTimer);
  EXPECT_EQ(old.armed, kNoTimer);
  EXPECT_TRUE(old.id.empty());
  EXPECT_TRUE(old.addr.empty());
  EXPECT_TRUE(old.labels.empty());
}

TEST(NodeTable, AFreedSlotIsReusedAsAFreshNode) {
  NodeTable t;
  Node& a = t.allocate("a", 0);
  a.inc = 7;
  a.seq = 9;
  a.lease_ms = 1'000;
  a.last_seen_ms = 5;
  t.enter(a, NodeState::kLeft, 3);
  uint32_t slot = a.slot;
  t.free(a);
  Node& b = t.allocate("b", 20);
  EXPECT_EQ(b.slot, slot);
  EXPECT_EQ(t.slot_count(), 1u);
  EXPECT_EQ(b.generation, 1u);
  EXPECT_EQ(b.state, NodeState::kAlive);
  EXPECT_EQ(b.since_ms, 20);
  EXPECT_EQ(b.inc, 0u);
  EXPECT_EQ(b.seq, 0u);
  EXPECT_EQ(b.lease_ms, 0u);
  EXPECT_EQ(b.last_seen_ms, 0);
  EXPECT_EQ(t.find("b"), &b);
  EXPECT_EQ(t.count(NodeState::kAlive), 1u);
  EXPECT_EQ(t.count(NodeState::kLeft), 0u);
}

TEST(NodeTable, NodesNeverMoveAsTheTableGrows) {
  NodeTable t;
  Node* first = &t.allocate("node-0", 0);
  for (int i = 1; i < 10'000; ++i) t.allocate("node-" + std::to_string(i), 0);
  EXPECT_EQ(t.find("node-0"), first);
  EXPECT_EQ(first->id, "node-0");
  EXPECT_EQ(t.size(), 10'000u);
}

TEST(NodeSlots, SlotsKeepTheirPlaceAndOrderAcrossChunks) {
  NodeSlots<int> slots;
  const uint32_t n = NodeSlots<int>::kChunkNodes * 2 + 1;
  std::vector<int*> places;
  for (uint32_t i = 0; i < n; ++i) {
    int& value = slots.emplace_back();
    EXPECT_EQ(value, 0) << "slot " << i << " is not value-initialized";
    value = static_cast<int>(i);
    places.push_back(&value);
  }
  ASSERT_EQ(slots.size(), n);
  std::vector<int> seen;
  slots.for_each([&](const int& value) { seen.push_back(value); });
  ASSERT_EQ(seen.size(), n);
  for (uint32_t i = 0; i < n; ++i) {
    EXPECT_EQ(&slots[i], places[i]);
    EXPECT_EQ(seen[i], static_cast<int>(i));
  }
}

TEST(NodeTable, ForEachVisitsEveryHeldNodeOnce) {
  NodeTable t;
  t.allocate("a", 0);
  Node& b = t.allocate("b", 0);
  t.allocate("c", 0);
  t.free(b);
  std::vector<std::string> seen;
  t.for_each([&seen](const Node& n) { seen.push_back(n.id); });
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "c"}));
}

TEST(NodeTable, ANodeTakesAtMost144Bytes) {
  // The core's memory per node (MembershipOptions::max_nodes) counts on it.
  EXPECT_LE(sizeof(Node), 144u);
  NodeTable t;
  Node& a = t.allocate("a", 0);
  set_labels(a, {});
  EXPECT_TRUE(a.labels.empty());
  EXPECT_TRUE(labels_of(a).empty());
}

TEST(NodeTable, RecordOfShowsWhatObserversSee) {
  NodeTable t;
  Node& a = t.allocate("a", 42);
  a.inc = 3;
  a.addr = "x:1";
  set_labels(a, {{"k", "v"}});
  a.lease_ms = 900;
  NodeRecord r = record_of(a);
  EXPECT_EQ(r.node, "a");
  EXPECT_EQ(r.inc, 3u);
  EXPECT_EQ(r.state, NodeState::kAlive);
  EXPECT_EQ(r.addr, "x:1");
  EXPECT_EQ(r.labels, (Labels{{"k", "v"}}));
  EXPECT_EQ(r.lease_ms, 900u);
  EXPECT_EQ(r.since_ms, 42u);
}

}  // namespace
}  // namespace roster::internal
