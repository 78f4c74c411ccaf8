#include "seeds.h"

#include <cstdio>
#include <string>
#include <utility>

#include "roster/codec.h"
#include "roster/protocol.h"

namespace roster::fuzz {

namespace {

using namespace std::string_literals;

constexpr char kSeparator = '\xc1';  // as fuzz_support.h: between messages

// `body` with its first `from` replaced by `to` (same length, so that the
// msgpack headers stay right): how a malformed string is made.
std::string replaced(std::string body, std::string_view from, std::string_view to) {
  size_t at = body.find(from);
  if (at != std::string::npos && from.size() == to.size()) body.replace(at, from.size(), to);
  return body;
}

// The malformed variants every body-reading target gets.
void add_malformed(std::vector<Seed>& out, const std::string& valid) {
  out.push_back({"truncated", valid.substr(0, valid.size() / 2)});
  out.push_back({"trailing-byte", valid + '\x00'});
  out.push_back({"version-2", replaced(valid, "\xa1v\x01", "\xa1v\x02")});
  out.push_back({"not-a-map", "\x93\x01\x02\x03"s});
  out.push_back({"huge-array", "\x81\xa5nodes\xdd\xff\xff\xff\xff"s});
  out.push_back({"deep", std::string(12, '\x91') + '\x80'});
  out.push_back({"empty", ""});
}

NodeRecord record(std::string node, uint64_t inc, NodeState state) {
  NodeRecord r;
  r.node = std::move(node);
  r.inc = inc;
  r.state = state;
  if (state == NodeState::kRemoved) return r;
  r.addr = "10.0.0.1:7000";
  r.labels = {{"zone", "a"}, {"role", "web"}};
  r.lease_ms = 3'000;
  r.since_ms = 1'700'000'000'000;
  return r;
}

JoinRequest join(std::string node, uint64_t inc) {
  return JoinRequest{std::move(node), inc, 1, 3'000, "10.0.0.1:7000", {{"zone", "a"}}};
}

// Requests that reach every rule of the broker fixture (broker_fixture.h):
// node-1 alive inc 5, node-2 left inc 3, node-3 removed inc 7, node-4
// dead inc 2, node-5 suspect inc 9.
std::vector<Seed> agent_requests() {
  std::vector<Seed> out;
  auto add = [&](std::string name, AgentRequest request) {
    out.push_back({std::move(name), encode(request)});
  };
  add("join-new", join("node-9", 1));
  add("join-same", join("node-1", 5));
  add("join-newer", join("node-1", 6));
  add("join-stale", join("node-1", 4));
  add("join-after-left", join("node-2", 4));
  add("join-removed", join("node-3", 7));
  add("join-dead", join("node-4", 2));
  add("join-suspect", join("node-5", 9));
  JoinRequest full = join("node-9", UINT64_MAX);
  full.lease_ms = UINT64_MAX;
  full.addr = std::string(kMaxAddrBytes, 'a');
  for (int i = 0; i < 32; ++i) full.labels["k" + std::to_string(i)] = std::string(200, 'v');
  add("join-big", full);
  add("heartbeat", HeartbeatRequest{"node-1", 5, 2});
  add("heartbeat-unknown", HeartbeatRequest{"node-9", 1, 2});
  add("heartbeat-dead", HeartbeatRequest{"node-4", 2, 2});
  add("heartbeat-removed", HeartbeatRequest{"node-3", 7, 2});
  add("leave", LeaveRequest{"node-1", 5, 3, "shutting down"});
  add("leave-left", LeaveRequest{"node-2", 3, 3, ""});
  std::string valid = encode(AgentRequest(join("node-1", 5)));
  add_malformed(out, valid);
  out.push_back({"addr-not-utf8", replaced(valid, "10.0.0.1", "10.0.0.\xff")});
  out.push_back({"unknown-type", replaced(valid, "\xa4join", "\xa4jump")});
  return out;
}

std::vector<Seed> admin_requests() {
  std::vector<Seed> out;
  auto add = [&](std::string name, AdminRequest request) {
    out.push_back({std::move(name), encode(request)});
  };
  add("snapshot", SnapshotQuery{});
  add("snapshot-parts", SnapshotQuery{1 << 20});
  add("snapshot-parts-tiny", SnapshotQuery{1});
  add("stats", StatsQuery{});
  add("node", NodeQuery{"node-1"});
  add("node-unknown", NodeQuery{"node-9"});
  add("remove", RemoveCommand{"node-1", std::nullopt});
  add("remove-inc", RemoveCommand{"node-2", 3});
  add("remove-other-inc", RemoveCommand{"node-1", 4});
  add("remove-unknown", RemoveCommand{"node-9", std::nullopt});
  std::string valid = encode(AdminRequest(RemoveCommand{"node-1", 5}));
  add_malformed(out, valid);
  out.push_back({"node-id-bad", replaced(valid, "node-1", "node 1")});
  out.push_back({"unknown-type", replaced(valid, "remove", "rename")});
  return out;
}

// Replies to an agent that has sent its join (seq 1) and then heartbeats
// (seq 2, 3, ...) every second, one reply per message of the sequence.
std::vector<Seed> agent_replies() {
  std::vector<Seed> out;
  auto ack = [](uint64_t seq, uint64_t lease_ms = 3'000) {
    return encode(AgentReply(Ack{seq, 1, lease_ms, NodeState::kAlive}));
  };
  auto error = [](uint64_t seq, ErrorCode code, std::optional<uint64_t> inc = std::nullopt) {
    return encode(AgentReply(ErrorReply{seq, code, std::string(to_string(code)), inc}));
  };
  auto sequence = [](std::vector<std::string> replies) {
    std::string joined;
    for (size_t i = 0; i < replies.size(); ++i) {
      if (i > 0) joined += kSeparator;
      joined += replies[i];
    }
    return joined;
  };
  out.push_back({"ack", ack(1)});
  out.push_back({"acks", sequence({ack(1), ack(2), ack(3), ack(4)})});
  out.push_back({"ack-lease-0", ack(1, 0)});
  out.push_back({"ack-lease-max", sequence({ack(1, UINT64_MAX), ack(2, UINT64_MAX)})});
  out.push_back({"ack-lease-1", sequence({ack(1, 1), ack(2, 1), ack(3, 1)})});
  for (size_t i = 0; i < kErrorCodeCount; ++i) {
    auto code = static_cast<ErrorCode>(i);
    if (code == ErrorCode::kUnrecognized) continue;
    out.push_back({"error-" + std::string(to_string(code)),
                   sequence({ack(1), error(2, code, 5), ack(3), error(3, code, UINT64_MAX)})});
  }
  out.push_back({"error-unknown-code",
                 encode(AgentReply(ErrorReply{1, ErrorCode::kBadRequest, "a new code"}))});
  out.back().body = replaced(out.back().body, "bad_request", "bad_weather");
  out.push_back(
      {"error-message-not-utf8",
       replaced(encode(AgentReply(ErrorReply{1, ErrorCode::kOverCapacity, "capacity full"})),
                "capacity full", "cap\xff\xfe\xe2\x82y full")});
  out.push_back(
      {"stale-then-expired", sequence({error(1, ErrorCode::kStaleIncarnation, 2'000), "",
                                       error(2, ErrorCode::kExpired, UINT64_MAX - 1), ack(3)})});
  add_malformed(out, ack(1));
  return out;
}

Snapshot snapshot(uint64_t epoch, uint64_t version, bool complete) {
  return Snapshot{epoch,
                  version,
                  complete,
                  1'700'000'000'000,
                  {record("node-1", 5, NodeState::kAlive), record("node-3", 1, NodeState::kLeft),
                   record("node-5", 2, NodeState::kSuspect)}};
}

// Continuing the subscriber fixture (subscriber_fixture.h): epoch 1,
// version 10, node-1, node-2, node-4.
Delta delta(uint64_t epoch, uint64_t version, uint64_t prev_version) {
  return Delta{epoch,
               version,
               prev_version,
               1'700'000'001'000,
               {record("node-1", 6, NodeState::kAlive), record("node-2", 5, NodeState::kRemoved),
                record("node-7", 1, NodeState::kSuspect)}};
}

std::vector<Seed> snapshots() {
  std::vector<Seed> out;
  out.push_back({"same-epoch-newer", encode(snapshot(1, 12, true))});
  out.push_back({"same-epoch-older", encode(snapshot(1, 9, true))});
  out.push_back({"next-epoch-warming", encode(snapshot(2, 1, false))});
  out.push_back({"next-epoch-complete", encode(snapshot(2, 3, true))});
  out.push_back({"empty", encode(Snapshot{1, 10, true, 1, {}})});
  Snapshot twice = snapshot(1, 11, true);
  twice.nodes.push_back(record("node-1", 9, NodeState::kDead));
  out.push_back({"node-twice", encode(twice)});
  std::string valid = encode(snapshot(1, 11, true));
  out.push_back({"addr-not-utf8", replaced(valid, "10.0.0.1", "10.0.0\xe2\x82")});
  out.push_back(
      {"label-keys-repaired", replaced(replaced(valid, "zone", "z\xffne"), "role", "z\xfene")});
  add_malformed(out, valid);
  return out;
}

// A reply in parts to a snapshot request: the parts of `s`, `per_part`
// records each, then the end marker, joined by kSeparator.
std::string in_parts(const Snapshot& s, size_t per_part) {
  std::string out;
  uint64_t index = 0;
  for (size_t i = 0; i < s.nodes.size(); i += per_part, ++index) {
    SnapshotPart part{s.epoch, s.version, index, {}};
    for (size_t j = i; j < s.nodes.size() && j < i + per_part; ++j)
      part.nodes.push_back(s.nodes[j]);
    out += encode(part);
    out += kSeparator;
  }
  return out +
         encode(SnapshotEnd{s.epoch, s.version, s.complete, s.time_ms, index, s.nodes.size()});
}

std::vector<Seed> snapshot_parts() {
  std::vector<Seed> out;
  const Snapshot s = snapshot(1, 12, true);
  out.push_back({"one-per-part", in_parts(s, 1)});
  out.push_back({"all-in-one", in_parts(s, 100)});
  out.push_back({"empty", in_parts(Snapshot{1, 10, true, 1, {}}, 1)});
  out.push_back({"whole", encode(s)});
  out.push_back({"error", encode(AdminReply(ErrorReply{0, ErrorCode::kOverCapacity, "busy"}))});
  Snapshot other = s;
  other.version = 13;
  std::string mixed = in_parts(s, 1);
  out.push_back(
      {"version-mid-stream", mixed.substr(0, mixed.find(kSeparator) + 1) + in_parts(other, 1)});
  std::string no_end = in_parts(s, 1);
  out.push_back({"no-end", no_end.substr(0, no_end.rfind(kSeparator))});
  return out;
}

std::vector<Seed> deltas() {
  std::vector<Seed> out;
  out.push_back({"next", encode(delta(1, 11, 10))});
  out.push_back({"old", encode(delta(1, 10, 9))});
  out.push_back({"gap", encode(delta(1, 13, 12))});
  out.push_back({"jump", encode(delta(1, 100, 10))});
  out.push_back({"next-epoch", encode(delta(2, 2, 1))});
  Delta twice = delta(1, 11, 10);
  twice.changes.push_back(record("node-1", 7, NodeState::kRemoved));
  out.push_back({"node-twice", encode(twice)});
  std::string valid = encode(delta(1, 11, 10));
  out.push_back({"label-not-utf8", replaced(valid, "web", "w\xc0\xaf")});
  add_malformed(out, valid);
  return out;
}

std::vector<Seed> beats() {
  std::vector<Seed> out;
  out.push_back({"same", encode(Beat{1, 10, 1'700'000'000'000})});
  out.push_back({"ahead", encode(Beat{1, 12, 1'700'000'000'000})});
  out.push_back({"behind", encode(Beat{1, 3, 1'700'000'000'000})});
  out.push_back({"next-epoch", encode(Beat{2, 1, 1'700'000'000'000})});
  add_malformed(out, encode(Beat{1, 10, 1}));
  return out;
}

// One message of the state_stream target: kind (0 published snapshot,
// 1 delta, 2 beat, 3 admin reply) and seconds after the previous one.
std::string message(unsigned kind, unsigned tenths, const std::string& body) {
  std::string m(1, static_cast<char>((tenths << 2) | kind));
  return m + body;
}

std::vector<Seed> state_streams() {
  std::vector<Seed> out;
  const std::string admin = encode(AdminReply(snapshot(1, 10, false)));
  auto stream = [](std::vector<std::string> messages) {
    std::string joined;
    for (size_t i = 0; i < messages.size(); ++i) {
      if (i > 0) joined += kSeparator;
      joined += messages[i];
    }
    return joined;
  };
  out.push_back(
      {"sync-then-deltas",
       stream({message(3, 1, admin), message(1, 1, encode(delta(1, 11, 10))),
               message(2, 5, encode(Beat{1, 11, 1})), message(1, 1, encode(delta(1, 12, 11)))})});
  out.push_back({"buffered-then-sync",
                 stream({message(1, 1, encode(delta(1, 11, 10))),
                         message(2, 1, encode(Beat{1, 11, 1})), message(3, 1, admin)})});
  out.push_back(
      {"restart-warming",
       stream({message(3, 1, admin), message(2, 5, encode(Beat{2, 1, 1})),
               message(0, 1, encode(snapshot(2, 1, false))), message(1, 1, encode(delta(2, 2, 1))),
               message(0, 60, encode(snapshot(2, 2, true)))})});
  out.push_back(
      {"gap-and-stale",
       stream({message(3, 1, admin), message(1, 1, encode(delta(1, 13, 12))),
               message(2, 63, encode(Beat{1, 13, 1})),
               message(3, 63, encode(AdminReply(ErrorReply{0, ErrorCode::kOverCapacity, "busy"}))),
               message(3, 1, encode(AdminReply(snapshot(1, 13, true))))})});
  return out;
}

// One request of the broker_stream target: from the admin endpoint or the
// agents one, `tenths` x 100 ms after the previous one.
std::string request(bool admin, unsigned tenths, const std::string& body) {
  return std::string(1, static_cast<char>((tenths << 1) | (admin ? 1u : 0u))) + body;
}

std::vector<Seed> broker_streams() {
  auto stream = [](std::vector<std::string> requests) {
    std::string joined;
    for (size_t i = 0; i < requests.size(); ++i) {
      if (i > 0) joined += kSeparator;
      joined += requests[i];
    }
    return joined;
  };
  auto agent = [](unsigned tenths, AgentRequest r) { return request(false, tenths, encode(r)); };
  auto admin = [](unsigned tenths, AdminRequest r) { return request(true, tenths, encode(r)); };
  JoinRequest short_lease = join("node-2", 3);
  short_lease.lease_ms = 1'000;
  std::vector<Seed> out;
  out.push_back({"join-heartbeat-leave",
                 stream({agent(0, join("node-1", 5)), agent(10, HeartbeatRequest{"node-1", 5, 2}),
                         agent(10, HeartbeatRequest{"node-1", 5, 3}),
                         agent(5, LeaveRequest{"node-1", 5, 4, "bye"}),
                         agent(40, join("node-1", 5)), agent(1, join("node-1", 6))})});
  out.push_back({"expire-and-rejoin", stream({agent(0, short_lease), agent(0, join("node-1", 5)),
                                              agent(8, HeartbeatRequest{"node-1", 5, 2}),
                                              agent(8, HeartbeatRequest{"node-1", 5, 3}),
                                              agent(8, HeartbeatRequest{"node-2", 3, 2}),
                                              agent(9, short_lease), agent(9, join("node-2", 4)),
                                              agent(9, HeartbeatRequest{"node-1", 5, 4})})});
  out.push_back({"remove-fences",
                 stream({agent(0, join("node-1", 5)), admin(1, NodeQuery{"node-1"}),
                         admin(1, RemoveCommand{"node-1", std::nullopt}),
                         agent(1, HeartbeatRequest{"node-1", 5, 2}), agent(1, join("node-1", 6)),
                         admin(1, RemoveCommand{"node-1", 9}), admin(1, SnapshotQuery{})})});
  std::vector<std::string> crowd;
  for (int i = 0; i < 10; ++i) crowd.push_back(agent(1, join("node-" + std::to_string(i), 1)));
  crowd.push_back(agent(1, join("node-big", 1)));
  out.push_back({"over-capacity", stream(crowd)});
  out.push_back(
      {"stall", stream({agent(0, join("node-1", 5)), agent(127, HeartbeatRequest{"node-1", 5, 2}),
                        agent(127, HeartbeatRequest{"node-1", 5, 3})})});
  out.push_back({"stale", stream({agent(0, join("node-1", 7)), agent(1, join("node-1", 6)),
                                  agent(1, LeaveRequest{"node-1", 6, 2, ""})})});
  return out;
}

std::vector<Seed> admin_replies() {
  std::vector<Seed> out;
  out.push_back({"snapshot", encode(AdminReply(snapshot(1, 10, true)))});
  out.push_back({"node", encode(AdminReply(NodeInfo{record("node-1", 5, NodeState::kAlive), 7}))});
  out.push_back({"removed", encode(AdminReply(RemovedReply{"node-1", 5, 11}))});
  Stats stats;
  stats.epoch = 1;
  stats.version = 10;
  stats.nodes = 3;
  stats.by_state = {{"alive", 2}, {"dead", 1}};
  stats.errors = {{"bad_request", 4}};
  stats.counters = {{"stalls", 1}};
  out.push_back({"stats", encode(AdminReply(stats))});
  out.push_back({"error", encode(AdminReply(ErrorReply{0, ErrorCode::kUnknownNode, "no node"}))});
  std::string valid = encode(AdminReply(snapshot(1, 10, true)));
  out.push_back({"snapshot-not-utf8", replaced(valid, "10.0.0.1", "\x1b[2J\xff\xc2\x85\xe2")});
  out.push_back({"stats-not-utf8", replaced(encode(AdminReply(stats)), "stalls", "st\xffl\x1bs")});
  add_malformed(out, valid);
  return out;
}

// A msgpack fixstr, escaped for a dictionary line.
std::string dict_entry(std::string_view bytes) {
  std::string line = "\"";
  for (unsigned char c : bytes) {
    char hex[5];
    std::snprintf(hex, sizeof hex, "\\x%02x", c);
    line += hex;
  }
  return line + "\"\n";
}

}  // namespace

const std::vector<std::string>& target_names() {
  static const std::vector<std::string> names = {
      "agent_request", "admin_request", "agent_reply",  "admin_reply",   "snapshot",
      "delta",         "beat",          "state_stream", "broker_stream", "snapshot_parts"};
  return names;
}

std::vector<Seed> seeds_for(std::string_view target) {
  if (target == "agent_request") return agent_requests();
  if (target == "admin_request") return admin_requests();
  if (target == "agent_reply") return agent_replies();
  if (target == "admin_reply") return admin_replies();
  if (target == "snapshot") return snapshots();
  if (target == "delta") return deltas();
  if (target == "beat") return beats();
  if (target == "state_stream") return state_streams();
  if (target == "broker_stream") return broker_streams();
  if (target == "snapshot_parts") return snapshot_parts();
  return {};
}

std::string dictionary() {
  static constexpr std::string_view kWords[] = {"v",
                                                "type",
                                                "seq",
                                                "node",
                                                "inc",
                                                "lease_ms",
                                                "addr",
                                                "labels",
                                                "reason",
                                                "join",
                                                "heartbeat",
                                                "leave",
                                                "ack",
                                                "error",
                                                "code",
                                                "message",
                                                "epoch",
                                                "state",
                                                "alive",
                                                "suspect",
                                                "dead",
                                                "left",
                                                "removed",
                                                "snapshot",
                                                "snapshot_part",
                                                "snapshot_end",
                                                "part",
                                                "parts",
                                                "node_count",
                                                "part_bytes",
                                                "delta",
                                                "beat",
                                                "version",
                                                "prev_version",
                                                "time_ms",
                                                "changes",
                                                "nodes",
                                                "complete",
                                                "since_ms",
                                                "last_seen_ms",
                                                "remove",
                                                "stats",
                                                "by_state",
                                                "messages",
                                                "errors",
                                                "uptime_ms",
                                                "counters",
                                                "bad_request",
                                                "unsupported_version",
                                                "unknown_node",
                                                "stale_incarnation",
                                                "expired",
                                                "over_capacity",
                                                "node-1",
                                                "node-2",
                                                "node-3",
                                                "node-4",
                                                "node-5"};
  std::string out;
  for (std::string_view word : kWords) {
    std::string fixstr(1, static_cast<char>(0xa0 | word.size()));
    out += dict_entry(fixstr + std::string(word));
  }
  out += dict_entry("\xc1"s);                                  // the sequence separator
  out += dict_entry("\xcf\xff\xff\xff\xff\xff\xff\xff\xff"s);  // UINT64_MAX
  out += dict_entry("\xcf\x80\x00\x00\x00\x00\x00\x00\x00"s);  // 2^63
  out += dict_entry("\xef\xbf\xbd"s);                          // U+FFFD
  return out;
}

}  // namespace roster::fuzz
