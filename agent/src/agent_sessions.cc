#include "agent_sessions.h"

#include <algorithm>
#include <utility>

namespace roster {

namespace {
// Decorrelates the jitter of the sessions' backoffs.
constexpr uint64_t kSessionSeedSalt = 0xbf58476d1ce4e5b9ull;

// True for the session ends that end the whole agent.
bool ends_the_agent(AgentEvent event) {
  return event == AgentEvent::kRemoved || event == AgentEvent::kConfigError ||
         event == AgentEvent::kDuplicate;
}

std::vector<AgentConfig> session_configs(const AgentConfig& config) {
  if (config.broker_mode == BrokerMode::kFailover || config.brokers.size() <= 1) return {config};
  std::vector<AgentConfig> configs;
  for (const auto& broker : config.brokers) {
    AgentConfig one = config;
    one.brokers = {broker};
    configs.push_back(std::move(one));
  }
  return configs;
}
}  // namespace

AgentSessions::AgentSessions(const AgentConfig& config, uint64_t incarnation, uint64_t jitter_seed)
    : inc_(incarnation) {
  std::vector<AgentConfig> configs = session_configs(config);
  sessions_.reserve(configs.size());
  for (size_t i = 0; i < configs.size(); ++i) {
    sessions_.emplace_back(std::move(configs[i]), incarnation, jitter_seed + i * kSessionSeedSalt);
  }
  ended_.resize(sessions_.size());
}

const std::string& AgentSessions::endpoint(size_t link, size_t endpoint) const {
  return sessions_[link].broker(endpoint);
}

void AgentSessions::start(TimeMs now) {
  for (size_t i = 0; i < sessions_.size(); ++i) {
    sessions_[i].start(now);
    collect(i, now);
  }
}

void AgentSessions::on_reply(size_t link, const AgentReply& reply, TimeMs now) {
  if (link >= sessions_.size()) return;
  sessions_[link].on_reply(reply, now);
  collect(link, now);
}

void AgentSessions::on_handshake_failure(size_t link, const std::string& detail, TimeMs now) {
  if (link >= sessions_.size()) return;
  sessions_[link].on_handshake_failure(detail, now);
  collect(link, now);
}

void AgentSessions::tick(TimeMs now) {
  for (size_t i = 0; i < sessions_.size(); ++i) {
    sessions_[i].tick(now);
    collect(i, now);
  }
}

void AgentSessions::update_labels(const Labels& labels, TimeMs now) {
  for (size_t i = 0; i < sessions_.size(); ++i) {
    sessions_[i].update_labels(labels, now);
    collect(i, now);
  }
}

void AgentSessions::leave(TimeMs now) {
  stopping_ = true;
  for (size_t i = 0; i < sessions_.size(); ++i) {
    sessions_[i].leave(now);
    collect(i, now);
  }
  maybe_finish();
}

void AgentSessions::abandon(TimeMs now) {
  stopping_ = true;
  for (size_t i = 0; i < sessions_.size(); ++i) {
    sessions_[i].abandon();
    collect(i, now);
  }
  maybe_finish();
}

// Moves the actions of session `link` to the agent's queue. With several
// sessions, a session's terminal event is held back (on_session_end) and
// a new incarnation spreads to the others.
void AgentSessions::collect(size_t link, TimeMs now) {
  for (auto& action : sessions_[link].take_actions()) {
    auto* change = std::get_if<AgentStateChange>(&action);
    if (change != nullptr && sessions_.size() > 1 && is_terminal(change->event)) {
      on_session_end(link, std::move(*change), now);
      continue;
    }
    actions_.push_back(LinkAction{link, std::move(action)});
  }
  sync_incarnation(link, now);
  maybe_finish();
}

// Session `link` ended (several sessions). Reports it as kBrokerDone; if
// it ends the agent, every other session leaves.
void AgentSessions::on_session_end(size_t link, AgentStateChange change, TimeMs now) {
  ended_[link] = change;
  const bool fence = !stopping_ && ends_the_agent(change.event);
  AgentStateChange done = change;
  done.event = AgentEvent::kBrokerDone;
  done.detail = std::string(to_string(change.event)) + ": " + change.detail;
  if (fence) done.detail += "; leaving the other brokers";
  actions_.push_back(LinkAction{link, std::move(done)});
  if (!fence) return;
  stopping_ = true;
  end_cause_ = std::move(change);
  end_link_ = link;
  for (size_t i = 0; i < sessions_.size(); ++i) {
    if (i == link || sessions_[i].finished()) continue;
    sessions_[i].leave(now);
    collect(i, now);
  }
}

void AgentSessions::sync_incarnation(size_t link, TimeMs now) {
  const uint64_t inc = sessions_[link].incarnation();
  if (inc <= inc_) return;
  inc_ = inc;
  for (size_t i = 0; i < sessions_.size(); ++i) {
    if (i == link || sessions_[i].finished()) continue;
    sessions_[i].adopt_incarnation(inc, now);
    collect(i, now);
  }
}

// Once every session has ended (several sessions), queues the agent's one
// terminal event: the cause that ended it, else left if any broker
// acknowledged the leave, else stopped; its detail says how every broker
// ended.
void AgentSessions::maybe_finish() {
  if (finished_ || sessions_.size() == 1) return;
  for (const auto& ended : ended_) {
    if (!ended) return;
  }
  finished_ = true;
  std::string summary;
  size_t link = 0;
  bool left = false;
  for (size_t i = 0; i < ended_.size(); ++i) {
    const AgentStateChange& e = *ended_[i];
    if (!left && e.event == AgentEvent::kLeft) {
      left = true;
      link = i;
    }
    if (end_cause_ && i == end_link_) continue;
    summary += summary.empty() ? "" : "; ";
    summary += e.broker + ": " + std::string(to_string(e.event));
  }
  AgentStateChange outcome;
  if (end_cause_) {
    outcome = *end_cause_;
    link = end_link_;
    if (!summary.empty()) outcome.detail += " (then the other brokers: " + summary + ")";
  } else {
    outcome.event = left ? AgentEvent::kLeft : AgentEvent::kStopped;
    outcome.broker = ended_[link]->broker;
    outcome.detail = summary;
  }
  outcome.incarnation = inc_;
  actions_.push_back(LinkAction{link, std::move(outcome)});
}

std::optional<TimeMs> AgentSessions::next_deadline() const {
  std::optional<TimeMs> earliest;
  for (const auto& session : sessions_) {
    auto deadline = session.next_deadline();
    if (deadline && (!earliest || *deadline < *earliest)) earliest = deadline;
  }
  return earliest;
}

std::vector<LinkAction> AgentSessions::take_actions() {
  std::vector<LinkAction> out;
  out.swap(actions_);
  return out;
}

bool AgentSessions::finished() const {
  if (sessions_.size() == 1) return sessions_[0].finished();
  return finished_;
}

AgentPhase AgentSessions::phase() const {
  if (sessions_.size() == 1) return sessions_[0].phase();
  if (finished_) {
    if (!end_cause_) return AgentPhase::kStopped;
    switch (end_cause_->event) {
      case AgentEvent::kRemoved:
        return AgentPhase::kRemoved;
      case AgentEvent::kConfigError:
        return AgentPhase::kConfigError;
      default:
        return AgentPhase::kDuplicate;
    }
  }
  if (stopping_) return AgentPhase::kLeaving;
  bool joining = false;
  for (const auto& session : sessions_) {
    if (session.phase() == AgentPhase::kJoined) return AgentPhase::kJoined;
    joining = joining || session.phase() == AgentPhase::kJoining;
  }
  return joining ? AgentPhase::kJoining : AgentPhase::kBackoff;
}

const std::string& AgentSessions::broker() const {
  for (const auto& session : sessions_) {
    if (session.up()) return session.broker();
  }
  return sessions_[0].broker();
}

}  // namespace roster
