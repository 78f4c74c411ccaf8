// The agent's protocol logic, without sockets, threads or clock reads: what
// to send when, how to react to each reply, when the broker counts as lost.
// The I/O shell (agent.cc) feeds it replies, commands and `now`, and carries
// out the actions it queues, in order.
//
// Refusals never make it retry without a backoff. After an acked join, the
// first refusal that calls for a new join (unknown_node: same incarnation;
// expired/left: a new one above the broker's hint) is answered at once;
// any further one before the next acked join waits a jittered backoff, as
// do stale_incarnation (another live process holds the id: the agent does
// not take it back, it waits for the holder to be over), forbidden (its
// CURVE key may not claim the id: reported as kForbidden), over_capacity
// and unknown codes. Only `removed` means the operator removed the node. A
// holder still live lease + dead_after (+ grace) after the first
// stale_incarnation is another agent: the session stops (kDuplicate).
//
// Thread safety: none; the agent's thread owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "backoff.h"
#include "roster/agent_config.h"
#include "roster/agent_state.h"
#include "roster/clock.h"
#include "roster/protocol.h"

namespace roster {

// Open a fresh DEALER to config.brokers[endpoint] (any previous one is
// closed first).
struct OpenSocket {
  size_t endpoint = 0;
};
// Close the DEALER, dropping anything still queued.
struct CloseSocket {};
// Send this request on the open DEALER. When the socket cannot take it yet,
// keep only the newest such request: never build a backlog.
struct SendRequest {
  AgentRequest request;
};
using SessionAction = std::variant<OpenSocket, CloseSocket, SendRequest, AgentStateChange>;

// What a session has sent and received, for status and metrics.
struct SessionCounters {
  uint64_t joins_sent = 0;
  uint64_t heartbeats_sent = 0;
  uint64_t heartbeats_acked = 0;
  // No reply within the lease: the socket was closed (and, with several
  // endpoints, the next one tried).
  uint64_t broker_losses = 0;
};

class AgentSession {
 public:
  // REQUIRES: validate_agent_config(config) is nullopt; incarnation > 0.
  AgentSession(AgentConfig config, uint64_t incarnation, uint64_t jitter_seed);

  // Opens the first endpoint and sends a join. REQUIRES: phase() == kIdle.
  void start(TimeMs now);

  // Handles a reply from the broker. Replies to requests that are no longer
  // outstanding (stale) are counted and ignored.
  void on_reply(const AgentReply& reply, TimeMs now);

  // The broker refused this agent's CURVE handshake on the open socket (or
  // the handshake failed): no reply will come on it. Reports kAuthFailed
  // with `detail` and goes on as for a lost broker: close, back off, try
  // the next endpoint. Ignored unless joining or joined.
  void on_handshake_failure(const std::string& detail, TimeMs now);

  // Runs whatever is due at `now`: heartbeat, join retry, broker loss,
  // reconnection after the backoff, the end of the leave wait.
  void tick(TimeMs now);

  // Replaces the labels; while joined, sends a join of the current
  // incarnation at once. REQUIRES: validate_labels(labels) is nullopt.
  void update_labels(Labels labels, TimeMs now);

  // Sends a leave and waits for its ack up to the leave timeout (then
  // kStopped). Does nothing once finished.
  void leave(TimeMs now);

  // Stops at once without a leave. Does nothing once finished.
  void abandon();

  // Moves to incarnation `inc`, taken by another session of the same agent
  // (AgentSessions): while joining or joined, sends a join of it at once
  // (replies to requests of the old one are then stale); while backing
  // off, the next join carries it. Does nothing if `inc` is not above the
  // current one, while leaving, or once finished.
  void adopt_incarnation(uint64_t inc, TimeMs now);

  // The earliest time tick() has work to do; nullopt when nothing is armed.
  std::optional<TimeMs> next_deadline() const;

  // Actions queued since the last call, in order.
  std::vector<SessionAction> take_actions();

  AgentPhase phase() const { return phase_; }
  // True once stopped, removed, refused or a duplicate: nothing more will be
  // sent.
  bool finished() const;
  uint64_t incarnation() const { return inc_; }
  size_t endpoint() const { return endpoint_; }
  // The endpoint in use (or tried next while backing off).
  const std::string& broker() const { return config_.brokers[endpoint_]; }
  // Endpoint `endpoint` of this session's list (an OpenSocket's).
  const std::string& broker(size_t endpoint) const { return config_.brokers[endpoint]; }
  // True while joined: the last join was acked and the broker not lost since.
  bool up() const { return phase_ == AgentPhase::kJoined; }
  const SessionCounters& counters() const { return counters_; }
  // Replies ignored because they answered no outstanding request.
  uint64_t stale_replies() const { return stale_replies_; }

 private:
  struct Outstanding {
    uint64_t seq;
    TimeMs sent_at;
    bool is_join;
  };

  void send_join(TimeMs now);
  void send_heartbeat(TimeMs now);
  void rejoin(TimeMs now, const std::string& why);
  // Joins again after the refusal backoff, but no later than `not_after`,
  // reporting `event`.
  void rejoin_later(TimeMs now, const std::string& why, const std::string& waiting,
                    AgentEvent event = AgentEvent::kRefused,
                    std::optional<TimeMs> not_after = std::nullopt);
  void start_new_incarnation(const ErrorReply& error, const std::string& detail, TimeMs now);
  void lose_broker(TimeMs now, AgentEvent event, const std::string& why);
  void finish(AgentPhase phase, AgentEvent event, std::string detail);
  void report(AgentEvent event, std::string detail);
  void on_ack(const Ack& ack, bool was_join, uint64_t seq, TimeMs now);
  void on_error(const ErrorReply& error, TimeMs sent_at, TimeMs now);
  void on_stale_incarnation(const ErrorReply& error, const std::string& detail, TimeMs sent_at,
                            TimeMs now);
  // How long a live holder may refuse this agent before it counts as
  // another agent: the lease, dead_after and a grace.
  uint64_t duplicate_wait_ms() const;
  void on_leave_reply(const AgentReply& reply);

  AgentConfig config_;
  uint64_t inc_;
  uint64_t next_seq_ = 1;
  AgentPhase phase_ = AgentPhase::kIdle;
  size_t endpoint_ = 0;
  bool socket_open_ = false;
  bool ever_joined_ = false;
  // Requests sent on the current socket and not answered yet, oldest first.
  std::deque<Outstanding> outstanding_;
  uint64_t lease_ms_;     // granted by the broker (requested until then)
  uint64_t interval_ms_;  // heartbeat period for lease_ms_
  TimeMs next_send_at_ = 0;
  // Labels changed: joins (instead of heartbeats) until a join with
  // seq >= labels_from_seq_ is acked.
  bool labels_dirty_ = false;
  uint64_t labels_from_seq_ = 0;
  Backoff backoff_;
  // Waits between joins the broker refused; reset by an acked join.
  Backoff refusal_backoff_;
  // When the refused request of the current run of stale_incarnation
  // refusals was sent; reset by any other reply but over_capacity and
  // unknown codes, and by a broker loss.
  std::optional<TimeMs> contested_since_;
  // One immediate rejoin is allowed per acked join (see the file comment).
  bool quick_rejoin_ = true;
  // Why the agent is joining again, for the kRejoined event; empty if new.
  std::string rejoin_reason_;
  TimeMs reconnect_at_ = 0;
  uint64_t leave_seq_ = 0;
  TimeMs leave_deadline_ = 0;
  uint64_t stale_replies_ = 0;
  SessionCounters counters_;
  std::vector<SessionAction> actions_;
};

}  // namespace roster
