// The I/O shell of roster::Agent: one thread owns the DEALER (BrokerLink)
// and the protocol logic (AgentSession); other threads hand it commands
// under a mutex and wake it through an inproc PAIR.
#include "roster/agent.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>
#include <random>
#include <thread>
#include <zmq.hpp>

#include "agent_session.h"
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

  void run(AgentSession session, zmq::socket_t& wake_rx);
  void apply(AgentSession& session, BrokerLink& link);
  void take_commands(AgentSession& session, TimeMs now);
  void receive_replies(AgentSession& session, BrokerLink& link, TimeMs now);
  void publish_status(const AgentSession& session);
  void check_handshake(AgentSession& session, BrokerLink& link, TimeMs now);
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

void Agent::Impl::publish_status(const AgentSession& session) {
  std::lock_guard<std::mutex> lock(mu);
  status.phase = session.phase();
  status.incarnation = session.incarnation();
  status.broker = config.brokers[session.endpoint()];
}

void Agent::Impl::apply(AgentSession& session, BrokerLink& link) {
  for (auto& action : session.take_actions()) {
    if (auto* open = std::get_if<OpenSocket>(&action)) {
      if (auto error = link.open(config.brokers[open->endpoint])) {
        spdlog::error("agent: {}", *error);
        link.close();
      }
    } else if (std::holds_alternative<CloseSocket>(action)) {
      link.close();
    } else if (auto* send = std::get_if<SendRequest>(&action)) {
      if (link.is_open()) link.send(encode(send->request));
    } else {
      const auto& change = std::get<AgentStateChange>(action);
      log_change(change);
      publish_status(session);
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

void Agent::Impl::check_handshake(AgentSession& session, BrokerLink& link, TimeMs now) {
  if (auto failure = link.take_handshake_failure()) {
    session.on_handshake_failure(failure->describe(), now);
    apply(session, link);
  }
}

void Agent::Impl::take_commands(AgentSession& session, TimeMs now) {
  std::optional<Labels> labels;
  bool stop = false;
  bool leave = false;
  {
    std::lock_guard<std::mutex> lock(mu);
    labels.swap(new_labels);
    stop = stop_requested;
    leave = stop_with_leave;
  }
  if (labels) session.update_labels(std::move(*labels), now);
  if (stop && leave) session.leave(now);
  if (stop && !leave) session.abandon();
}

void Agent::Impl::receive_replies(AgentSession& session, BrokerLink& link, TimeMs now) {
  while (auto body = link.receive()) {
    auto reply = decode_agent_reply(*body);
    if (!reply.ok()) {
      if (worth_logging(++undecodable)) {
        spdlog::warn("agent: undecodable reply from the broker ({} so far): {}", undecodable,
                     reply.error().message);
      }
      continue;
    }
    const uint64_t stale_before = session.stale_replies();
    session.on_reply(reply.value(), now);
    if (session.stale_replies() != stale_before) {
      spdlog::debug("agent: ignored a stale reply ({} so far)", session.stale_replies());
    }
    // Open/close actions must run before the next receive on this link.
    apply(session, link);
  }
}

void Agent::Impl::run(AgentSession session, zmq::socket_t& wake_rx) {
  BrokerLink link(context, curve);
  // stop() may have come before this thread ran: look before starting.
  take_commands(session, clock.now_ms());
  session.start(clock.now_ms());
  while (true) {
    apply(session, link);
    publish_status(session);
    if (session.finished()) break;
    TimeMs now = clock.now_ms();
    std::chrono::milliseconds timeout{-1};
    if (auto deadline = session.next_deadline()) {
      timeout = std::chrono::milliseconds(std::max<TimeMs>(0, *deadline - now));
    }
    zmq_pollitem_t items[3] = {
        {wake_rx.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, 0, 0, 0}, {nullptr, 0, 0, 0}};
    size_t count = 1;
    if (link.is_open()) {
      link.poll_item(items[1]);
      link.monitor_poll_item(items[2]);
      count = 3;
    }
    try {
      zmq::poll(items, count, timeout);
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) spdlog::error("agent: poll failed: {}", e.what());
    }
    now = clock.now_ms();
    if (items[0].revents & ZMQ_POLLIN) {
      zmq::message_t drained;
      while (wake_rx.recv(drained, zmq::recv_flags::dontwait)) {
      }
      take_commands(session, now);
      apply(session, link);
    }
    if (count == 3 && link.is_open()) {
      if (items[1].revents & ZMQ_POLLOUT) link.flush();
      if (items[1].revents & ZMQ_POLLIN) receive_replies(session, link, now);
    }
    if (count == 3 && link.is_open() && (items[2].revents & ZMQ_POLLIN)) {
      check_handshake(session, link, now);
    }
    session.tick(now);
  }
  link.close();
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
  AgentSession session(impl_->config, inc, std::random_device{}());
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
    impl_->status = {AgentPhase::kJoining, inc, impl_->config.brokers.front()};
  } catch (const zmq::error_t& e) {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->wake_tx.reset();
    return std::string("cannot set up the agent's command socket: ") + e.what();
  }
  impl_->started = true;
  impl_->thread =
      std::thread([this, session = std::move(session), wake_rx = std::move(wake_rx)]() mutable {
        impl_->run(std::move(session), wake_rx);
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
