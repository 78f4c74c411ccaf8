// SnapshotGate: at most one admin snapshot in flight per client, one more
// waiting, any further one refused; delivery flags set by hand here.
#include "snapshot_gate.h"

#include <gtest/gtest.h>

namespace roster::broker {
namespace {

using Verdict = SnapshotGate::Verdict;

TEST(SnapshotGateTest, FirstRequestIsForwarded) {
  SnapshotGate gate;
  EXPECT_EQ(gate.request("a", false), Verdict::kForward);
  EXPECT_EQ(gate.in_flight(), 1u);
}

TEST(SnapshotGateTest, SecondWaitsThirdIsRefused) {
  SnapshotGate gate;
  ASSERT_EQ(gate.request("a", false), Verdict::kForward);
  EXPECT_EQ(gate.request("a", false), Verdict::kWait);
  EXPECT_EQ(gate.request("a", false), Verdict::kRefuse);
  EXPECT_EQ(gate.request("a", false), Verdict::kRefuse);
}

TEST(SnapshotGateTest, ClientsAreIndependent) {
  SnapshotGate gate;
  ASSERT_EQ(gate.request("a", false), Verdict::kForward);
  ASSERT_EQ(gate.request("a", false), Verdict::kWait);
  EXPECT_EQ(gate.request("b", false), Verdict::kForward);
  EXPECT_EQ(gate.in_flight(), 2u);
}

TEST(SnapshotGateTest, NothingReleasedBeforeTheReplyIsSent) {
  SnapshotGate gate;
  gate.request("a", false);
  gate.request("a", true);
  EXPECT_TRUE(gate.release().empty());
  EXPECT_EQ(gate.in_flight(), 1u);
}

TEST(SnapshotGateTest, NothingReleasedBeforeDelivery) {
  SnapshotGate gate;
  gate.request("a", false);
  gate.request("a", true);
  auto flag = gate.sending("a");
  EXPECT_TRUE(gate.release().empty());
  EXPECT_EQ(gate.request("a", false), Verdict::kRefuse);
  flag->store(true);
  auto released = gate.release();
  ASSERT_EQ(released.size(), 1u);
  EXPECT_EQ(released[0].routing_id, "a");
  EXPECT_TRUE(released[0].delimiter);
  // The released request is now the one in flight.
  EXPECT_EQ(gate.in_flight(), 1u);
  EXPECT_EQ(gate.request("a", false), Verdict::kWait);
}

TEST(SnapshotGateTest, DeliveredClientIsForgotten) {
  SnapshotGate gate;
  gate.request("a", false);
  gate.sending("a")->store(true);
  EXPECT_TRUE(gate.release().empty());
  EXPECT_EQ(gate.in_flight(), 0u);
  EXPECT_EQ(gate.request("a", false), Verdict::kForward);
}

}  // namespace
}  // namespace roster::broker
