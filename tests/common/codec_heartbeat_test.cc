// The heartbeat fast path of the codec (codec.h): decode_heartbeat_ref
// accepts exactly the heartbeats decode_agent_request accepts, with the
// same fields, and leaves everything else to it; encode_ack writes the
// bytes encode() writes.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "roster/codec.h"

namespace roster {
namespace {

// The HeartbeatRequest decode_agent_request makes of `body`, if any.
std::optional<HeartbeatRequest> full_decode(const std::string& body) {
  Decoded<AgentRequest> decoded = decode_agent_request(body);
  if (!decoded.ok()) return std::nullopt;
  if (const auto* beat = std::get_if<HeartbeatRequest>(&decoded.value())) return *beat;
  return std::nullopt;
}

// Checks that the fast path agrees with the full decoder on `body`, and
// returns whether it accepted.
bool fast_agrees(const std::string& body) {
  HeartbeatRef ref;
  bool fast = decode_heartbeat_ref(body, &ref);
  std::optional<HeartbeatRequest> full = full_decode(body);
  if (fast) {
    EXPECT_TRUE(full.has_value());
    if (full) {
      EXPECT_EQ(ref.node, full->node);
      EXPECT_EQ(ref.inc, full->inc);
      EXPECT_EQ(ref.seq, full->seq);
    }
    // The node id views the body.
    EXPECT_GE(ref.node.data(), body.data());
    EXPECT_LE(ref.node.data() + ref.node.size(), body.data() + body.size());
  }
  return fast;
}

std::string hex(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes.substr(0, 64)) {
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  }
  return out;
}

// Integers at every boundary of msgpack's formats.
constexpr uint64_t kEdgeValues[] = {0,     1,          127,        128,       255,      256,
                                    65535, 65536, 4294967295u, 4294967296u, UINT64_MAX};

// A fixstr.
std::string str(std::string_view s) {
  return std::string(1, static_cast<char>(0xa0 | s.size())) + std::string(s);
}

// A heartbeat map of `pairs` pairs from its encoded key/value bytes.
std::string map_of(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out(1, static_cast<char>(0x80 | fields.size()));
  for (const auto& [k, v] : fields) out += str(k) + v;
  return out;
}

std::vector<std::pair<std::string, std::string>> beat_fields() {
  return {{"v", "\x01"}, {"type", str("heartbeat")}, {"node", str("n-1")},
          {"inc", "\x07"}, {"seq", std::string("\xcd\x01\x00", 3)}};
}

TEST(CodecHeartbeat, AcceptsEncodedHeartbeatsOfEverySize) {
  for (uint64_t v : kEdgeValues) {
    std::string body = encode(AgentRequest(HeartbeatRequest{"node-0000001", v, v}));
    EXPECT_TRUE(fast_agrees(body)) << v;
  }
  std::string long_id(kMaxNodeIdBytes, 'x');
  EXPECT_TRUE(fast_agrees(encode(AgentRequest(HeartbeatRequest{long_id, 1, 2}))));
}

TEST(CodecHeartbeat, AcceptsAnyOrderSignedFormatsAndUnknownScalarKeys) {
  auto f = beat_fields();
  std::swap(f[0], f[4]);
  EXPECT_TRUE(fast_agrees(map_of(f)));
  f = beat_fields();
  f[3].second = std::string("\xd0\x05", 2);  // int8 5
  EXPECT_TRUE(fast_agrees(map_of(f)));
  f = beat_fields();
  f.push_back({"extra", std::string("\xcb\0\0\0\0\0\0\0\0", 9)});  // float64
  f.push_back({"addr", std::string("\xc4\x02\xff\xfe", 4)});        // bin, ignored
  f.push_back({"extra", "\xc0"});  // unknown keys may repeat
  EXPECT_TRUE(fast_agrees(map_of(f)));
}

TEST(CodecHeartbeat, LeavesEveryOtherBodyToTheFullDecoder) {
  std::vector<std::string> bodies;
  auto with = [&](size_t i, std::string value) {
    auto f = beat_fields();
    f[i].second = std::move(value);
    bodies.push_back(map_of(f));
  };
  with(0, "\x02");                              // v 2
  with(1, str("join"));                         // another type
  with(2, str("bad id!"));                      // invalid node id
  with(2, str(""));                             // empty node id
  with(3, "\xff");                              // negative inc
  with(3, str("1"));                            // inc as a string
  with(4, std::string("\xd0\xff", 2));          // seq -1
  with(4, std::string("\x91\x01", 2));          // seq as an array
  auto f = beat_fields();
  f.pop_back();  // no seq
  bodies.push_back(map_of(f));
  f = beat_fields();
  f.push_back({"inc", "\x07"});  // a known key twice
  bodies.push_back(map_of(f));
  f = beat_fields();
  f.push_back({"reason", "\xc0"});
  f.push_back({"reason", "\xc0"});  // a known key twice, unused by heartbeats
  bodies.push_back(map_of(f));
  std::string good = map_of(beat_fields());
  bodies.push_back(good + std::string(1, '\0'));  // trailing bytes
  bodies.push_back(good.substr(0, good.size() - 1));  // truncated
  bodies.push_back("\x91" + good);                  // not a map
  bodies.push_back("");
  bodies.push_back(std::string("\xc1", 1));
  std::string big = good;
  big[0] = static_cast<char>(0x86);
  big += str("pad") + "\xc5\xff\xff" + std::string(0xffff, 'p');  // over kMaxBodyBytes
  bodies.push_back(big);
  for (const std::string& body : bodies) {
    SCOPED_TRACE(hex(body));
    HeartbeatRef ref;
    EXPECT_FALSE(decode_heartbeat_ref(body, &ref));
    EXPECT_FALSE(full_decode(body).has_value());
  }
}

TEST(CodecHeartbeat, NodeIdsOfEveryByteAgreeWithTheFullDecoder) {
  for (int c = 0; c < 256; ++c) {
    auto f = beat_fields();
    f[2].second = str(std::string("a") + static_cast<char>(c));
    std::string body = map_of(f);
    HeartbeatRef ref;
    EXPECT_EQ(decode_heartbeat_ref(body, &ref), full_decode(body).has_value()) << c;
    EXPECT_EQ(fast_agrees(body), is_valid_node_id(std::string("a") + static_cast<char>(c))) << c;
  }
}

TEST(CodecHeartbeat, NestedValuesFallBackToTheFullDecoder) {
  auto f = beat_fields();
  f.push_back({"labels", "\x81\xa1k\xa1v"});
  std::string body = map_of(f);
  HeartbeatRef ref;
  EXPECT_FALSE(decode_heartbeat_ref(body, &ref));
  EXPECT_TRUE(full_decode(body).has_value());
}

TEST(CodecHeartbeat, OtherRequestsAreNotHeartbeats) {
  HeartbeatRef ref;
  EXPECT_FALSE(decode_heartbeat_ref(encode(AgentRequest(JoinRequest{"n", 1, 1, 100, "", {}})), &ref));
  EXPECT_FALSE(decode_heartbeat_ref(encode(AgentRequest(LeaveRequest{"n", 1, 2, "bye"})), &ref));
}

TEST(CodecHeartbeat, EncodeAckWritesWhatEncodeWrites) {
  char buffer[kMaxAckBytes];
  for (uint64_t v : kEdgeValues) {
    for (size_t s = 0; s < kNodeStateCount; ++s) {
      Ack ack{v, v ^ 0x5555, v / 3, static_cast<NodeState>(s)};
      size_t n = encode_ack(ack, buffer);
      ASSERT_LE(n, kMaxAckBytes);
      EXPECT_EQ(std::string(buffer, n), encode(AgentReply(ack))) << v << " " << s;
    }
  }
}

}  // namespace
}  // namespace roster
