// Capacity limits of the membership core (max_nodes, max_record_bytes):
// which joins are refused with over_capacity and which are not, driven by
// a simulated clock (no sleeps).
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <variant>

#include "roster/membership.h"
#include "support/core_fixture.h"

namespace roster {
namespace {

using testing::ErrorOf;
using testing::MessageOf;

// The core test timers, at most 3 nodes and records of at most 40 bytes.
MembershipOptions CapacityOptions() {
  MembershipOptions o = testing::core_test_options();
  o.max_nodes = 3;
  o.max_record_bytes = 40;
  return o;
}

class MembershipCapacityTest : public testing::CoreFixture {
 protected:
  MembershipCapacityTest() : CoreFixture(CapacityOptions()) {}

  // A join with a lease of 1 s.
  AgentReply Join(const std::string& node, uint64_t inc, uint64_t seq, std::string addr = "",
                  Labels labels = {}) {
    return CoreFixture::Join(node, inc, seq, 1'000, std::move(addr), std::move(labels));
  }

  void JoinThree() {
    for (const char* node : {"n1", "n2", "n3"}) {
      ASSERT_EQ(ErrorOf(Join(node, 1, 1)), std::nullopt) << node;
    }
    ASSERT_EQ(core_.counters().nodes, 3u);
  }
};

TEST_F(MembershipCapacityTest, NewNodeBeyondMaxNodesIsRefused) {
  JoinThree();
  AgentReply reply = Join("n4", 1, 9);
  EXPECT_EQ(ErrorOf(reply), ErrorCode::kOverCapacity);
  const auto& error = std::get<ErrorReply>(reply);
  EXPECT_EQ(error.seq, 9u);
  EXPECT_EQ(error.inc, std::nullopt);
  // The message names the limit and its value.
  EXPECT_NE(error.message.find("max-nodes"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find('3'), std::string::npos) << error.message;
  EXPECT_EQ(core_.node("n4"), std::nullopt);
  EXPECT_EQ(core_.counters().nodes, 3u);
  // Nothing changed: the refusal makes no delta.
  core_.commit(now());
  EXPECT_FALSE(core_.commit(now()));
}

TEST_F(MembershipCapacityTest, HeldNodesMayRejoinAndRestartAtCapacity) {
  JoinThree();
  // Re-join of the current incarnation (metadata update).
  EXPECT_EQ(ErrorOf(Join("n1", 1, 2, "10.0.0.1:80")), std::nullopt);
  EXPECT_EQ(core_.node("n1")->record.addr, "10.0.0.1:80");
  // A restart (higher incarnation) replaces the record: no new one.
  EXPECT_EQ(ErrorOf(Join("n2", 2, 1)), std::nullopt);
  EXPECT_EQ(core_.node("n2")->record.inc, 2u);
  // A repeated join is acknowledged as before.
  EXPECT_EQ(ErrorOf(Join("n3", 1, 1)), std::nullopt);
  EXPECT_EQ(core_.counters().nodes, 3u);
}

TEST_F(MembershipCapacityTest, GoneNodesCountUntilForgotten) {
  JoinThree();
  core_.commit(now());
  ASSERT_EQ(ErrorOf(core_.handle(LeaveRequest{"n1", 1, 2, ""}, now())), std::nullopt);
  // A left record is still held.
  EXPECT_EQ(ErrorOf(Join("n4", 1, 1)), ErrorCode::kOverCapacity);
  // Forgotten after forget_left_after: room for a new node.
  Advance(3'100);
  ASSERT_EQ(core_.node("n1"), std::nullopt);
  EXPECT_EQ(ErrorOf(Join("n4", 1, 1)), std::nullopt);
  EXPECT_EQ(core_.counters().nodes, 3u);
}

TEST_F(MembershipCapacityTest, OperatorRemovalMakesRoom) {
  JoinThree();
  ASSERT_TRUE(std::holds_alternative<RemovedReply>(core_.remove("n2", std::nullopt, now())));
  EXPECT_EQ(ErrorOf(Join("n4", 1, 1)), std::nullopt);
}

TEST_F(MembershipCapacityTest, RecordOverMaxRecordBytesIsRefused) {
  // 2 (id) + 16 (addr) + 22 (labels) = 40 bytes: at the limit.
  Labels labels = {{"zone", "eu-west-1a"}, {"ro", "db0000"}};
  ASSERT_EQ(record_bytes("n1", "10.0.0.1:7000/ab", labels), 40u);
  EXPECT_EQ(ErrorOf(Join("n1", 1, 1, "10.0.0.1:7000/ab", labels)), std::nullopt);
  // One byte more.
  AgentReply reply = Join("n2", 1, 1, "10.0.0.1:7000/abc", labels);
  EXPECT_EQ(ErrorOf(reply), ErrorCode::kOverCapacity);
  EXPECT_NE(MessageOf(reply).find("max-record-bytes"), std::string::npos) << MessageOf(reply);
  EXPECT_NE(MessageOf(reply).find("41"), std::string::npos) << MessageOf(reply);
  EXPECT_NE(MessageOf(reply).find("40"), std::string::npos) << MessageOf(reply);
  EXPECT_EQ(core_.node("n2"), std::nullopt);
}

TEST_F(MembershipCapacityTest, RejoinOrRestartGrowingTheRecordIsRefused) {
  ASSERT_EQ(ErrorOf(Join("n1", 1, 1, "a")), std::nullopt);
  core_.commit(now());
  Labels big = {{"key", std::string(40, 'v')}};
  // Re-join of the current incarnation with larger metadata.
  EXPECT_EQ(ErrorOf(Join("n1", 1, 2, "a", big)), ErrorCode::kOverCapacity);
  // A restart with larger metadata.
  EXPECT_EQ(ErrorOf(Join("n1", 2, 1, "a", big)), ErrorCode::kOverCapacity);
  // The held record is unchanged, and nothing was published.
  auto info = core_.node("n1");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->record.inc, 1u);
  EXPECT_TRUE(info->record.labels.empty());
  EXPECT_FALSE(core_.commit(now()));
  // The refused request did not consume its seq: seq 2 still applies.
  EXPECT_EQ(ErrorOf(Join("n1", 1, 2, "b")), std::nullopt);
  EXPECT_EQ(core_.node("n1")->record.addr, "b");
}

TEST_F(MembershipCapacityTest, OlderIncarnationIsStaleNotOverCapacity) {
  ASSERT_EQ(ErrorOf(Join("n1", 5, 1)), std::nullopt);
  Labels big = {{"key", std::string(40, 'v')}};
  EXPECT_EQ(ErrorOf(Join("n1", 4, 1, "", big)), ErrorCode::kStaleIncarnation);
}

}  // namespace
}  // namespace roster
