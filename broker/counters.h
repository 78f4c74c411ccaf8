// Counters of the event loop, reported by the admin `stats` request.
//
// Thread safety: none; owned by the event loop.
#pragma once

#include <cstdint>

#include "roster/protocol.h"

namespace roster::broker {

struct LoopCounters {
  uint64_t agent_requests = 0;            // messages read on the agent channel
  uint64_t admin_requests = 0;            // messages read on the admin channel
  uint64_t errors[kErrorCodeCount] = {};  // error replies sent, by ErrorCode
  uint64_t bad_frames = 0;                // messages with a bad frame layout
  uint64_t deltas = 0;                    // deltas committed and handed to the publisher
  uint64_t busy_rounds = 0;               // rounds that hit the per-round read bound
  uint64_t accept_failures = 0;           // accepts libzmq reported failed (socket_monitor.h)
  uint64_t close_failures = 0;            // connection closes libzmq reported failed
};

}  // namespace roster::broker
