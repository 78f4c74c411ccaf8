// Randomized decoding: random bytes and mutations/truncations of valid
// bodies never crash, throw or hang any decoder, and every result is either
// a message (that re-encodes to an equal message) or a clear error.
//
// The seed is printed on failure; rerun with ROSTER_FUZZ_SEED=<seed>.
#include <gtest/gtest.h>

#include <cstdlib>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "roster/codec.h"

namespace roster {
namespace {

constexpr int kInputs = 240000;

uint64_t seed_from_env() {
  const char* env = std::getenv("ROSTER_FUZZ_SEED");
  if (env != nullptr && *env != '\0') return std::strtoull(env, nullptr, 10);
  return std::random_device{}();
}

NodeRecord record(std::mt19937_64& rng, int i) {
  NodeRecord r;
  r.node = "node-" + std::to_string(i);
  r.inc = rng();
  r.state = static_cast<NodeState>(rng() % kNodeStateCount);
  if (r.state != NodeState::kRemoved) {
    r.addr = "10.0.0." + std::to_string(i) + ":7000";
    r.labels = {{"zone", "z" + std::to_string(i % 3)}, {"role", "worker"}};
    r.lease_ms = rng() % 10000;
    r.since_ms = rng();
  }
  return r;
}

// Valid bodies of every message type: the corpus that mutations start from.
std::vector<std::string> corpus(std::mt19937_64& rng) {
  std::vector<std::string> out;
  JoinRequest join{"node-1", rng(), 1, 3000, "10.0.0.1:7000", {}};
  for (int i = 0; i < 8; ++i) join.labels["k" + std::to_string(i)] = "v" + std::to_string(i);
  out.push_back(encode(AgentRequest(join)));
  out.push_back(encode(AgentRequest(HeartbeatRequest{"node-1", 300, 1u << 20})));
  out.push_back(encode(AgentRequest(LeaveRequest{"node-1", 7, 9, "bye"})));
  out.push_back(encode(AgentReply(Ack{1, 2, 3000, NodeState::kSuspect})));
  out.push_back(encode(AgentReply(ErrorReply{4, ErrorCode::kExpired, "lease ran out"})));
  Snapshot snapshot{1, 10, true, 99, {}};
  for (int i = 0; i < 4; ++i) snapshot.nodes.push_back(record(rng, i));
  out.push_back(encode(snapshot));
  out.push_back(encode(Delta{1, 11, 10, 100, {record(rng, 5), record(rng, 6)}}));
  out.push_back(encode(Beat{1, 11, 101}));
  out.push_back(encode(AdminRequest(SnapshotQuery{})));
  out.push_back(encode(AdminRequest(NodeQuery{"node-1"})));
  out.push_back(encode(AdminRequest(RemoveCommand{"node-1", 5})));
  out.push_back(encode(AdminRequest(StatsQuery{})));
  out.push_back(encode(AdminReply(NodeInfo{record(rng, 7), 1234})));
  out.push_back(encode(AdminReply(RemovedReply{"node-1", 5, 12})));
  Stats stats;
  stats.by_state = {{"alive", 3}};
  stats.errors = {{"bad_request", 1}};
  stats.counters = {{"drops", 2}};
  out.push_back(encode(AdminReply(stats)));
  out.push_back(encode(AdminReply(ErrorReply{0, ErrorCode::kUnknownNode, "no such node"})));
  return out;
}

// Bytes that make interesting msgpack headers (containers, big sizes, ext).
constexpr unsigned char kInteresting[] = {
    0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc6, 0xc7,
    0xc9, 0xca, 0xcb, 0xcf, 0xd3, 0xd4, 0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff};

std::string mutate(std::string body, std::mt19937_64& rng) {
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits && !body.empty(); ++e) {
    size_t pos = rng() % body.size();
    switch (rng() % 7) {
      case 0:  // flip a bit
        body[pos] = static_cast<char>(body[pos] ^ (1u << (rng() % 8)));
        break;
      case 1:  // an interesting header byte
        body[pos] = static_cast<char>(kInteresting[rng() % sizeof(kInteresting)]);
        break;
      case 2:  // truncate
        body.resize(pos);
        break;
      case 3:  // insert random bytes
        body.insert(pos, std::string(1 + rng() % 4, static_cast<char>(rng())));
        break;
      case 4:  // erase a few bytes
        body.erase(pos, 1 + rng() % 4);
        break;
      case 5:  // 0xff run: a huge size in whatever header is there
        for (size_t i = pos; i < body.size() && i < pos + 4; ++i) body[i] = '\xff';
        break;
      default:  // random byte
        body[pos] = static_cast<char>(rng());
        break;
    }
  }
  return body;
}

std::string random_bytes(std::mt19937_64& rng) {
  std::string out(rng() % 64, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  // Often start like a map so that the field readers are reached.
  if (!out.empty() && rng() % 2 == 0) out[0] = static_cast<char>(0x80 | (rng() % 16));
  return out;
}

// Checks one decoder result: an error must be a clear one; a message must
// re-encode to a body that decodes to the same message. Returns d.ok().
template <typename T, typename Decode>
bool check(Decode decode_fn, const std::string& input) {
  Decoded<T> d = decode_fn(input);
  if (!d.ok()) {
    const DecodeError& e = d.error();
    EXPECT_TRUE(e.code == ErrorCode::kBadRequest || e.code == ErrorCode::kUnsupportedVersion);
    EXPECT_FALSE(e.message.empty());
    EXPECT_LE(e.message.size(), kMaxMessageBytes);
    return false;
  }
  Decoded<T> again = decode_fn(encode(d.value()));
  EXPECT_TRUE(again.ok()) << again.error().message;
  EXPECT_TRUE(again.ok() && again.value() == d.value());
  return true;
}

// Every decoder but the agent request one, each checked on its input.
using Checker = bool (*)(const std::string& input);
const Checker kOtherDecoders[] = {
    [](const std::string& in) { return check<AdminRequest>(decode_admin_request, in); },
    [](const std::string& in) { return check<AgentReply>(decode_agent_reply, in); },
    [](const std::string& in) { return check<AdminReply>(decode_admin_reply, in); },
    [](const std::string& in) { return check<Snapshot>(decode_snapshot, in); },
    [](const std::string& in) { return check<Delta>(decode_delta, in); },
    [](const std::string& in) { return check<Beat>(decode_beat, in); },
};

// Feeds `input` to the agent request decoder (the one exposed to untrusted
// peers) and to `extra` more decoders picked at random.
bool decode_with_some_decoders(const std::string& input, std::mt19937_64& rng, int extra) {
  bool request_ok = check<AgentRequest>(decode_agent_request, input);
  for (int i = 0; i < extra; ++i) kOtherDecoders[rng() % std::size(kOtherDecoders)](input);
  return request_ok;
}

TEST(CodecFuzz, RandomAndMutatedInputsNeverCrashOrThrow) {
  const uint64_t seed = seed_from_env();
  // Printed up front too, so that even a crash can be reproduced.
  std::cout << "ROSTER_FUZZ_SEED=" << seed << std::endl;
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::vector<std::string> valid = corpus(rng);
  int accepted = 0;
  for (int i = 0; i < kInputs; ++i) {
    std::string input = (i % 8 == 0) ? random_bytes(rng) : mutate(valid[rng() % valid.size()], rng);
    accepted += decode_with_some_decoders(input, rng, 2) ? 1 : 0;
    if (HasFailure()) {
      FAIL() << "input #" << i << " failed; rerun with ROSTER_FUZZ_SEED=" << seed;
    }
  }
  // Some mutations (e.g. a changed digit) stay valid: the fuzzer reaches the
  // field readers rather than stopping at the msgpack layer.
  EXPECT_GT(accepted, 0) << "ROSTER_FUZZ_SEED=" << seed;
}

}  // namespace
}  // namespace roster
