// The admin channel: every request over DEALER and REQ, node details,
// stats counting, and bad requests.
#include <gtest/gtest.h>

#include <iostream>

#include "roster/clock.h"
#include "roster/codec.h"
#include "support/admin.h"
#include "support/agent_client.h"
#include "support/broker_process.h"
#include "support/messages.h"
#include "support/raw_sockets.h"
#include "wire_bytes.h"

namespace roster::testing {
namespace {

class AdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = BrokerProcess::start({"--min-lease", "100ms"});
    ASSERT_NE(broker_, nullptr);
  }

  // Sends `body` as it is, over a socket of `type`; the reply decoded.
  std::optional<AdminReply> raw_call(const std::string& body,
                                     zmq::socket_type type = zmq::socket_type::dealer) {
    RequestClient client(broker_->endpoints().admin, type);
    auto raw = client.call(body);
    if (!raw) return std::nullopt;
    auto decoded = decode_admin_reply(*raw);
    EXPECT_TRUE(decoded.ok()) << decoded.error().message;
    if (!decoded.ok()) return std::nullopt;
    return decoded.value();
  }

  // `request` over a REQ socket.
  std::optional<AdminReply> req_call(const AdminRequest& request) {
    return raw_call(encode(request), zmq::socket_type::req);
  }

  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(AdminTest, NodeReportsTheRecordAndLastSeen) {
  AgentClient agent(broker_->endpoints().agents);
  uint64_t before = static_cast<uint64_t>(unix_now_ms());
  ASSERT_EQ(error_code(agent.join("web-1", 9, 5'000, "10.1.2.3:8080", {{"role", "web"}})),
            std::nullopt);
  AdminClient admin(broker_->endpoints().admin);
  auto reply = admin.call(NodeQuery{"web-1"});
  ASSERT_TRUE(reply);
  auto* info = std::get_if<NodeInfo>(&*reply);
  ASSERT_NE(info, nullptr) << describe(*reply);
  EXPECT_EQ(info->record.node, "web-1");
  EXPECT_EQ(info->record.inc, 9u);
  EXPECT_EQ(info->record.state, NodeState::kAlive);
  EXPECT_EQ(info->record.addr, "10.1.2.3:8080");
  EXPECT_EQ(info->record.labels, (Labels{{"role", "web"}}));
  EXPECT_EQ(info->record.lease_ms, 5'000u);
  // The broker's clock is anchored to Unix time at its start: allow a
  // little skew against this process's wall clock.
  EXPECT_GE(info->last_seen_ms + 1'000, before);
  EXPECT_LE(info->last_seen_ms, static_cast<uint64_t>(unix_now_ms()) + 1'000);

  EXPECT_EQ(error_code(admin.call(NodeQuery{"nobody"})), ErrorCode::kUnknownNode);
}

TEST_F(AdminTest, ReqClientCanUseEveryRequest) {
  AgentClient agent(broker_->endpoints().agents);
  ASSERT_EQ(error_code(agent.join("n1", 1, 5'000)), std::nullopt);
  auto snapshot_reply = req_call(SnapshotQuery{});
  ASSERT_TRUE(snapshot_reply);
  const auto* snapshot = std::get_if<Snapshot>(&*snapshot_reply);
  ASSERT_NE(snapshot, nullptr) << describe(*snapshot_reply);
  ASSERT_EQ(snapshot->nodes.size(), 1u);
  EXPECT_EQ(snapshot->nodes[0].node, "n1");
  auto node = req_call(NodeQuery{"n1"});
  ASSERT_TRUE(node);
  EXPECT_NE(std::get_if<NodeInfo>(&*node), nullptr) << describe(*node);
  auto stats_reply = req_call(StatsQuery{});
  ASSERT_TRUE(stats_reply);
  const auto* stats = std::get_if<Stats>(&*stats_reply);
  ASSERT_NE(stats, nullptr) << describe(*stats_reply);
  EXPECT_EQ(stats->nodes, 1u);
  auto removed = req_call(RemoveCommand{"n1", 1});
  ASSERT_TRUE(removed);
  ASSERT_NE(std::get_if<RemovedReply>(&*removed), nullptr) << describe(*removed);
  // An error reply travels back to a REQ too.
  EXPECT_EQ(error_code(req_call(NodeQuery{"n1"})), ErrorCode::kUnknownNode);
}

TEST_F(AdminTest, StatsCountNodesMessagesAndErrors) {
  AgentClient agent(broker_->endpoints().agents);
  ASSERT_EQ(error_code(agent.join("a", 1, 5'000)), std::nullopt);
  ASSERT_EQ(error_code(agent.join("b", 1, 5'000)), std::nullopt);
  ASSERT_EQ(error_code(agent.leave("b", 1)), std::nullopt);
  EXPECT_EQ(error_code(agent.heartbeat("c", 1)), ErrorCode::kUnknownNode);
  ASSERT_TRUE(agent.raw().call("garbage"));
  AdminClient admin(broker_->endpoints().admin);
  auto stats = admin.stats();
  ASSERT_TRUE(stats);
  EXPECT_GT(stats->epoch, 0u);
  EXPECT_EQ(stats->nodes, 2u);
  EXPECT_EQ(stats->by_state["alive"], 1u);
  EXPECT_EQ(stats->by_state["left"], 1u);
  EXPECT_EQ(stats->by_state["suspect"], 0u);
  EXPECT_EQ(stats->by_state["dead"], 0u);
  EXPECT_EQ(stats->messages, 6u);  // 5 agent requests and this stats request
  EXPECT_EQ(stats->errors["unknown_node"], 1u);
  EXPECT_EQ(stats->errors["bad_request"], 1u);
  EXPECT_EQ(stats->errors.size(), kErrorCodeCount - 1);  // all but kUnrecognized
  EXPECT_GE(stats->version, 1u);
  EXPECT_EQ(stats->counters["agent_requests"], 5u);
  EXPECT_EQ(stats->counters["admin_requests"], 1u);
  EXPECT_TRUE(stats->counters.count("stalls"));
  EXPECT_TRUE(stats->counters.count("tombstones"));
  EXPECT_TRUE(stats->counters.count("bad_frames"));
  auto later = admin.stats();
  ASSERT_TRUE(later);
  EXPECT_GE(later->uptime_ms, stats->uptime_ms);
}

TEST_F(AdminTest, BadRequestsGetErrorReplies) {
  EXPECT_EQ(error_code(raw_call("{not msgpack")), ErrorCode::kBadRequest);
  EXPECT_EQ(error_code(raw_call("")), ErrorCode::kBadRequest);
  EXPECT_EQ(error_code(raw_call(mp_map({{"v", mp_uint(1)}, {"type", mp_str("reboot")}}))),
            ErrorCode::kBadRequest);
  EXPECT_EQ(error_code(raw_call(mp_map({{"v", mp_uint(1)}, {"type", mp_str("node")}}))),
            ErrorCode::kBadRequest);  // no node
  EXPECT_EQ(error_code(raw_call(mp_map({{"v", mp_uint(9)}, {"type", mp_str("stats")}}))),
            ErrorCode::kUnsupportedVersion);
  EXPECT_EQ(error_code(raw_call(std::string(kMaxBodyBytes + 10, '\xc1'))), ErrorCode::kBadRequest);

  RequestClient dealer(broker_->endpoints().admin);
  dealer.send_frames({"a", "b", "c"});
  auto frames = dealer.receive_frames();
  ASSERT_EQ(frames.size(), 1u);
  auto reply = decode_admin_reply(frames[0]);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(error_code(std::optional<AdminReply>(reply.value())), ErrorCode::kBadRequest);

  AdminClient admin(broker_->endpoints().admin);
  auto stats = admin.stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->errors["bad_request"], 6u);
  EXPECT_EQ(stats->errors["unsupported_version"], 1u);
  EXPECT_EQ(stats->counters["bad_frames"], 1u);
}

TEST_F(AdminTest, ASnapshotAskedAfterAnAckHoldsTheChange) {
  AgentClient agent(broker_->endpoints().agents);
  AdminClient admin(broker_->endpoints().admin);
  for (int i = 0; i < 20; ++i) {
    std::string node = "n" + std::to_string(i);
    ASSERT_EQ(error_code(agent.join(node, 1, 5'000)), std::nullopt);
    auto snapshot = admin.snapshot();
    ASSERT_TRUE(snapshot);
    bool found = false;
    for (const auto& r : snapshot->nodes) found = found || r.node == node;
    EXPECT_TRUE(found) << node << " missing from the snapshot at version " << snapshot->version;
  }
}

// One snapshot in flight per client, one more waits, the rest are refused
// with over_capacity: a client that pipelines snapshot requests still gets
// exactly one reply to each.
TEST(AdminSnapshotBoundTest, PipelinedSnapshotRequestsEachGetOneReply) {
  auto broker = BrokerProcess::start();
  ASSERT_NE(broker, nullptr);
  RequestClient admin(broker->endpoints().admin);
  constexpr int kRequests = 50;
  for (int i = 0; i < kRequests; ++i) admin.send(encode(AdminRequest(SnapshotQuery{})));
  int snapshots = 0;
  int refused = 0;
  for (int i = 0; i < kRequests; ++i) {
    auto body = admin.receive();
    ASSERT_TRUE(body) << "reply " << i << " missing";
    auto reply = decode_admin_reply(*body);
    ASSERT_TRUE(reply.ok()) << reply.error().message;
    if (std::holds_alternative<Snapshot>(reply.value())) {
      ++snapshots;
    } else {
      ASSERT_EQ(error_code(std::optional<AdminReply>(reply.value())), ErrorCode::kOverCapacity)
          << describe(reply.value());
      ++refused;
    }
  }
  EXPECT_GE(snapshots, 1);
  EXPECT_EQ(admin.receive(std::chrono::milliseconds(200)), std::nullopt);
  std::cout << snapshots << " snapshots, " << refused << " refused" << std::endl;
}

}  // namespace
}  // namespace roster::testing
