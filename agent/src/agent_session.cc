#include "agent_session.h"

#include <algorithm>
#include <limits>
#include <string>
#include <utility>

#include "roster/utf8.h"

namespace roster {

namespace {
constexpr uint64_t kNanosPerMilli = 1'000'000;
// Decorrelates the refusal backoff's jitter from the reconnection one.
constexpr uint64_t kRefusalSeedSalt = 0x9e3779b97f4a7c15ull;
// Slack on top of lease + dead_after before a live holder counts as another
// agent: the broker's tick granularity and the requests' transit.
constexpr uint64_t kDuplicateGraceMs = 500;
// The longest granted lease the agent follows (unless it asked for more):
// a buggy or hostile broker's larger value is clamped to it, so deadlines
// computed from the lease stay far from overflow.
constexpr uint64_t kMaxGrantedLeaseMs = 24 * 3600 * 1000;

uint64_t backoff_max(const AgentConfig& config) {
  return config.backoff_max_ms ? config.backoff_max_ms : config.lease_ms;
}

// The refusal as one log-safe line: the message comes from the broker, so
// control characters (a hostile broker's ANSI escapes or newlines) are
// escaped before they reach the agent's log or its embedding service.
std::string describe(const ErrorReply& error) {
  return std::string(to_string(error.code)) + ": " + escape_for_terminal(error.message);
}
}  // namespace

AgentSession::AgentSession(AgentConfig config, uint64_t incarnation, uint64_t jitter_seed)
    : config_(std::move(config)),
      inc_(incarnation),
      lease_ms_(config_.lease_ms),
      interval_ms_(effective_interval_ms(config_.lease_ms, config_.interval_ms)),
      backoff_(config_.backoff_min_ms, backoff_max(config_), jitter_seed),
      refusal_backoff_(config_.backoff_min_ms, backoff_max(config_),
                       jitter_seed ^ kRefusalSeedSalt) {}

void AgentSession::start(TimeMs now) {
  if (phase_ != AgentPhase::kIdle) return;
  endpoint_ = 0;
  // Built in place: a temporary SessionAction moved into the vector makes
  // GCC 12 at -O3 see the move of every alternative (maybe-uninitialized).
  actions_.emplace_back(std::in_place_type<OpenSocket>, OpenSocket{endpoint_});
  socket_open_ = true;
  phase_ = AgentPhase::kJoining;
  send_join(now);
}

bool AgentSession::finished() const {
  return phase_ == AgentPhase::kStopped || phase_ == AgentPhase::kRemoved ||
         phase_ == AgentPhase::kConfigError || phase_ == AgentPhase::kDuplicate;
}

void AgentSession::send_join(TimeMs now) {
  JoinRequest join;
  join.node = config_.node_id;
  join.inc = inc_;
  join.seq = next_seq_++;
  join.lease_ms = config_.lease_ms;
  join.addr = config_.addr;
  join.labels = config_.labels;
  outstanding_.push_back({join.seq, now, true});
  actions_.push_back(SendRequest{std::move(join)});
  ++counters_.joins_sent;
  next_send_at_ = now + static_cast<TimeMs>(interval_ms_);
}

void AgentSession::send_heartbeat(TimeMs now) {
  HeartbeatRequest heartbeat{config_.node_id, inc_, next_seq_++};
  outstanding_.push_back({heartbeat.seq, now, false});
  actions_.push_back(SendRequest{std::move(heartbeat)});
  ++counters_.heartbeats_sent;
  next_send_at_ = now + static_cast<TimeMs>(interval_ms_);
}

// Joins again after a refusal: at once if this is the first rejoin since
// the last acked join, else after the refusal backoff (then reported, so
// the log holds one line per wait). Requests sent before are abandoned:
// their replies describe a state the agent has already reacted to.
void AgentSession::rejoin(TimeMs now, const std::string& why) {
  rejoin_reason_ = why;
  if (quick_rejoin_) {
    quick_rejoin_ = false;
    outstanding_.clear();
    phase_ = AgentPhase::kJoining;
    send_join(now);
    return;
  }
  rejoin_later(now, why, "; refused again before an ack: joining in ");
}

// Waits the refusal backoff before the next join (on the same socket) and
// reports it once as `event`: "<why><waiting><delay> ms"; the wait ends no
// later than `not_after`.
void AgentSession::rejoin_later(TimeMs now, const std::string& why, const std::string& waiting,
                                AgentEvent event, std::optional<TimeMs> not_after) {
  rejoin_reason_ = why;
  uint64_t delay = refusal_backoff_.next_delay_ms();
  if (not_after && *not_after > now) {
    delay = std::min(delay, static_cast<uint64_t>(*not_after - now));
  }
  outstanding_.clear();
  phase_ = AgentPhase::kJoining;
  next_send_at_ = now + static_cast<TimeMs>(delay);
  report(event, why + waiting + std::to_string(delay) + " ms");
}

// This incarnation is over (dead or left, perhaps forgotten since): take
// one above both the agent's own and the broker's hint (the highest that
// is over), so it is not refused again for the same reason.
void AgentSession::start_new_incarnation(const ErrorReply& error, const std::string& detail,
                                         TimeMs now) {
  const uint64_t floor = std::max(inc_, error.inc.value_or(0));
  if (floor == std::numeric_limits<uint64_t>::max()) {
    // Nothing is above it: wait until the broker forgets it (tombstone ttl).
    rejoin_later(now, detail,
                 "; no incarnation above " + std::to_string(floor) + ": joining again in ");
    return;
  }
  const uint64_t previous = inc_;
  inc_ = std::max(static_cast<uint64_t>(now) * kNanosPerMilli, floor + 1);
  rejoin(now, "new incarnation after " + std::to_string(previous) + " was refused: " + detail);
}

void AgentSession::report(AgentEvent event, std::string detail) {
  actions_.push_back(AgentStateChange{event, config_.brokers[endpoint_], inc_, std::move(detail)});
}

void AgentSession::finish(AgentPhase phase, AgentEvent event, std::string detail) {
  if (socket_open_) actions_.push_back(CloseSocket{});
  socket_open_ = false;
  outstanding_.clear();
  phase_ = phase;
  report(event, std::move(detail));
}

// No reply within the lease, or a refused handshake: the broker (or the
// path to it) is gone for this agent. Close the socket so nothing queued
// for it is ever delivered, and try the next endpoint after a jittered
// backoff.
void AgentSession::lose_broker(TimeMs now, AgentEvent event, const std::string& why) {
  const uint64_t delay = backoff_.next_delay_ms();
  actions_.push_back(CloseSocket{});
  socket_open_ = false;
  outstanding_.clear();
  contested_since_.reset();
  ++counters_.broker_losses;
  const size_t next = (endpoint_ + 1) % config_.brokers.size();
  report(event, why + "; trying " + config_.brokers[next] + " in " + std::to_string(delay) + " ms");
  endpoint_ = next;
  phase_ = AgentPhase::kBackoff;
  reconnect_at_ = now + static_cast<TimeMs>(delay);
}

void AgentSession::on_handshake_failure(const std::string& detail, TimeMs now) {
  if (!socket_open_ || (phase_ != AgentPhase::kJoining && phase_ != AgentPhase::kJoined)) return;
  lose_broker(now, AgentEvent::kAuthFailed, detail);
}

void AgentSession::tick(TimeMs now) {
  switch (phase_) {
    case AgentPhase::kJoining:
    case AgentPhase::kJoined:
      if (!outstanding_.empty() &&
          now - outstanding_.front().sent_at >= static_cast<TimeMs>(lease_ms_)) {
        lose_broker(now, AgentEvent::kBrokerLost,
                    "no reply within " + std::to_string(lease_ms_) + " ms");
        return;
      }
      if (now < next_send_at_) return;
      // A join is repeated until acked; so is a label change.
      if (phase_ == AgentPhase::kJoining || labels_dirty_) {
        send_join(now);
      } else {
        send_heartbeat(now);
      }
      return;
    case AgentPhase::kBackoff:
      if (now < reconnect_at_) return;
      actions_.emplace_back(std::in_place_type<OpenSocket>, OpenSocket{endpoint_});
      socket_open_ = true;
      phase_ = AgentPhase::kJoining;
      send_join(now);
      return;
    case AgentPhase::kLeaving:
      if (now < leave_deadline_) return;
      finish(AgentPhase::kStopped, AgentEvent::kStopped,
             "no ack of the leave within " + std::to_string(config_.leave_timeout_ms) + " ms");
      return;
    default:
      return;
  }
}

void AgentSession::on_reply(const AgentReply& reply, TimeMs now) {
  if (phase_ == AgentPhase::kLeaving) {
    on_leave_reply(reply);
    return;
  }
  if (phase_ != AgentPhase::kJoining && phase_ != AgentPhase::kJoined) {
    ++stale_replies_;
    return;
  }
  const uint64_t seq = std::visit([](const auto& r) { return r.seq; }, reply);
  // Only a reply to an outstanding request counts; it also answers every
  // older one (the broker handles a connection's requests in order).
  auto it = std::find_if(outstanding_.begin(), outstanding_.end(),
                         [seq](const Outstanding& o) { return o.seq == seq; });
  if (it == outstanding_.end()) {
    ++stale_replies_;
    return;
  }
  const bool was_join = it->is_join;
  const TimeMs sent_at = it->sent_at;
  outstanding_.erase(outstanding_.begin(), it + 1);
  if (const auto* ack = std::get_if<Ack>(&reply)) {
    on_ack(*ack, was_join, seq, now);
  } else {
    on_error(std::get<ErrorReply>(reply), sent_at, now);
  }
}

void AgentSession::on_ack(const Ack& ack, bool was_join, uint64_t seq, TimeMs now) {
  const uint64_t granted = std::min(ack.lease_ms, std::max(config_.lease_ms, kMaxGrantedLeaseMs));
  if (granted > 0 && granted != lease_ms_) {
    lease_ms_ = granted;
    // Follow a lease clamped below the requested one; keep an explicit
    // interval only while it still fits twice into the lease.
    const uint64_t wanted = effective_interval_ms(lease_ms_, config_.interval_ms);
    interval_ms_ = wanted * 2 <= lease_ms_ ? wanted : effective_interval_ms(lease_ms_, 0);
  }
  if (!was_join) ++counters_.heartbeats_acked;
  if (was_join && labels_dirty_ && seq >= labels_from_seq_) labels_dirty_ = false;
  if (phase_ != AgentPhase::kJoining) return;
  // Heartbeats acked while a join is out do not end the joining.
  if (!was_join) return;
  phase_ = AgentPhase::kJoined;
  backoff_.reset();
  refusal_backoff_.reset();
  quick_rejoin_ = true;
  contested_since_.reset();
  next_send_at_ = now + static_cast<TimeMs>(interval_ms_);
  std::string detail = "lease " + std::to_string(lease_ms_) + " ms, heartbeat every " +
                       std::to_string(interval_ms_) + " ms, broker epoch " +
                       std::to_string(ack.epoch);
  if (!rejoin_reason_.empty()) detail += " (" + rejoin_reason_ + ")";
  rejoin_reason_.clear();
  report(ever_joined_ ? AgentEvent::kRejoined : AgentEvent::kJoined, std::move(detail));
  ever_joined_ = true;
}

void AgentSession::on_error(const ErrorReply& error, TimeMs sent_at, TimeMs now) {
  const std::string detail = describe(error);
  // Only stale_incarnation refusals in a row make a contest.
  if (error.code != ErrorCode::kStaleIncarnation && error.code != ErrorCode::kOverCapacity &&
      error.code != ErrorCode::kUnrecognized) {
    contested_since_.reset();
  }
  switch (error.code) {
    case ErrorCode::kUnknownNode:
      // The broker does not hold this incarnation (it restarted, or forgot
      // us): register it again, same incarnation.
      rejoin(now, detail);
      return;
    case ErrorCode::kExpired:
    case ErrorCode::kLeft:
      // This incarnation is over (declared dead or left, perhaps forgotten
      // since, e.g. after a long pause): start a new, higher one.
      start_new_incarnation(error, detail, now);
      return;
    case ErrorCode::kStaleIncarnation:
      on_stale_incarnation(error, detail, sent_at, now);
      return;
    case ErrorCode::kRemoved:
      // The operator removed this node: coming back would make it a zombie.
      finish(AgentPhase::kRemoved, AgentEvent::kRemoved, detail);
      return;
    case ErrorCode::kBadRequest:
    case ErrorCode::kUnsupportedVersion:
      finish(AgentPhase::kConfigError, AgentEvent::kConfigError, detail);
      return;
    case ErrorCode::kForbidden:
      // This agent's key may not claim the node id: a configuration error
      // (the key's node globs or the agent's node id). Not a reason for a
      // new incarnation; ask again after the refusal backoff, so a fix on
      // the broker (SIGHUP) is picked up.
      rejoin_later(now, detail,
                   "; this agent's CURVE key may not claim node id " + config_.node_id +
                       " (check --node-id and the node globs of its certificate); joining again "
                       "in ",
                   AgentEvent::kForbidden);
      return;
    case ErrorCode::kOverCapacity:
    case ErrorCode::kUnrecognized: {
      // A refusal that may pass (a broker limit, or a code from a newer
      // broker): the broker answers, so it is not lost; join again on the
      // same connection after a backoff.
      rejoin_later(now, detail, "; joining again in ");
      return;
    }
  }
}

// A live, newer incarnation holds the id: another process claims it, or
// this node's own previous one has not expired yet. Do not take the id
// back; ask again after a backoff until the holder is over (then the broker
// answers expired or left). A crashed predecessor is over within its lease
// plus dead_after: a holder still live after that (judged by when the
// refused request was sent) is another agent, and this one stops.
void AgentSession::on_stale_incarnation(const ErrorReply& error, const std::string& detail,
                                        TimeMs sent_at, TimeMs now) {
  const std::string holder = error.inc ? std::to_string(*error.inc) : std::string("unknown");
  if (!contested_since_) contested_since_ = sent_at;
  const TimeMs give_up_at = *contested_since_ + static_cast<TimeMs>(duplicate_wait_ms());
  if (sent_at >= give_up_at) {
    finish(AgentPhase::kDuplicate, AgentEvent::kDuplicate,
           detail + " (the holder's incarnation: " + holder + "); a live holder for " +
               std::to_string(sent_at - *contested_since_) +
               " ms, longer than lease + dead_after + grace (" +
               std::to_string(duplicate_wait_ms()) + " ms): another agent holds node id " +
               config_.node_id);
    return;
  }
  rejoin_later(
      now, detail,
      " (the holder's incarnation: " + holder + "); not taking the id back, joining again in ",
      AgentEvent::kRefused, give_up_at);
}

uint64_t AgentSession::duplicate_wait_ms() const {
  return std::max(config_.lease_ms, lease_ms_) + config_.dead_after_ms + kDuplicateGraceMs;
}

void AgentSession::on_leave_reply(const AgentReply& reply) {
  const uint64_t seq = std::visit([](const auto& r) { return r.seq; }, reply);
  if (seq != leave_seq_) {
    ++stale_replies_;
    return;
  }
  if (std::holds_alternative<Ack>(reply)) {
    finish(AgentPhase::kStopped, AgentEvent::kLeft, "leave acknowledged");
    return;
  }
  const auto& error = std::get<ErrorReply>(reply);
  finish(AgentPhase::kStopped, AgentEvent::kStopped, "leave refused: " + describe(error));
}

void AgentSession::update_labels(Labels labels, TimeMs now) {
  config_.labels = std::move(labels);
  if (finished() || phase_ == AgentPhase::kLeaving) return;
  labels_dirty_ = true;
  labels_from_seq_ = next_seq_;
  if (phase_ == AgentPhase::kJoined) send_join(now);
}

void AgentSession::leave(TimeMs now) {
  if (finished() || phase_ == AgentPhase::kLeaving) return;
  if (phase_ == AgentPhase::kIdle) {
    phase_ = AgentPhase::kStopped;
    return;
  }
  if (!socket_open_) {
    // Between brokers: say goodbye to the one we would try next.
    actions_.emplace_back(std::in_place_type<OpenSocket>, OpenSocket{endpoint_});
    socket_open_ = true;
  }
  outstanding_.clear();
  LeaveRequest leave{config_.node_id, inc_, next_seq_++, "agent stopped"};
  leave_seq_ = leave.seq;
  actions_.push_back(SendRequest{std::move(leave)});
  phase_ = AgentPhase::kLeaving;
  leave_deadline_ = now + static_cast<TimeMs>(config_.leave_timeout_ms);
}

void AgentSession::adopt_incarnation(uint64_t inc, TimeMs now) {
  if (inc <= inc_ || finished() || phase_ == AgentPhase::kLeaving) return;
  const uint64_t previous = inc_;
  inc_ = inc;
  contested_since_.reset();
  rejoin_reason_ = "incarnation " + std::to_string(inc) + " taken after " +
                   std::to_string(previous) + " was refused by another broker";
  if (phase_ != AgentPhase::kJoining && phase_ != AgentPhase::kJoined) return;
  outstanding_.clear();
  phase_ = AgentPhase::kJoining;
  send_join(now);
}

void AgentSession::abandon() {
  if (finished()) return;
  if (phase_ == AgentPhase::kIdle) {
    phase_ = AgentPhase::kStopped;
    return;
  }
  finish(AgentPhase::kStopped, AgentEvent::kStopped, "stopped without leave");
}

std::optional<TimeMs> AgentSession::next_deadline() const {
  switch (phase_) {
    case AgentPhase::kJoining:
    case AgentPhase::kJoined: {
      TimeMs deadline = next_send_at_;
      if (!outstanding_.empty()) {
        deadline =
            std::min(deadline, outstanding_.front().sent_at + static_cast<TimeMs>(lease_ms_));
      }
      return deadline;
    }
    case AgentPhase::kBackoff:
      return reconnect_at_;
    case AgentPhase::kLeaving:
      return leave_deadline_;
    default:
      return std::nullopt;
  }
}

std::vector<SessionAction> AgentSession::take_actions() {
  std::vector<SessionAction> out;
  out.swap(actions_);
  return out;
}

}  // namespace roster
