// Counters of the event loop, reported by the admin `stats` request.
//
// Thread safety: none; owned by the event loop.
#pragma once

#include <cstddef>
#include <cstdint>

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
};

}  // namespace roster::broker
