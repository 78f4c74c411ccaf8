// A swarm of real agent connections: `count` DEALER sockets, one node each,
// joining in waves and then heartbeating at 1 Hz (staggered evenly over the
// second). A process can hold about (open-file limit / 2) of them (a socket
// and its mailbox each take a descriptor), so the connections scenario runs
// several swarms as `roster-bench swarm` child processes.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "latency_stats.h"

namespace roster::bench {

// What one swarm did.
struct SwarmOutcome {
  uint64_t joined = 0;
  double join_s = 0;  // connecting and joining every node
  uint64_t sent = 0;  // heartbeats
  uint64_t acked = 0;
  uint64_t refused = 0;
  std::string error;  // empty when the swarm ran to the end
  LatencySamples latency;

  // Counters plus every latency sample (in "latency_us").
  nlohmann::json to_json() const;
  // The inverse of to_json().
  static SwarmOutcome from_json(const nlohmann::json& j);
};

// Runs a swarm of nodes "conn-<first>".."conn-<first+count-1>" (incarnation
// `inc`) against `endpoint`, heartbeating for `heartbeat_for`. Never
// throws: socket errors end up in error.
SwarmOutcome run_swarm(const std::string& endpoint, size_t first, size_t count, uint64_t inc,
                       std::chrono::milliseconds heartbeat_for);

// The `roster-bench swarm` subcommand: run_swarm, then the outcome as JSON
// to `output`. Returns the exit status (0 when the swarm ran to the end).
int run_swarm_command(const std::string& endpoint, size_t first, size_t count, uint64_t inc,
                      std::chrono::milliseconds heartbeat_for, const std::string& output);

}  // namespace roster::bench
