// The agent channel over real sockets: acks, every refusal code, REQ
// clients, bad frame layouts and oversized bodies.
#include <gtest/gtest.h>

#include "roster/codec.h"
#include "support/admin.h"
#include "support/agent_client.h"
#include "support/broker_process.h"
#include "support/messages.h"
#include "support/raw_sockets.h"
#include "wire_bytes.h"

namespace roster::testing {
namespace {

class AgentChannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ =
        BrokerProcess::start({"--min-lease", "100ms", "--max-lease", "10s", "--dead-after", "100ms",
                              "--forget-dead-after", "1m", "--forget-left-after", "1m"});
    ASSERT_NE(broker_, nullptr);
  }

  uint64_t error_count(ErrorCode code) {
    AdminClient admin(broker_->endpoints().admin);
    auto stats = admin.stats();
    if (!stats) return 0;
    return stats->errors[std::string(to_string(code))];
  }

  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(AgentChannelTest, JoinIsAckedWithSeqEpochAndClampedLease) {
  AgentClient agent(broker_->endpoints().agents);
  auto ack = as_ack(agent.join("n1", 1, 1));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->seq, 1u);
  EXPECT_GT(ack->epoch, 0u);
  EXPECT_EQ(ack->lease_ms, 100u);  // clamped up to --min-lease
  EXPECT_EQ(ack->state, NodeState::kAlive);

  ack = as_ack(agent.join("n2", 1, 3'600'000));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->lease_ms, 10'000u);  // clamped down to --max-lease

  ack = as_ack(agent.heartbeat("n2", 1));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->seq, 3u);
}

TEST_F(AgentChannelTest, ReqClientGetsItsReplyWithTheDelimiter) {
  RequestClient req(broker_->endpoints().agents, zmq::socket_type::req);
  JoinRequest join;
  join.node = "req-node";
  join.inc = 7;
  join.seq = 42;
  join.lease_ms = 1'000;
  auto body = req.call(encode(AgentRequest(join)));
  ASSERT_TRUE(body);
  auto reply = decode_agent_reply(*body);
  ASSERT_TRUE(reply.ok()) << reply.error().message;
  auto* ack = std::get_if<Ack>(&reply.value());
  ASSERT_NE(ack, nullptr) << describe(reply.value());
  EXPECT_EQ(ack->seq, 42u);
}

TEST_F(AgentChannelTest, GarbageIsBadRequest) {
  AgentClient agent(broker_->endpoints().agents);
  for (std::string garbage : {std::string("not msgpack at all"), std::string("\x93\x01\x02\x03"),
                              std::string(), std::string("\xdd\xff\xff\xff\xff", 5)}) {
    auto body = agent.raw().call(garbage);
    ASSERT_TRUE(body);
    auto reply = decode_agent_reply(*body);
    ASSERT_TRUE(reply.ok());
    EXPECT_EQ(error_code(std::optional<AgentReply>(reply.value())), ErrorCode::kBadRequest)
        << describe(reply.value());
  }
  EXPECT_EQ(error_count(ErrorCode::kBadRequest), 4u);
}

TEST_F(AgentChannelTest, OtherProtocolVersionIsUnsupportedVersion) {
  AgentClient agent(broker_->endpoints().agents);
  std::string body = mp_map({{"v", mp_uint(2)},
                             {"type", mp_str("heartbeat")},
                             {"node", mp_str("n1")},
                             {"inc", mp_uint(1)},
                             {"seq", mp_uint(9)}});
  auto raw = agent.raw().call(body);
  ASSERT_TRUE(raw);
  auto reply = decode_agent_reply(*raw);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(error_code(std::optional<AgentReply>(reply.value())), ErrorCode::kUnsupportedVersion);
  EXPECT_EQ(error_count(ErrorCode::kUnsupportedVersion), 1u);
}

TEST_F(AgentChannelTest, InvalidUtf8IsBadRequestAndNeverPublished) {
  StateReader watcher(broker_->endpoints().publish);
  ASSERT_TRUE(watcher.next_on(kTopicSnapshot));  // subscribed
  AgentClient agent(broker_->endpoints().agents);
  auto reply = agent.join("bad-addr", 1, 1'000, "10.0.0.1:\xff\x1b[2J");
  ASSERT_EQ(error_code(reply), ErrorCode::kBadRequest);
  EXPECT_NE(std::get<ErrorReply>(*reply).message.find("field 'addr': value is not valid UTF-8"),
            std::string::npos)
      << describe(*reply);
  reply = agent.join("bad-label", 1, 1'000, "h:1", {{"zone", "\xff"}});
  ASSERT_EQ(error_code(reply), ErrorCode::kBadRequest);
  EXPECT_NE(std::get<ErrorReply>(*reply).message.find("field 'labels'"), std::string::npos)
      << describe(*reply);
  reply = agent.join("bad-key", 1, 1'000, "h:1", {{"\xc0\xaf", "a"}});
  ASSERT_EQ(error_code(reply), ErrorCode::kBadRequest);
  ASSERT_EQ(error_code(agent.join("good", 1, 1'000, "h:1")), std::nullopt);
  // A join of the current incarnation that would update its metadata with
  // ill-formed text is refused as a whole: the old record stays.
  reply = agent.join("good", 1, 1'000, "h\xed\xa0\x80:2");
  ASSERT_EQ(error_code(reply), ErrorCode::kBadRequest);
  reply = agent.call(AgentRequest(LeaveRequest{"good", 1, 100, "bye\xfe"}));
  ASSERT_EQ(error_code(reply), ErrorCode::kBadRequest);
  EXPECT_NE(std::get<ErrorReply>(*reply).message.find("field 'reason'"), std::string::npos)
      << describe(*reply);
  ASSERT_EQ(error_code(agent.join("marker", 1, 1'000)), std::nullopt);

  // Everything published up to the marker's delta holds well-formed text
  // only, and no refused node.
  bool marker_seen = false;
  while (!marker_seen) {
    auto message = watcher.next();
    ASSERT_TRUE(message) << "no delta with the marker";
    std::vector<NodeRecord> records;
    if (message->topic == kTopicDelta) {
      auto delta = decode_delta(message->body);
      ASSERT_TRUE(delta.ok()) << delta.error().message;
      EXPECT_EQ(delta.replaced_strings(), 0u);
      records = delta.value().changes;
    } else if (message->topic == kTopicSnapshot) {
      auto snapshot = decode_snapshot(message->body);
      ASSERT_TRUE(snapshot.ok()) << snapshot.error().message;
      EXPECT_EQ(snapshot.replaced_strings(), 0u);
      records = snapshot.value().nodes;
    }
    for (const NodeRecord& record : records) {
      EXPECT_TRUE(record.node == "good" || record.node == "marker") << record.node;
      EXPECT_EQ(record.addr, record.node == "good" ? "h:1" : "");
      marker_seen = marker_seen || record.node == "marker";
    }
  }
  AdminClient admin(broker_->endpoints().admin);
  auto snapshot = admin.snapshot();
  ASSERT_TRUE(snapshot);
  ASSERT_EQ(snapshot->nodes.size(), 2u);
  EXPECT_EQ(snapshot->nodes[0].node, "good");
  EXPECT_EQ(snapshot->nodes[0].addr, "h:1");
  EXPECT_EQ(snapshot->nodes[0].state, NodeState::kAlive);
  EXPECT_EQ(error_count(ErrorCode::kBadRequest), 5u);
}

TEST_F(AgentChannelTest, HeartbeatOfUnknownNodeIsUnknownNode) {
  AgentClient agent(broker_->endpoints().agents);
  auto reply = agent.heartbeat("never-joined", 1);
  EXPECT_EQ(error_code(reply), ErrorCode::kUnknownNode);
  reply = agent.leave("never-joined", 1);
  EXPECT_EQ(error_code(reply), ErrorCode::kUnknownNode);
  EXPECT_EQ(error_count(ErrorCode::kUnknownNode), 2u);
}

TEST_F(AgentChannelTest, LowerIncarnationIsStale) {
  AgentClient agent(broker_->endpoints().agents);
  ASSERT_EQ(error_code(agent.join("n1", 5, 1'000)), std::nullopt);
  auto reply = agent.heartbeat("n1", 4);
  EXPECT_EQ(error_code(reply), ErrorCode::kStaleIncarnation);
  EXPECT_EQ(error_count(ErrorCode::kStaleIncarnation), 1u);
}

TEST_F(AgentChannelTest, HeartbeatAfterLeaveIsLeft) {
  AgentClient agent(broker_->endpoints().agents);
  ASSERT_EQ(error_code(agent.join("n1", 1, 1'000)), std::nullopt);
  ASSERT_EQ(error_code(agent.leave("n1", 1)), std::nullopt);
  EXPECT_EQ(error_code(agent.leave("n1", 1)), std::nullopt);  // idempotent
  EXPECT_EQ(error_code(agent.heartbeat("n1", 1)), ErrorCode::kLeft);
  EXPECT_EQ(error_count(ErrorCode::kLeft), 1u);
}

TEST_F(AgentChannelTest, HeartbeatAfterDeathIsExpired) {
  AgentClient agent(broker_->endpoints().agents);
  AdminClient admin(broker_->endpoints().admin);
  ASSERT_EQ(error_code(agent.join("n1", 1, 100)), std::nullopt);
  bool dead = wait_until(
      [&] {
        auto reply = admin.call(NodeQuery{"n1"});
        auto* info = reply ? std::get_if<NodeInfo>(&*reply) : nullptr;
        return info && info->record.state == NodeState::kDead;
      },
      std::chrono::seconds(10), std::chrono::milliseconds(20));
  ASSERT_TRUE(dead);
  EXPECT_EQ(error_code(agent.heartbeat("n1", 1)), ErrorCode::kExpired);
  // A higher incarnation may join again.
  EXPECT_EQ(error_code(agent.join("n1", 2, 1'000)), std::nullopt);
  EXPECT_EQ(error_count(ErrorCode::kExpired), 1u);
}

TEST_F(AgentChannelTest, HeartbeatAfterOperatorRemovalIsRemoved) {
  AgentClient agent(broker_->endpoints().agents);
  AdminClient admin(broker_->endpoints().admin);
  ASSERT_EQ(error_code(agent.join("n1", 1, 1'000)), std::nullopt);
  auto removed = admin.call(RemoveCommand{"n1", std::nullopt});
  ASSERT_TRUE(removed);
  ASSERT_NE(std::get_if<RemovedReply>(&*removed), nullptr) << describe(*removed);
  EXPECT_EQ(error_code(agent.heartbeat("n1", 1)), ErrorCode::kRemoved);
  EXPECT_EQ(error_count(ErrorCode::kRemoved), 1u);
}

TEST_F(AgentChannelTest, BadFrameLayoutsGetBadRequestWithTheirEnvelope) {
  RequestClient dealer(broker_->endpoints().agents);
  // Two body frames.
  dealer.send_frames({"one", "two"});
  auto frames = dealer.receive_frames();
  ASSERT_EQ(frames.size(), 1u);
  auto reply = decode_agent_reply(frames[0]);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(error_code(std::optional<AgentReply>(reply.value())), ErrorCode::kBadRequest);

  // A delimiter and then two frames: the reply keeps the delimiter.
  dealer.send_frames({"", "one", "two"});
  frames = dealer.receive_frames();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0], "");
  reply = decode_agent_reply(frames[1]);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(error_code(std::optional<AgentReply>(reply.value())), ErrorCode::kBadRequest);

  // A well-formed DEALER request with a delimiter (REQ layout) works.
  dealer.send_frames({"", encode(AgentRequest(HeartbeatRequest{"nobody", 1, 1}))});
  frames = dealer.receive_frames();
  ASSERT_EQ(frames.size(), 2u);
  reply = decode_agent_reply(frames[1]);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(error_code(std::optional<AgentReply>(reply.value())), ErrorCode::kUnknownNode);

  AdminClient admin(broker_->endpoints().admin);
  auto stats = admin.stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->counters["bad_frames"], 2u);
}

TEST_F(AgentChannelTest, BodySlightlyOverTheLimitIsBadRequest) {
  AgentClient agent(broker_->endpoints().agents);
  std::string body(kMaxBodyBytes + 100, 'x');
  auto raw = agent.raw().call(body);
  ASSERT_TRUE(raw);
  auto reply = decode_agent_reply(*raw);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(error_code(std::optional<AgentReply>(reply.value())), ErrorCode::kBadRequest);
}

TEST_F(AgentChannelTest, OversizedBodyIsCutOffAndTheBrokerKeepsServing) {
  RequestClient dealer(broker_->endpoints().agents);
  // Far over ZMQ_MAXMSGSIZE: libzmq drops the connection, no reply.
  dealer.send(std::string(4 * kMaxBodyBytes, 'x'));
  // The DEALER reconnects; a request sent while the old connection was
  // being torn down may be lost with it, so retry (as agents do) until one
  // is answered. Every reply must be an ack: the oversized body got none.
  std::optional<Ack> ack;
  uint64_t seq = 0;
  bool answered = wait_until(
      [&] {
        JoinRequest join;
        join.node = "after-oversize";
        join.inc = 1;
        join.seq = ++seq;
        join.lease_ms = 1'000;
        dealer.send(encode(AgentRequest(join)));
        auto body = dealer.receive(std::chrono::milliseconds(300));
        if (!body) return false;
        auto reply = decode_agent_reply(*body);
        EXPECT_TRUE(reply.ok());
        if (!reply.ok()) return true;
        if (auto* a = std::get_if<Ack>(&reply.value())) ack = *a;
        EXPECT_TRUE(ack) << describe(reply.value());
        return true;
      },
      std::chrono::seconds(20), std::chrono::milliseconds(1));
  ASSERT_TRUE(answered);
  ASSERT_TRUE(ack);
  AgentClient other(broker_->endpoints().agents);
  EXPECT_EQ(error_code(other.heartbeat("after-oversize", 1)), std::nullopt);
  EXPECT_EQ(error_count(ErrorCode::kBadRequest), 0u);
}

}  // namespace
}  // namespace roster::testing
