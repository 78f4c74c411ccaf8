// What an agent reports about itself: its phase and the changes of state
// delivered to the callback of roster::Agent (agent.h).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace roster {

// Where the agent is in its life.
enum class AgentPhase : uint8_t {
  kIdle,         // not started
  kJoining,      // a join is out, no ack yet
  kJoined,       // acked; heartbeating every interval
  kBackoff,      // broker lost; waiting before trying the next endpoint
  kLeaving,      // leave sent; waiting for its ack up to the leave timeout
  kStopped,      // stopped by stop(), with or without a leave
  kRemoved,      // the broker said `removed`: the operator removed this node
  kConfigError,  // the broker refused the request (bad_request/unsupported_version)
  kDuplicate,    // another live agent held this node id for longer than lease + dead_after
};

// Returns a lower-case name, e.g. "joined".
std::string_view to_string(AgentPhase phase);

// A change of state the agent reports.
enum class AgentEvent : uint8_t {
  kJoined,       // first ack of this agent
  kRejoined,     // ack of a join after a broker loss, unknown_node, a refusal or a new
                 // incarnation (after expired/left)
  kBrokerLost,   // no reply within the lease: socket closed, next endpoint after a backoff
  kRemoved,      // refused with `removed`: heartbeating stopped for good (terminal)
  kConfigError,  // refused with bad_request/unsupported_version (terminal)
  kLeft,         // the leave was acknowledged (terminal)
  kStopped,      // stopped without an acknowledged leave (terminal)
  kRefused,      // refused in a way that may pass (stale_incarnation, over_capacity, an
                 // unknown code, or the same refusal again before an ack): the join is
                 // retried after a backoff, at most one such event per wait
  kDuplicate,    // refused stale_incarnation by a live holder for longer than the holder
                 // could be this node's own crashed predecessor (lease + dead_after):
                 // another agent holds this node id; stopped for good (terminal)
  kBrokerDone,   // with several brokers (BrokerMode::kAll): the session with one broker
                 // ended (DETAIL: how, e.g. "removed: ...; leaving the other brokers",
                 // "left: leave acknowledged"); the agent's own terminal event follows
                 // once every session has ended
  kAuthFailed,   // the broker refused this agent's CURVE key, or the CURVE handshake
                 // failed (wrong broker key, CURVE on one side only): as kBrokerLost,
                 // socket closed, next endpoint after a backoff; detail says which
  kForbidden,    // refused with `forbidden`: this key may not claim the node id (a
                 // configuration error): no new incarnation, the join is retried after
                 // the refusal backoff, at most one such event per wait
};

// Returns a lower-case name, e.g. "broker_lost".
std::string_view to_string(AgentEvent event);

// True for the events after which the agent sends nothing more.
bool is_terminal(AgentEvent event);

// One reported change: the event, the broker endpoint it concerns, the
// incarnation in use and a human-readable detail (e.g. the broker's error
// message, the lease granted, the backoff before the next attempt).
struct AgentStateChange {
  AgentEvent event = AgentEvent::kJoined;
  std::string broker;
  uint64_t incarnation = 0;
  std::string detail;
};

}  // namespace roster
