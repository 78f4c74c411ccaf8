// The I/O shell of roster::Agent: one thread owns a DEALER per broker
// session (BrokerLink) and the protocol logic (AgentSessions); other
// threads hand it commands under a mutex and wake it through an inproc
// PAIR. Every link is polled without blocking: a broker that is down never
// delays the others.
#include "roster/agent.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <zmq.hpp>

#include "agent_sessions.h"
#include "broker_link.h"
#include "curve_client.h"
#include "roster/codec.h"

namespace roster {

namespace {
uint64_t wall_clock_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// Each Agent has its own context, so one fixed name suffices.
constexpr const char* kWakeEndpoint = "inproc://roster-agent-wake";

// The clock of agents given none; never destroyed before them.
const Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

// True for 1, 2, 4, 8...: logs the first occurrences, then ever more rarely.
bool worth_logging(uint64_t count) {
  return (count & (count - 1)) == 0;
}

// A refused CURVE key is logged at error at most this often (the agent
// retries it after every backoff).
constexpr TimeMs kAuthFailureLogEveryMs = 10'000;
}  // namespace

struct Agent::Impl {
  Impl(AgentConfig c, AgentCallback cb, const Clock& clk)
      : config(std::move(c)), callback(std::move(cb)), clock(clk) {}

  void run(AgentSessions sessions, zmq::socket_t& wake_rx);
  void apply(AgentSessions& sessions, std::deque<BrokerLink>& links);
  void take_commands(AgentSessions& sessions, TimeMs now);
  void receive_replies(AgentSessions& sessions, std::deque<BrokerLink>& links, size_t link,
                       TimeMs now);
  void publish_status(const AgentSessions& sessions);
  void check_handshake(AgentSessions& sessions, std::deque<BrokerLink>& links, size_t link,
                       TimeMs now);
  void log_change(const AgentStateChange& change);
  void wake();

  AgentConfig config;
  // The CURVE keys resolved from config.curve by start(); nullopt: plaintext.
  std::optional<CurveClientKeys> curve;
  AgentCallback callback;
  const Clock& clock;
  zmq::context_t context{1};

  std::mutex start_stop_mu;  // serializes start() and stop()
  std::thread thread;
  bool started = false;

  std::mutex mu;  // guards everything below
  std::optional<zmq::socket_t> wake_tx;
  std::optional<Labels> new_labels;
  bool stop_requested = false;
  bool stop_with_leave = false;
  AgentStatus status;
  uint64_t undecodable = 0;  // agent thread only
  // Rate limit of the kAuthFailed error lines (agent thread only).
  std::optional<TimeMs> auth_failure_logged_at;
  uint64_t auth_failures_unlogged = 0;
};

void Agent::Impl::wake() {
  // REQUIRES: mu held. A full queue already holds a wake-up.
  try {
    wake_tx->send(zmq::message_t(), zmq::send_flags::dontwait);
  } catch (const zmq::error_t&) {
  }
}

void Agent::Impl::publish_status(const AgentSessions& sessions) {
  std::lock_guard<std::mutex> lock(mu);
  status.phase = sessions.phase();
  status.incarnation = sessions.incarnation();
  status.broker = sessions.broker();
  status.links.resize(sessions.links());
  status.heartbeats_sent = 0;
  status.heartbeats_acked = 0;
  for (size_t i = 0; i < sessions.links(); ++i) {
    const AgentSession& session = sessions.session(i);
    BrokerLinkStatus& link = status.links[i];
    if (link.broker != session.broker()) link.broker = session.broker();
    link.phase = session.phase();
    link.up = session.up();
    link.joins_sent = session.counters().joins_sent;
    link.heartbeats_sent = session.counters().heartbeats_sent;
    link.heartbeats_acked = session.counters().heartbeats_acked;
    link.broker_losses = session.counters().broker_losses;
    status.heartbeats_sent += link.heartbeats_sent;
    status.heartbeats_acked += link.heartbeats_acked;
  }
}

void Agent::Impl::apply(AgentSessions& sessions, std::deque<BrokerLink>& links) {
  for (auto& [index, action] : sessions.take_actions()) {
    BrokerLink& link = links[index];
    if (auto* open = std::get_if<OpenSocket>(&action)) {
      if (auto error = link.open(sessions.endpoint(index, open->endpoint))) {
        spdlog::error("agent: {}", *error);
        link.close();
      }
    } else if (std::holds_alternative<CloseSocket>(action)) {
      link.close();
    } else if (auto* send = std::get_if<SendRequest>(&action)) {
      if (link.is_open()) {
        link.send(encode(send->request));
      }
    } else {
      const auto& change = std::get<AgentStateChange>(action);
      log_change(change);
      publish_status(sessions);
      if (callback) callback(change);
    }
  }
}

void Agent::Impl::log_change(const AgentStateChange& change) {
  // kRefused and kForbidden come at most once per backoff wait: no further
  // limit. kAuthFailed repeats with every reconnection: at most one line
  // per kAuthFailureLogEveryMs, with the count of those not logged.
  auto level = spdlog::level::info;
  std::string suppressed;
  switch (change.event) {
    case AgentEvent::kRemoved:
    case AgentEvent::kConfigError:
    case AgentEvent::kForbidden:
    case AgentEvent::kDuplicate:
      level = spdlog::level::err;
      break;
    case AgentEvent::kRefused:
      level = spdlog::level::warn;
      break;
    case AgentEvent::kAuthFailed: {
      const TimeMs now = clock.now_ms();
      if (auth_failure_logged_at && now - *auth_failure_logged_at < kAuthFailureLogEveryMs) {
        ++auth_failures_unlogged;
        level = spdlog::level::debug;
        break;
      }
      level = spdlog::level::err;
      if (auth_failures_unlogged > 0) {
        suppressed = " (" + std::to_string(auth_failures_unlogged) + " more since the last line)";
      }
      auth_failure_logged_at = now;
      auth_failures_unlogged = 0;
      break;
    }
    default:
      break;
  }
  spdlog::log(level, "agent {} inc {}: {} ({}): {}{}", config.node_id, change.incarnation,
              to_string(change.event), change.broker, change.detail, suppressed);
}

void Agent::Impl::check_handshake(AgentSessions& sessions, std::deque<BrokerLink>& links,
                                  size_t link, TimeMs now) {
  if (auto failure = links[link].take_handshake_failure()) {
    sessions.on_handshake_failure(link, failure->describe(), now);
    apply(sessions, links);
  }
}

void Agent::Impl::take_commands(AgentSessions& session, TimeMs now) {
  std::optional<Labels> labels;
  bool stop = false;
  bool leave = false;
  {
    std::lock_guard<std::mutex> lock(mu);
    labels.swap(new_labels);
    stop = stop_requested;
    leave = stop_with_leave;
  }
  if (labels) session.update_labels(*labels, now);
  if (stop && leave) session.leave(now);
  if (stop && !leave) session.abandon(now);
}

void Agent::Impl::receive_replies(AgentSessions& sessions, std::deque<BrokerLink>& links,
                                  size_t link, TimeMs now) {
  while (auto body = links[link].receive()) {
    auto reply = decode_agent_reply(*body);
    if (!reply.ok()) {
      if (worth_logging(++undecodable)) {
        spdlog::warn("agent: undecodable reply from the broker {} ({} so far): {}",
                     sessions.session(link).broker(), undecodable, reply.error().message);
      }
      continue;
    }
    const AgentSession& session = sessions.session(link);
    const uint64_t stale_before = session.stale_replies();
    sessions.on_reply(link, reply.value(), now);
    if (session.stale_replies() != stale_before) {
      spdlog::debug("agent: ignored a stale reply ({} so far)", session.stale_replies());
    }
    // Open/close actions must run before the next receive on this link.
    apply(sessions, links);
  }
}

void Agent::Impl::run(AgentSessions sessions, zmq::socket_t& wake_rx) {
  // A deque: a BrokerLink (socket and monitor) cannot move.
  std::deque<BrokerLink> links;
  for (size_t i = 0; i < sessions.links(); ++i) links.emplace_back(context, curve);
  // Two items per open link after the wake socket: its DEALER and its
  // handshake monitor; `polled` says which link each pair is.
  std::vector<zmq_pollitem_t> items;
  std::vector<size_t> polled;
  // stop() may have come before this thread ran: look before starting.
  take_commands(sessions, clock.now_ms());
  sessions.start(clock.now_ms());
  while (true) {
    apply(sessions, links);
    publish_status(sessions);
    if (sessions.finished()) break;
    TimeMs now = clock.now_ms();
    std::chrono::milliseconds timeout{-1};
    if (auto deadline = sessions.next_deadline()) {
      timeout = std::chrono::milliseconds(std::max<TimeMs>(0, *deadline - now));
    }
    items.assign(1, zmq_pollitem_t{wake_rx.handle(), 0, ZMQ_POLLIN, 0});
    polled.clear();
    for (size_t i = 0; i < links.size(); ++i) {
      if (!links[i].is_open()) continue;
      items.emplace_back();
      links[i].poll_item(items.back());
      items.emplace_back();
      links[i].monitor_poll_item(items.back());
      polled.push_back(i);
    }
    try {
      zmq::poll(items.data(), items.size(), timeout);
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) spdlog::error("agent: poll failed: {}", e.what());
    }
    now = clock.now_ms();
    if (items[0].revents & ZMQ_POLLIN) {
      zmq::message_t drained;
      while (wake_rx.recv(drained, zmq::recv_flags::dontwait)) {
      }
      take_commands(sessions, now);
      apply(sessions, links);
    }
    for (size_t k = 0; k < polled.size(); ++k) {
      const size_t i = polled[k];
      const zmq_pollitem_t& socket_item = items[1 + 2 * k];
      const zmq_pollitem_t& monitor_item = items[2 + 2 * k];
      // A command or an earlier link's reply may have closed it (reading a
      // reopened one without waiting is harmless).
      if (!links[i].is_open()) continue;
      if (socket_item.revents & ZMQ_POLLOUT) links[i].flush();
      if (socket_item.revents & ZMQ_POLLIN) receive_replies(sessions, links, i, now);
      if (links[i].is_open() && (monitor_item.revents & ZMQ_POLLIN)) {
        check_handshake(sessions, links, i, now);
      }
    }
    sessions.tick(now);
  }
  for (auto& link : links) link.close();
}

Agent::Agent(AgentConfig config, AgentCallback on_state)
    : Agent(std::move(config), std::move(on_state), system_clock()) {}

Agent::Agent(AgentConfig config, AgentCallback on_state, const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(config), std::move(on_state), clock)) {}

Agent::~Agent() {
  stop(true);
}

std::optional<std::string> Agent::start() {
  std::lock_guard<std::mutex> guard(impl_->start_stop_mu);
  if (impl_->started) return std::string("the agent was already started");
  if (auto error = validate_agent_config(impl_->config)) return error;
  std::string curve_error;
  impl_->curve = resolve_curve_client(impl_->config.curve, &curve_error);
  if (!curve_error.empty()) return curve_error;
  const uint64_t inc = impl_->config.incarnation ? impl_->config.incarnation : wall_clock_ns();
  AgentSessions sessions(impl_->config, inc, std::random_device{}());
  // The agent's thread owns wake_rx; the bind precedes the connect.
  zmq::socket_t wake_rx;
  try {
    wake_rx = zmq::socket_t(impl_->context, zmq::socket_type::pair);
    wake_rx.set(zmq::sockopt::linger, 0);
    wake_rx.bind(kWakeEndpoint);
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->wake_tx.emplace(impl_->context, zmq::socket_type::pair);
    impl_->wake_tx->set(zmq::sockopt::linger, 0);
    impl_->wake_tx->connect(kWakeEndpoint);
    impl_->status = AgentStatus{};
    impl_->status.phase = AgentPhase::kJoining;
    impl_->status.incarnation = inc;
    impl_->status.broker = impl_->config.brokers.front();
  } catch (const zmq::error_t& e) {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->wake_tx.reset();
    return std::string("cannot set up the agent's command socket: ") + e.what();
  }
  impl_->started = true;
  impl_->thread =
      std::thread([this, sessions = std::move(sessions), wake_rx = std::move(wake_rx)]() mutable {
        impl_->run(std::move(sessions), wake_rx);
      });
  return std::nullopt;
}

void Agent::stop(bool leave) {
  std::lock_guard<std::mutex> guard(impl_->start_stop_mu);
  if (!impl_->started || !impl_->thread.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stop_requested = true;
    impl_->stop_with_leave = leave;
    impl_->wake();
  }
  impl_->thread.join();
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->wake_tx.reset();
}

std::optional<std::string> Agent::update_labels(Labels labels) {
  if (auto error = validate_labels(labels)) return error;
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->new_labels = std::move(labels);
  if (impl_->wake_tx) impl_->wake();
  return std::nullopt;
}

AgentStatus Agent::status() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->status;
}

void Agent::wake() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->wake_tx) impl_->wake();
}

}  // namespace roster
