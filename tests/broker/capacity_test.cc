// Capacity limits of a real broker (--max-nodes, --max-record-bytes): a
// join over a limit gets over_capacity, counted in stats and logged; the
// broker refuses at start a configuration whose largest snapshot clients
// could not read.
#include <gtest/gtest.h>

#include <algorithm>

#include "support/admin.h"
#include "support/agent_client.h"
#include "support/broker_process.h"
#include "support/messages.h"
#include "support/raw_sockets.h"

namespace roster::testing {
namespace {

std::string MessageOf(const std::optional<AgentReply>& reply) {
  if (!reply) return "";
  if (const auto* error = std::get_if<ErrorReply>(&*reply)) return error->message;
  return "";
}

TEST(CapacityTest, JoinBeyondMaxNodesIsRefusedAndCounted) {
  auto broker = BrokerProcess::start({"--max-nodes", "3", "--forget-left-after", "100ms"});
  ASSERT_NE(broker, nullptr);
  AgentClient agent(broker->endpoints().agents);
  for (const char* node : {"n1", "n2", "n3"}) {
    ASSERT_EQ(error_code(agent.join(node, 1, 5'000)), std::nullopt) << node;
  }
  auto refused = agent.join("n4", 1, 5'000);
  EXPECT_EQ(error_code(refused), ErrorCode::kOverCapacity) << describe(*refused);
  EXPECT_NE(MessageOf(refused).find("max-nodes limit of 3"), std::string::npos)
      << MessageOf(refused);
  // A held node rejoins and restarts at capacity.
  EXPECT_EQ(error_code(agent.join("n1", 1, 5'000, "10.0.0.1:80")), std::nullopt);
  EXPECT_EQ(error_code(agent.join("n2", 2, 5'000)), std::nullopt);

  AdminClient admin(broker->endpoints().admin);
  auto stats = admin.stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->nodes, 3u);
  EXPECT_EQ(stats->errors["over_capacity"], 1u);
  auto snapshot = admin.snapshot();
  ASSERT_TRUE(snapshot);
  EXPECT_EQ(snapshot->nodes.size(), 3u);

  // Once a node is gone and forgotten, there is room again.
  ASSERT_EQ(error_code(agent.leave("n3", 1)), std::nullopt);
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = admin.stats();
        return s && s->nodes == 2;
      },
      kReplyTimeout, std::chrono::milliseconds(20)));
  EXPECT_EQ(error_code(agent.join("n4", 1, 5'000)), std::nullopt);

  // The refusal is logged (warn: the operator should know).
  std::string output;
  ASSERT_TRUE(broker->process().wait_for_output("refused (over_capacity)", kReplyTimeout, &output));
  EXPECT_NE(output.find("warning agent request refused (over_capacity)"), std::string::npos)
      << output;
}

TEST(CapacityTest, JoinOverMaxRecordBytesIsRefused) {
  auto broker = BrokerProcess::start({"--max-record-bytes", "100"});
  ASSERT_NE(broker, nullptr);
  AgentClient agent(broker->endpoints().agents);
  // 2 + 8 + 90 = 100 bytes: accepted.
  ASSERT_EQ(error_code(agent.join("n1", 1, 5'000, "10.0.0.1", {{"k", std::string(89, 'v')}})),
            std::nullopt);
  auto refused = agent.join("n2", 1, 5'000, "10.0.0.1", {{"k", std::string(90, 'v')}});
  EXPECT_EQ(error_code(refused), ErrorCode::kOverCapacity);
  EXPECT_NE(MessageOf(refused).find("max-record-bytes limit of 100"), std::string::npos)
      << MessageOf(refused);
  // A re-join that grows the record is refused too; the record stays.
  EXPECT_EQ(error_code(agent.join("n1", 1, 5'000, "10.0.0.1:7000", {{"k", std::string(89, 'v')}})),
            ErrorCode::kOverCapacity);
  AdminClient admin(broker->endpoints().admin);
  auto node = admin.call(NodeQuery{"n1"});
  ASSERT_TRUE(node);
  ASSERT_NE(std::get_if<NodeInfo>(&*node), nullptr) << describe(*node);
  EXPECT_EQ(std::get<NodeInfo>(*node).record.addr, "10.0.0.1");
  auto stats = admin.stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->errors["over_capacity"], 2u);
  EXPECT_EQ(stats->nodes, 1u);
}

TEST(CapacityTest, ConfigurationOverTheSnapshotLimitIsRefusedAtStart) {
  auto result = run_command({bin("roster-broker"), "--max-nodes", "300000", "--max-record-bytes",
                             "2048", "--agents", "tcp://127.0.0.1:*", "--publish",
                             "tcp://127.0.0.1:*", "--admin", "tcp://127.0.0.1:*"});
  EXPECT_EQ(result.exit_status, 2) << result.err;
  EXPECT_NE(result.err.find("--max-nodes (300000)"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("536870912"), std::string::npos) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

}  // namespace
}  // namespace roster::testing
