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
// and unknown codes. Only `removed` means the operator removed the node.
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

  // The earliest time tick() has work to do; nullopt when nothing is armed.
  std::optional<TimeMs> next_deadline() const;

  // Actions queued since the last call, in order.
  std::vector<SessionAction> take_actions();

  AgentPhase phase() const { return phase_; }
  // True once stopped, removed or refused: nothing more will be sent.
  bool finished() const;
  uint64_t incarnation() const { return inc_; }
  size_t endpoint() const { return endpoint_; }
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
  void rejoin_later(TimeMs now, const std::string& why, const std::string& waiting,
                    AgentEvent event = AgentEvent::kRefused);
  void start_new_incarnation(const ErrorReply& error, const std::string& detail, TimeMs now);
  void lose_broker(TimeMs now, AgentEvent event, const std::string& why);
  void finish(AgentPhase phase, AgentEvent event, std::string detail);
  void report(AgentEvent event, std::string detail);
  void on_ack(const Ack& ack, bool was_join, uint64_t seq, TimeMs now);
  void on_error(const ErrorReply& error, TimeMs now);
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
  // One immediate rejoin is allowed per acked join (see the file comment).
  bool quick_rejoin_ = true;
  // Why the agent is joining again, for the kRejoined event; empty if new.
  std::string rejoin_reason_;
  TimeMs reconnect_at_ = 0;
  uint64_t leave_seq_ = 0;
  TimeMs leave_deadline_ = 0;
  uint64_t stale_replies_ = 0;
  std::vector<SessionAction> actions_;
};

}  // namespace roster
