// Configuration of the embeddable agent (roster::Agent, agent.h) and its
// validation. The same struct backs the roster-agent command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "roster/curve_client_options.h"
#include "roster/protocol.h"

namespace roster {

// How an agent uses several broker endpoints.
enum class BrokerMode : uint8_t {
  // An independent session with every broker: join, heartbeats, lease and
  // reconnection backoff per broker, one incarnation for all; so that
  // redundant brokers each observe the node directly. Costs one heartbeat
  // per broker per interval.
  kAll,
  // One broker at a time: an agent that loses its broker moves on to the
  // next one, wrapping around.
  kFailover,
};

// "all" or "failover".
std::string_view to_string(BrokerMode mode);
// The mode named `name`, or nullopt.
std::optional<BrokerMode> broker_mode_from_name(std::string_view name);

// What an agent announces and how it talks to the broker. Defaults suit a
// LAN cluster: a 3 s lease renewed every second.
struct AgentConfig {
  // Broker agent endpoints (e.g. "tcp://broker-a:7400"), each listed once:
  // all heartbeated (BrokerMode::kAll) or tried in order (kFailover).
  std::vector<std::string> brokers;
  // What to do with several brokers. kAll (the default) keeps every
  // broker's view complete at the cost of one heartbeat per broker per
  // interval; kFailover sends one, and a second broker sees the node only
  // after a failover.
  BrokerMode broker_mode = BrokerMode::kAll;
  // This node's id: 1..128 bytes of [A-Za-z0-9._:-].
  std::string node_id;
  // Where controllers reach the node (opaque to roster); may be empty.
  std::string addr;
  // Metadata published with the node; at most 32 labels.
  Labels labels;
  // Requested lease. The broker clamps it to its own bounds and the agent
  // follows the granted value. A short lease detects failure fast (and also
  // notices a lost broker fast) but costs heartbeats.
  uint64_t lease_ms = 3'000;
  // Heartbeat period; 0 means lease/3, so two heartbeats can be lost before
  // the lease runs out. REQUIRES: 0 or shorter than the lease.
  uint64_t interval_ms = 0;
  // How long stop(true) waits for the broker to acknowledge the leave.
  uint64_t leave_timeout_ms = 1'000;
  // Backoff after a lost broker, and between joins the broker refused
  // (stale_incarnation, over_capacity, ...): the n-th consecutive attempt
  // waits a random time in [backoff_min_ms, min(backoff_max, min*2^n)], so a
  // fleet that lost its broker does not come back in lockstep. 0 for the
  // maximum means the lease.
  uint64_t backoff_min_ms = 100;
  uint64_t backoff_max_ms = 0;
  // Incarnation of this run; 0 means wall-clock nanoseconds at start(), so a
  // restarted process always supersedes its previous life. A value below
  // an incarnation the broker still holds (a clock that went back) is
  // refused stale_incarnation until that one is over; the agent then goes
  // above it.
  uint64_t incarnation = 0;
  // The broker's --dead-after (its default here). An agent refused
  // stale_incarnation by a live holder keeps retrying only as long as the
  // holder could still be its own crashed predecessor, whose lease runs out
  // and which the broker declares dead dead_after later: refused that way
  // for longer than lease + dead_after (+ a grace of half a second), it
  // stops (AgentEvent::kDuplicate): another agent holds the node id. Set it
  // to at least the broker's value, or an agent restarted after a crash may
  // give up before its predecessor is declared dead.
  uint64_t dead_after_ms = 5'000;
  // CURVE on the connections to every broker (roster-agent --curve-secret
  // and --broker-key): certificate files, read by Agent::start(), or keys
  // already loaded; see curve_client_options.h. Empty: plaintext. A broker
  // that refuses the key is reported as AgentEvent::kAuthFailed, not as a
  // lost broker.
  CurveClientOptions curve;
};

// Returns nullopt if `config` is usable, else a message naming the bad field.
std::optional<std::string> validate_agent_config(const AgentConfig& config);

// Returns nullopt if `labels` respect the protocol limits, else why not.
std::optional<std::string> validate_labels(const Labels& labels);

// The heartbeat period for `lease_ms`: `interval_ms` when set, else
// lease/3 (at least 1 ms).
uint64_t effective_interval_ms(uint64_t lease_ms, uint64_t interval_ms);

}  // namespace roster
