// Counters of the event loop, reported by the admin `stats` request and,
// published once per round (metrics.h), by /metrics: one count, two views.
//
// Thread safety: none; owned by the event loop.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "roster/membership.h"
#include "roster/protocol.h"

namespace roster::broker {

// The broker's three endpoints, for per-endpoint settings and counters.
enum class Endpoint : uint8_t { kAgents, kAdmin, kState };
inline constexpr size_t kEndpointCount = 3;
// "agents", "admin", "state": also each endpoint's ZAP domain.
inline const char* endpoint_name(Endpoint endpoint) {
  static constexpr const char* kNames[kEndpointCount] = {"agents", "admin", "state"};
  return kNames[static_cast<size_t>(endpoint)];
}
// Times observed on the loop's thread, counted by bucket: plain additions
// in the loop, handed to a Prometheus histogram per round (metrics.h), so
// the hot path takes no lock and no atomic operation.
struct LatencyCounts {
  // Upper bounds of the buckets, in seconds (the last bucket, +Inf, is
  // implied): from 50 us, a reply within a round, to 1 s, a loop in
  // trouble.
  static constexpr std::array<double, 12> kBounds = {
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0};
  // Observations per bucket (not cumulative); the last one is +Inf.
  std::array<uint64_t, kBounds.size() + 1> counts{};
  double sum_seconds = 0;

  void observe(double seconds) {
    size_t i = 0;
    while (i < kBounds.size() && seconds > kBounds[i]) ++i;
    ++counts[i];
    sum_seconds += seconds;
  }
};

// Request types counted per channel; the last one is a request that could
// not be decoded (or had a bad frame layout).
inline constexpr size_t kAgentRequestTypes = 4;  // join, heartbeat, leave, invalid
inline constexpr size_t kAdminRequestTypes = 5;  // snapshot, node, remove, stats, invalid
inline constexpr const char* kAgentRequestNames[kAgentRequestTypes] = {"join", "heartbeat", "leave",
                                                                       "invalid"};
inline constexpr const char* kAdminRequestNames[kAdminRequestTypes] = {"snapshot", "node", "remove",
                                                                       "stats", "invalid"};

struct LoopCounters {
  uint64_t agent_requests = 0;            // messages read on the agent channel
  uint64_t admin_requests = 0;            // messages read on the admin channel
  uint64_t errors[kErrorCodeCount] = {};  // error replies sent, by ErrorCode
  uint64_t bad_frames = 0;                // messages with a bad frame layout
  uint64_t deltas = 0;                    // deltas committed and handed to the publisher
  uint64_t busy_rounds = 0;               // rounds that hit the per-round read bound
  uint64_t accept_failures = 0;           // accepts libzmq reported failed (socket_monitor.h)
  uint64_t close_failures = 0;            // connection closes libzmq reported failed
  // CURVE (access_control.h): handshakes the ZAP handler admitted, and
  // refused (key not in the endpoint's set), by Endpoint; handshakes that
  // failed before ZAP (a client without CURVE, or with the wrong broker
  // key), from the socket monitors. Requests refused after the handshake
  // are errors[kForbidden].
  uint64_t handshakes_admitted = 0;
  uint64_t handshakes_refused[kEndpointCount] = {};
  uint64_t handshakes_failed = 0;
  // agent_requests and admin_requests by type (kAgentRequestNames,
  // kAdminRequestNames).
  uint64_t agent_by_type[kAgentRequestTypes] = {};
  uint64_t admin_by_type[kAdminRequestTypes] = {};
  // Connections accepted and ended on the state channel (its subscribers).
  uint64_t subscribers_accepted = 0;
  uint64_t subscribers_disconnected = 0;
  // Lifecycle: joins and leaves acknowledged; leases expired (alive to
  // suspect); operator removals done; records forgotten (removals included).
  uint64_t joins = 0;
  uint64_t leaves = 0;
  uint64_t expiries = 0;
  uint64_t removals = 0;
  uint64_t forgotten = 0;
  // Receive to send of every agent reply (the reply waits for the round's
  // commit), and the work of each round (poll wait excluded).
  LatencyCounts ack_latency;
  LatencyCounts round_time;
};

// Connections to the state channel open now.
inline uint64_t subscribers_connected(const LoopCounters& c) {
  return c.subscribers_accepted >= c.subscribers_disconnected
             ? c.subscribers_accepted - c.subscribers_disconnected
             : 0;
}

// The loop's counts and what it holds, copied for metrics (metrics.h).
struct LoopReport {
  LoopCounters counters;
  MembershipCounters core;
  uint64_t epoch = 0;
  uint64_t version = 0;
  bool complete = false;  // warm-up over: snapshots say complete: true
};

}  // namespace roster::broker
