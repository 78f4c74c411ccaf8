// Every message type survives encode then decode unchanged, and the bytes
// on the wire follow PROTOCOL.md.
#include <gtest/gtest.h>

#include <string>

#include "roster/codec.h"
#include "roster/view.h"

namespace roster {
namespace {

NodeRecord alive_record(std::string node) {
  NodeRecord r;
  r.node = std::move(node);
  r.inc = 1700000000123456789ull;
  r.state = NodeState::kAlive;
  r.addr = "10.0.0.7:8080";
  r.labels = {{"zone", "eu-west-1a"}, {"role", "worker"}};
  r.lease_ms = 3000;
  r.since_ms = 1732700000000ull;
  return r;
}

NodeRecord removed_record(std::string node) {
  NodeRecord r;
  r.node = std::move(node);
  r.inc = 42;
  r.state = NodeState::kRemoved;
  return r;
}

template <typename T>
const T& as(const Decoded<T>& d) {
  EXPECT_TRUE(d.ok()) << (d.ok() ? "" : d.error().message);
  return d.value();
}

TEST(CodecRoundTrip, Join) {
  JoinRequest m{"node-1.example:a_b", 17, 3, 5000, "10.1.2.3:7000", {}};
  for (int i = 0; i < 8; ++i) m.labels["key" + std::to_string(i)] = "value" + std::to_string(i);
  auto d = decode_agent_request(encode(AgentRequest(m)));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(std::get<JoinRequest>(d.value()), m);
}

TEST(CodecRoundTrip, JoinWithoutAddrOrLabels) {
  JoinRequest m{"n", 1, 1, 1000, "", {}};
  auto d = decode_agent_request(encode(AgentRequest(m)));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(std::get<JoinRequest>(d.value()), m);
}

TEST(CodecRoundTrip, JoinAtEveryLimit) {
  JoinRequest m{std::string(kMaxNodeIdBytes, 'n'), UINT64_MAX, UINT64_MAX, UINT64_MAX,
                std::string(kMaxAddrBytes, 'a'),   {}};
  for (size_t i = 0; i < kMaxLabels; ++i) {
    std::string key = std::to_string(i);
    key.resize(kMaxLabelKeyBytes, 'k');
    m.labels[key] = std::string(kMaxLabelValueBytes, 'v');
  }
  auto d = decode_agent_request(encode(AgentRequest(m)));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(std::get<JoinRequest>(d.value()), m);
}

TEST(CodecRoundTrip, Heartbeat) {
  HeartbeatRequest m{"node-2", 99, 12345};
  auto d = decode_agent_request(encode(AgentRequest(m)));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(std::get<HeartbeatRequest>(d.value()), m);
}

TEST(CodecRoundTrip, LeaveWithAndWithoutReason) {
  for (std::string reason : {"", "shutting down"}) {
    LeaveRequest m{"node-3", 5, 6, reason};
    auto d = decode_agent_request(encode(AgentRequest(m)));
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(std::get<LeaveRequest>(d.value()), m);
  }
}

TEST(CodecRoundTrip, LeaveReasonTruncatedToLimitOnEncode) {
  LeaveRequest m{"node-3", 5, 6, std::string(kMaxReasonBytes + 10, 'r')};
  auto d = decode_agent_request(encode(AgentRequest(m)));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(std::get<LeaveRequest>(d.value()).reason, std::string(kMaxReasonBytes, 'r'));
}

TEST(CodecRoundTrip, AckInEveryState) {
  for (NodeState state : {NodeState::kAlive, NodeState::kSuspect, NodeState::kDead,
                          NodeState::kLeft, NodeState::kRemoved}) {
    Ack m{7, 1732700000000ull, 2500, state};
    auto d = decode_agent_reply(encode(AgentReply(m)));
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(std::get<Ack>(d.value()), m);
  }
}

TEST(CodecRoundTrip, AgentErrorWithEveryCode) {
  for (size_t i = 0; i < kErrorCodeCount; ++i) {
    ErrorReply m{77, static_cast<ErrorCode>(i), "because " + std::to_string(i)};
    auto d = decode_agent_reply(encode(AgentReply(m)));
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(std::get<ErrorReply>(d.value()), m);
  }
}

TEST(CodecRoundTrip, ErrorReplyWithIncHint) {
  ErrorReply m{9, ErrorCode::kStaleIncarnation, "older", 123456789012345ull};
  auto d = decode_agent_reply(encode(AgentReply(m)));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(std::get<ErrorReply>(d.value()), m);
  auto admin = decode_admin_reply(encode(AdminReply(ErrorReply{0, ErrorCode::kRemoved, "x", 4})));
  ASSERT_TRUE(admin.ok()) << admin.error().message;
  EXPECT_EQ(std::get<ErrorReply>(admin.value()).inc, std::optional<uint64_t>(4));
}

TEST(CodecRoundTrip, OverCapacityCodeSpelling) {
  EXPECT_EQ(to_string(ErrorCode::kOverCapacity), "over_capacity");
  EXPECT_EQ(error_code_from_string("over_capacity"), ErrorCode::kOverCapacity);
  EXPECT_EQ(error_code_from_string("unrecognized"), std::nullopt);
}

TEST(CodecRoundTrip, ErrorMessageTruncatedOnUtf8BoundaryOnEncode) {
  std::string message(kMaxMessageBytes - 1, 'x');
  message += "\xc3\xa9\xc3\xa9";  // "éé": the limit falls inside the first one
  ErrorReply m{1, ErrorCode::kBadRequest, message};
  auto d = decode_agent_reply(encode(AgentReply(m)));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(std::get<ErrorReply>(d.value()).message, std::string(kMaxMessageBytes - 1, 'x'));
}

// Epoch 3, version 1000: 50 records node-0..node-49, alive but for
// suspect node-7, dead node-8 and left node-9; node-10 has no addr or labels.
Snapshot mixed_snapshot(bool complete) {
  Snapshot s{3, 1000, complete, 1732700000999ull, {}};
  for (int i = 0; i < 50; ++i) s.nodes.push_back(alive_record("node-" + std::to_string(i)));
  s.nodes[7].state = NodeState::kSuspect;
  s.nodes[8].state = NodeState::kDead;
  s.nodes[9].state = NodeState::kLeft;
  s.nodes[10].labels.clear();
  s.nodes[10].addr.clear();
  return s;
}

TEST(CodecRoundTrip, Snapshot) {
  const Snapshot m = mixed_snapshot(true);
  auto d = decode_snapshot(encode(m));
  EXPECT_EQ(as(d), m);
}

// The publisher encodes snapshots straight from its View: the bytes must be
// those of the Snapshot the view would copy into.
TEST(CodecSnapshotFromView, SameBytesAsTheSnapshotOfTheView) {
  const Snapshot base = mixed_snapshot(false);
  View view;
  view.reset(base);
  Delta delta{3, 1001, 1000, 1732700001000ull, {alive_record("added"), removed_record("node-3")}};
  ASSERT_EQ(view.apply(delta), View::ApplyResult::kApplied);
  view.set_complete(true);

  const uint64_t now = 1732700002000ull;
  const std::string from_view =
      encode_snapshot({view.epoch(), view.version(), view.complete(), now}, view.nodes());
  EXPECT_EQ(from_view, encode(view.to_snapshot(now)));
  Snapshot decoded = as(decode_snapshot(from_view));
  EXPECT_EQ(decoded, view.to_snapshot(now));
}

TEST(CodecSnapshotFromView, EmptyView) {
  View view;
  view.reset(Snapshot{1, 0, false, 5, {}});
  EXPECT_EQ(encode_snapshot({1, 0, false, 7}, view.nodes()), encode(view.to_snapshot(7)));
}

TEST(CodecSnapshotFromView, RemovedRecordsAreEncodedAsInAVector) {
  std::map<std::string, NodeRecord> nodes{{"a", alive_record("a")}, {"b", removed_record("b")}};
  Snapshot copy{2, 9, true, 11, {nodes["a"], nodes["b"]}};
  EXPECT_EQ(encode_snapshot({2, 9, true, 11}, nodes), encode(copy));
}

TEST(CodecRoundTrip, EmptyIncompleteSnapshot) {
  Snapshot m{1, 0, false, 5, {}};
  EXPECT_EQ(as(decode_snapshot(encode(m))), m);
}

TEST(CodecRoundTrip, DeltaWithRemovedRecord) {
  Delta m{3, 11, 10, 1732700001000ull, {alive_record("a"), removed_record("b")}};
  EXPECT_EQ(as(decode_delta(encode(m))), m);
}

TEST(CodecRoundTrip, RemovedRecordCarriesOnlyNodeIncState) {
  NodeRecord r = removed_record("gone");
  r.addr = "1.2.3.4:5";
  r.labels = {{"k", "v"}};
  r.lease_ms = 10;
  r.since_ms = 20;
  Delta m{1, 2, 1, 3, {r}};
  std::string body = encode(m);
  EXPECT_EQ(body.find("addr"), std::string::npos);
  EXPECT_EQ(body.find("labels"), std::string::npos);
  auto d = decode_delta(body);
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d.value().changes.size(), 1u);
  EXPECT_EQ(d.value().changes[0], removed_record("gone"));
}

TEST(CodecRoundTrip, Beat) {
  Beat m{9, 123456, 1732700002000ull};
  EXPECT_EQ(as(decode_beat(encode(m))), m);
}

TEST(CodecRoundTrip, EveryAdminRequest) {
  const AdminRequest requests[] = {
      SnapshotQuery{},
      NodeQuery{"node-1"},
      RemoveCommand{"node-1", std::nullopt},
      RemoveCommand{"node-1", 77},
      StatsQuery{},
  };
  for (const AdminRequest& m : requests) {
    auto d = decode_admin_request(encode(m));
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(d.value(), m);
  }
}

TEST(CodecRoundTrip, EveryAdminReply) {
  Snapshot snapshot{2, 5, true, 100, {alive_record("x"), alive_record("y")}};
  NodeInfo info{alive_record("x"), 1732700003000ull};
  Stats stats;
  stats.epoch = 2;
  stats.version = 5;
  stats.nodes = 2;
  stats.by_state = {{"alive", 1}, {"suspect", 1}};
  stats.messages = 1000;
  stats.errors = {{"bad_request", 3}, {"stale_incarnation", 1}};
  stats.uptime_ms = 60000;
  stats.counters = {{"publisher_drops", 0}, {"stalls", 2}};
  const AdminReply replies[] = {
      snapshot,
      info,
      NodeInfo{removed_record("z"), 5},
      RemovedReply{"x", 1700000000123456789ull, 6},
      stats,
      ErrorReply{0, ErrorCode::kUnknownNode, "no node 'q'"},
  };
  for (const AdminReply& m : replies) {
    auto d = decode_admin_reply(encode(m));
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(d.value(), m);
  }
}

TEST(CodecRoundTrip, AdminErrorCarriesNoSeq) {
  std::string body = encode(AdminReply(ErrorReply{55, ErrorCode::kUnknownNode, "no such node"}));
  EXPECT_EQ(body.find("seq"), std::string::npos);
  auto d = decode_admin_reply(body);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(std::get<ErrorReply>(d.value()).seq, 0u);
}

TEST(CodecRoundTrip, AdminSnapshotIsTheStateChannelSnapshot) {
  Snapshot m{2, 5, true, 100, {alive_record("x")}};
  EXPECT_EQ(encode(AdminReply(m)), encode(m));
  EXPECT_EQ(as(decode_snapshot(encode(AdminReply(m)))), m);
}

TEST(CodecWire, HeartbeatBytes) {
  // {"v": 1, "type": "heartbeat", "node": "n1", "inc": 1, "seq": 2}
  const std::string expected =
      "\x85"
      "\xa1v\x01"
      "\xa4type\xa9heartbeat"
      "\xa4node\xa2n1"
      "\xa3inc\x01"
      "\xa3seq\x02";
  EXPECT_EQ(encode(AgentRequest(HeartbeatRequest{"n1", 1, 2})), expected);
}

TEST(CodecWire, IntegersUseTheShortestForm) {
  std::string small = encode(AgentRequest(HeartbeatRequest{"n1", 1, 2}));
  std::string big = encode(AgentRequest(HeartbeatRequest{"n1", UINT64_MAX, 2}));
  EXPECT_EQ(big.size(), small.size() + 8);  // 0xcf + 8 bytes instead of one fixint
}

}  // namespace
}  // namespace roster
