// Wire protocol v1 of roster: constants, limits, error codes and the typed
// messages of the agent, state and admin channels. docs/PROTOCOL.md is the
// user-facing reference; this header is the single place the constants live.
//
// All types here are plain values: copyable, comparable, no invariants beyond
// what the codec (codec.h) checks when decoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace roster {

// The protocol version every body carries as "v".
inline constexpr uint64_t kProtocolVersion = 1;

// Limits on untrusted input (every body the broker reads).
inline constexpr size_t kMaxNodeIdBytes = 128;
inline constexpr size_t kMaxAddrBytes = 256;
inline constexpr size_t kMaxLabels = 32;
inline constexpr size_t kMaxLabelKeyBytes = 64;
inline constexpr size_t kMaxLabelValueBytes = 256;
inline constexpr size_t kMaxReasonBytes = 256;      // leave "reason"
inline constexpr size_t kMaxMessageBytes = 1024;    // error "message"
inline constexpr size_t kMaxBodyBytes = 64 * 1024;  // agent and admin requests

// Limit on state-channel and admin-reply bodies (snapshots of many nodes),
// which come from the broker rather than from untrusted peers.
inline constexpr size_t kMaxStateBodyBytes = 512u * 1024 * 1024;

// Topics of the state channel. Subscribe to kTopicPrefix for everything.
inline constexpr std::string_view kTopicPrefix = "roster.";
inline constexpr std::string_view kTopicSnapshot = "roster.snapshot";
inline constexpr std::string_view kTopicDelta = "roster.delta";
inline constexpr std::string_view kTopicBeat = "roster.beat";

// Default endpoints of the broker.
inline constexpr std::string_view kDefaultAgentsEndpoint = "tcp://*:7400";
inline constexpr std::string_view kDefaultPublishEndpoint = "tcp://*:7401";
inline constexpr std::string_view kDefaultAdminEndpoint = "tcp://127.0.0.1:7402";

// Error codes carried by {type: error}. The wire spelling is to_string().
// A receiver treats a code it does not know as a refusal: decoders map it to
// kUnrecognized, so codes added later stay compatible.
enum class ErrorCode : uint8_t {
  kBadRequest,          // not msgpack, not a map, missing/mistyped field, over a limit
  kUnsupportedVersion,  // "v" is not 1
  kUnknownNode,         // heartbeat/leave for an incarnation not held: join again
  kStaleIncarnation,    // inc lower than the current one
  kExpired,             // declared dead, or dead/left and forgotten: join with a higher inc
  kLeft,                // this incarnation left (or left and was forgotten)
  kRemoved,             // removed by the operator: the agent must stop (fencing)
  kOverCapacity,        // a broker limit (node count, record size) refuses it
  kForbidden,           // the client's CURVE key may not do this (claim this node id)
  kUnrecognized,        // decoded from a code this version does not know; never sent
};
inline constexpr size_t kErrorCodeCount = 10;

// Returns the wire spelling, e.g. "stale_incarnation".
std::string_view to_string(ErrorCode code);
// Parses a wire spelling; nullopt if unknown.
std::optional<ErrorCode> error_code_from_string(std::string_view s);

// Observed state of a node incarnation. The wire spelling is to_string().
enum class NodeState : uint8_t {
  kAlive,
  kSuspect,
  kDead,
  kLeft,
  kRemoved,  // only ever seen in deltas: the node was forgotten or removed
};
inline constexpr size_t kNodeStateCount = 5;

// Returns the wire spelling, e.g. "suspect".
std::string_view to_string(NodeState state);
// Parses a wire spelling; nullopt if unknown.
std::optional<NodeState> node_state_from_string(std::string_view s);

// True iff `id` is 1..kMaxNodeIdBytes bytes of [A-Za-z0-9._:-].
bool is_valid_node_id(std::string_view id);

using Labels = std::map<std::string, std::string>;

// The bytes of a node record that the broker's per-record bound
// (MembershipOptions::max_record_bytes, --max-record-bytes) counts: node id
// + addr + every label key and value. The limits above cap it at
// kMaxRecordContentBytes.
size_t record_bytes(std::string_view node, std::string_view addr, const Labels& labels);
inline constexpr size_t kMaxRecordContentBytes =
    kMaxNodeIdBytes + kMaxAddrBytes + kMaxLabels * (kMaxLabelKeyBytes + kMaxLabelValueBytes);

// Upper bounds on what the msgpack encoding adds to the content, so a
// broker can bound its largest body: one record of a snapshot or delta
// takes at most record_bytes() + kMaxRecordOverheadBytes (keys, type
// headers, integers; at most 249 with 32 labels), and a snapshot or delta
// body without its records at most kMaxStateEnvelopeBytes.
// tests/common/record_size_test.cc checks both at every maximum.
inline constexpr size_t kMaxRecordOverheadBytes = 256;
inline constexpr size_t kMaxStateEnvelopeBytes = 256;

// The largest snapshot body of at most `max_nodes` records of at most
// `max_record_bytes` (capped at kMaxRecordContentBytes) each:
//   envelope + max_nodes x (max_record_bytes + kMaxRecordOverheadBytes).
// Saturates at UINT64_MAX instead of overflowing.
uint64_t max_snapshot_bytes(uint64_t max_nodes, uint64_t max_record_bytes);

// ---------------------------------------------------------------------------
// Agent channel: agent DEALER -> broker ROUTER.

// Register or re-register an incarnation with its metadata.
struct JoinRequest {
  std::string node;
  uint64_t inc = 0;
  uint64_t seq = 0;
  uint64_t lease_ms = 0;
  std::string addr;  // optional on the wire; empty when absent
  Labels labels;     // optional on the wire
};

struct HeartbeatRequest {
  std::string node;
  uint64_t inc = 0;
  uint64_t seq = 0;
};

struct LeaveRequest {
  std::string node;
  uint64_t inc = 0;
  uint64_t seq = 0;
  std::string reason;  // optional on the wire; empty when absent
};

using AgentRequest = std::variant<JoinRequest, HeartbeatRequest, LeaveRequest>;

// Reply to an accepted request.
struct Ack {
  uint64_t seq = 0;       // echoed
  uint64_t epoch = 0;     // the broker's state lineage
  uint64_t lease_ms = 0;  // granted: clamped to the broker's min..max
  NodeState state = NodeState::kAlive;
};

// Reply to a refused request, on the agent and the admin channel.
struct ErrorReply {
  ErrorReply() = default;
  ErrorReply(uint64_t seq_in, ErrorCode code_in, std::string message_in,
             std::optional<uint64_t> inc_in = std::nullopt)
      : seq(seq_in), code(code_in), message(std::move(message_in)), inc(inc_in) {}

  uint64_t seq = 0;  // echoed; 0 when unreadable (and on the admin channel)
  ErrorCode code = ErrorCode::kBadRequest;
  std::string message;  // human readable
  // Optional hint (wire key "inc"): with stale_incarnation, the incarnation
  // the broker holds; with expired, left or removed, the highest incarnation
  // of the node that is over. An agent starting a new incarnation picks one
  // above it. Absent on other codes.
  std::optional<uint64_t> inc;
};

using AgentReply = std::variant<Ack, ErrorReply>;

// ---------------------------------------------------------------------------
// State channel: broker XPUB -> controller SUB, frames [topic, body].

// One node incarnation as observers see it. A kRemoved record needs only
// node and inc; the other fields are then empty/zero.
struct NodeRecord {
  std::string node;
  uint64_t inc = 0;
  NodeState state = NodeState::kAlive;
  std::string addr;
  Labels labels;
  uint64_t lease_ms = 0;
  uint64_t since_ms = 0;  // Unix ms when it entered this state
};

// The whole view at `version`: it holds every delta up to `version`.
struct Snapshot {
  uint64_t epoch = 0;
  uint64_t version = 0;
  bool complete = false;  // false while the broker warms up after a start
  uint64_t time_ms = 0;   // Unix ms
  std::vector<NodeRecord> nodes;
};

// One committed batch of changes; version == prev_version + 1.
struct Delta {
  uint64_t epoch = 0;
  uint64_t version = 0;
  uint64_t prev_version = 0;
  uint64_t time_ms = 0;
  std::vector<NodeRecord> changes;
};

// Liveness signal of the broker, every beat interval.
struct Beat {
  uint64_t epoch = 0;
  uint64_t version = 0;
  uint64_t time_ms = 0;
};

// ---------------------------------------------------------------------------
// Admin channel: client DEALER or REQ -> broker ROUTER.

// A snapshot request. With part_bytes (a compatible v1 addition), the
// reply comes as snapshot_part messages of about that many bytes, then a
// snapshot_end (snapshot_parts.h); without it, as one snapshot reply.
struct SnapshotQuery {
  std::optional<uint64_t> part_bytes;
};
struct NodeQuery {
  std::string node;
};
struct RemoveCommand {
  std::string node;
  std::optional<uint64_t> inc;  // when set, remove only this incarnation
};
struct StatsQuery {};

using AdminRequest = std::variant<SnapshotQuery, NodeQuery, RemoveCommand, StatsQuery>;

// Reply to NodeQuery: the record plus when the broker last heard from it.
struct NodeInfo {
  NodeRecord record;
  uint64_t last_seen_ms = 0;  // Unix ms
};

// Reply to RemoveCommand: the delta at `version` carries the removal.
struct RemovedReply {
  std::string node;
  uint64_t inc = 0;
  uint64_t version = 0;
};

// Reply to StatsQuery.
struct Stats {
  uint64_t epoch = 0;
  uint64_t version = 0;
  uint64_t nodes = 0;
  std::map<std::string, uint64_t> by_state;  // state name -> count
  uint64_t messages = 0;                     // agent + admin requests received
  std::map<std::string, uint64_t> errors;    // error code -> count
  uint64_t uptime_ms = 0;
  std::map<std::string, uint64_t> counters;  // extra broker counters (stalls, drops, ...)
};

// A Snapshot in an admin reply is encoded with type "snapshot".
using AdminReply = std::variant<Snapshot, NodeInfo, RemovedReply, Stats, ErrorReply>;

// ---------------------------------------------------------------------------
// Equality: member-wise, for tests and for comparing views.

inline bool operator==(const JoinRequest& a, const JoinRequest& b) {
  return a.node == b.node && a.inc == b.inc && a.seq == b.seq && a.lease_ms == b.lease_ms &&
         a.addr == b.addr && a.labels == b.labels;
}
inline bool operator==(const HeartbeatRequest& a, const HeartbeatRequest& b) {
  return a.node == b.node && a.inc == b.inc && a.seq == b.seq;
}
inline bool operator==(const LeaveRequest& a, const LeaveRequest& b) {
  return a.node == b.node && a.inc == b.inc && a.seq == b.seq && a.reason == b.reason;
}
inline bool operator==(const Ack& a, const Ack& b) {
  return a.seq == b.seq && a.epoch == b.epoch && a.lease_ms == b.lease_ms && a.state == b.state;
}
inline bool operator==(const ErrorReply& a, const ErrorReply& b) {
  return a.seq == b.seq && a.code == b.code && a.message == b.message && a.inc == b.inc;
}
inline bool operator==(const NodeRecord& a, const NodeRecord& b) {
  return a.node == b.node && a.inc == b.inc && a.state == b.state && a.addr == b.addr &&
         a.labels == b.labels && a.lease_ms == b.lease_ms && a.since_ms == b.since_ms;
}
inline bool operator==(const Snapshot& a, const Snapshot& b) {
  return a.epoch == b.epoch && a.version == b.version && a.complete == b.complete &&
         a.time_ms == b.time_ms && a.nodes == b.nodes;
}
inline bool operator==(const Delta& a, const Delta& b) {
  return a.epoch == b.epoch && a.version == b.version && a.prev_version == b.prev_version &&
         a.time_ms == b.time_ms && a.changes == b.changes;
}
inline bool operator==(const Beat& a, const Beat& b) {
  return a.epoch == b.epoch && a.version == b.version && a.time_ms == b.time_ms;
}
inline bool operator==(const SnapshotQuery& a, const SnapshotQuery& b) {
  return a.part_bytes == b.part_bytes;
}
inline bool operator==(const NodeQuery& a, const NodeQuery& b) {
  return a.node == b.node;
}
inline bool operator==(const RemoveCommand& a, const RemoveCommand& b) {
  return a.node == b.node && a.inc == b.inc;
}
inline bool operator==(const StatsQuery&, const StatsQuery&) {
  return true;
}
inline bool operator==(const NodeInfo& a, const NodeInfo& b) {
  return a.record == b.record && a.last_seen_ms == b.last_seen_ms;
}
inline bool operator==(const RemovedReply& a, const RemovedReply& b) {
  return a.node == b.node && a.inc == b.inc && a.version == b.version;
}
inline bool operator==(const Stats& a, const Stats& b) {
  return a.epoch == b.epoch && a.version == b.version && a.nodes == b.nodes &&
         a.by_state == b.by_state && a.messages == b.messages && a.errors == b.errors &&
         a.uptime_ms == b.uptime_ms && a.counters == b.counters;
}

inline bool operator!=(const JoinRequest& a, const JoinRequest& b) {
  return !(a == b);
}
inline bool operator!=(const HeartbeatRequest& a, const HeartbeatRequest& b) {
  return !(a == b);
}
inline bool operator!=(const LeaveRequest& a, const LeaveRequest& b) {
  return !(a == b);
}
inline bool operator!=(const Ack& a, const Ack& b) {
  return !(a == b);
}
inline bool operator!=(const ErrorReply& a, const ErrorReply& b) {
  return !(a == b);
}
inline bool operator!=(const NodeRecord& a, const NodeRecord& b) {
  return !(a == b);
}
inline bool operator!=(const Snapshot& a, const Snapshot& b) {
  return !(a == b);
}
inline bool operator!=(const Delta& a, const Delta& b) {
  return !(a == b);
}
inline bool operator!=(const Beat& a, const Beat& b) {
  return !(a == b);
}
inline bool operator!=(const SnapshotQuery& a, const SnapshotQuery& b) {
  return !(a == b);
}
inline bool operator!=(const NodeQuery& a, const NodeQuery& b) {
  return !(a == b);
}
inline bool operator!=(const RemoveCommand& a, const RemoveCommand& b) {
  return !(a == b);
}
inline bool operator!=(const StatsQuery& a, const StatsQuery& b) {
  return !(a == b);
}
inline bool operator!=(const NodeInfo& a, const NodeInfo& b) {
  return !(a == b);
}
inline bool operator!=(const RemovedReply& a, const RemovedReply& b) {
  return !(a == b);
}
inline bool operator!=(const Stats& a, const Stats& b) {
  return !(a == b);
}

}  // namespace roster
