// roster::Agent: heartbeats a roster broker from inside a service's own
// process. It joins, renews its lease every interval, rejoins when the broker
// does not hold it, takes a higher incarnation (above the broker's hint)
// when its old one is over (dead or left, even if forgotten since), waits
// with backoff while a newer incarnation holds its node id (and stops,
// kDuplicate, when that holder stays live for longer than lease +
// dead_after: another agent holds the id), heartbeats every broker
// endpoint independently (or fails over between them: BrokerMode), and
// leaves on stop(). Otherwise it stops for good only when
// the operator removed the node. Every refusal-driven retry backs off.
// The protocol is in docs/PROTOCOL.md; the behaviour in docs/OPERATIONS.md
// ("Agent").
//
// Thread safety: an Agent runs its own thread, which owns every ZeroMQ
// socket. All public member functions are safe to call from any thread,
// concurrently, except the destructor. The state callback runs on the
// agent's thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "roster/agent_config.h"
#include "roster/agent_state.h"
#include "roster/clock.h"

namespace roster {

// Called on the agent's thread, one call at a time, for every change of
// state. It must return quickly (the agent does not heartbeat while it runs)
// and must not call Agent::stop() or destroy the Agent (that would wait for
// the very thread running the callback); update_labels() and status() are
// fine.
using AgentCallback = std::function<void(const AgentStateChange&)>;

// One session with a broker (AgentConfig::broker_mode): with kAll one per
// broker, with kFailover one for the whole list.
struct BrokerLinkStatus {
  // The endpoint in use (kFailover: the current one, or the next to try).
  std::string broker;
  AgentPhase phase = AgentPhase::kIdle;
  // Joined: the last join was acked and no reply has been missing for a
  // lease since.
  bool up = false;
  uint64_t joins_sent = 0;
  uint64_t heartbeats_sent = 0;
  uint64_t heartbeats_acked = 0;
  // Times no reply came within the lease: the socket was closed, and
  // reopened after a backoff (kFailover: to the next endpoint, a failover).
  uint64_t broker_losses = 0;
};

// Where an agent is: its phase, incarnation and current broker endpoint,
// and each broker session.
struct AgentStatus {
  // With several sessions: kJoined while any is joined (see
  // AgentSessions::phase()).
  AgentPhase phase = AgentPhase::kIdle;
  uint64_t incarnation = 0;
  // The first joined session's broker, else the first session's.
  std::string broker;
  // One entry per session, in the order of AgentConfig::brokers (kAll).
  std::vector<BrokerLinkStatus> links;
};

class Agent {
 public:
  // `on_state` may be empty. Times lease, heartbeats, backoffs and the
  // leave timeout on the system clock.
  explicit Agent(AgentConfig config, AgentCallback on_state = nullptr);
  // Times them on `clock` instead (a SimulatedClock in tests: see wake()).
  // REQUIRES: `clock` outlives the Agent.
  Agent(AgentConfig config, AgentCallback on_state, const Clock& clock);
  // Stops as stop(true) would, if still running.
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  // Validates the configuration and starts the agent's thread, which joins
  // the first broker at once. Returns nullopt when started, else the reason
  // (invalid configuration, already started). Starts at most once.
  std::optional<std::string> start();

  // Stops the agent and waits for its thread. With `leave`, sends a leave
  // and waits for its ack up to the leave timeout first (so observers see
  // `left` at once rather than a lease expiry). Idempotent; returns at once
  // when never started or already stopped (e.g. after `removed`).
  // REQUIRES: not called from the state callback.
  void stop(bool leave = true);

  // Replaces the labels. While joined they are sent at once as a join of
  // the current incarnation (so subscribers see one delta) and repeated
  // until acked. Returns nullopt when accepted, else why not (over a limit).
  std::optional<std::string> update_labels(Labels labels);

  // The agent's current phase, incarnation and broker endpoint, and the
  // state and counters of each broker session.
  AgentStatus status() const;

  // Makes the agent's thread read its clock at once and do what is due,
  // rather than sleep until its next deadline in real time. Only a clock
  // that jumps needs it: a test calls it after moving a SimulatedClock.
  // Does nothing before start() or after stop().
  void wake();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace roster
