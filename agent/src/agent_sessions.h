// The agent's sessions with its brokers, without sockets, threads or clock
// reads. In BrokerMode::kAll it runs one AgentSession per broker, each on
// its own link (socket), with its own join, heartbeats, lease and
// reconnection backoff, so a broker that is down never delays the others;
// in kFailover (or with one broker) a single session on link 0 goes
// through the endpoints in turn, as the agent always did.
//
// What the sessions share (kAll with several brokers):
// - One incarnation. When a broker's reply makes one session take a new
//   incarnation (expired/left), every other session moves to it at once
//   (AgentSession::adopt_incarnation): a join of the new incarnation, which
//   the other brokers take as a restart of the node.
// - One end. `removed` from any broker (the operator's fence), a
//   `bad_request`/`unsupported_version` refusal, or a live holder of the
//   node id at any broker for longer than lease + dead_after (kDuplicate)
//   ends the agent: every other session leaves (each waits for its ack up
//   to the leave timeout, in parallel), then the agent reports that
//   terminal event. leave() sends a leave to every broker the same way.
// - While several run, a session that ends is reported as kBrokerDone;
//   the agent's one terminal event comes once every session has ended.
//
// Thread safety: none; the agent's thread owns it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent_session.h"
#include "roster/agent_config.h"
#include "roster/agent_state.h"
#include "roster/clock.h"

namespace roster {

// One session action and the link (socket) it is for; the endpoint of an
// OpenSocket is resolved with AgentSessions::endpoint().
struct LinkAction {
  size_t link = 0;
  SessionAction action;
};

class AgentSessions {
 public:
  // REQUIRES: validate_agent_config(config) is nullopt; incarnation > 0.
  AgentSessions(const AgentConfig& config, uint64_t incarnation, uint64_t jitter_seed);

  // Starts every session. REQUIRES: not started.
  void start(TimeMs now);
  // A reply that arrived on `link`.
  void on_reply(size_t link, const AgentReply& reply, TimeMs now);
  // The CURVE handshake on `link`'s socket failed
  // (AgentSession::on_handshake_failure).
  void on_handshake_failure(size_t link, const std::string& detail, TimeMs now);
  // Runs what is due at `now` in every session.
  void tick(TimeMs now);
  // REQUIRES: validate_labels(labels) is nullopt.
  void update_labels(const Labels& labels, TimeMs now);
  // Leaves every broker, each waiting for its ack up to the leave timeout.
  void leave(TimeMs now);
  // Stops every session at once, without a leave.
  void abandon(TimeMs now);

  // The earliest deadline of any session; nullopt when none is armed.
  std::optional<TimeMs> next_deadline() const;
  // Actions queued since the last call, in order.
  std::vector<LinkAction> take_actions();

  // How many links (sessions) there are.
  size_t links() const { return sessions_.size(); }
  const AgentSession& session(size_t link) const { return sessions_[link]; }
  // The endpoint `endpoint` of the session on `link`.
  const std::string& endpoint(size_t link, size_t endpoint) const;

  // The agent's phase: the terminal one once finished; else kLeaving while
  // leaving, kJoined if any session is joined, kJoining if any joins, else
  // kBackoff.
  AgentPhase phase() const;
  // True once every session has ended and the terminal event is queued.
  bool finished() const;
  uint64_t incarnation() const { return inc_; }
  // The broker to name in the status: the first joined session's, else
  // link 0's.
  const std::string& broker() const;

 private:
  void collect(size_t link, TimeMs now);
  void on_session_end(size_t link, AgentStateChange change, TimeMs now);
  void sync_incarnation(size_t link, TimeMs now);
  void maybe_finish();

  std::vector<AgentSession> sessions_;
  uint64_t inc_;
  // The agent is stopping: leave() or abandon() was called, or a session
  // ended it (end_cause_).
  bool stopping_ = false;
  // The session end that ends the agent (removed, config_error, duplicate).
  std::optional<AgentStateChange> end_cause_;
  size_t end_link_ = 0;
  // How each ended session ended, by link.
  std::vector<std::optional<AgentStateChange>> ended_;
  bool finished_ = false;
  std::vector<LinkAction> actions_;
};

}  // namespace roster
