#include "event_loop.h"

#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <utility>

#include "io_threads.h"
#include "reload.h"
#include "roster/codec.h"
#include "shutdown_signal.h"

namespace roster::broker {

namespace {

// Longest poll: ticks come at least this often, far more often than any
// sane stall threshold.
constexpr TimeMs kMaxPollMs = 50;
// Messages read per socket per round, so that a flood on one socket cannot
// starve ticks, commits or the other socket.
constexpr int kReadsPerRound = 512;
// Agent requests read ahead of their handling (EventLoop::read_agents()).
// Enough for the records' loads to overlap; few enough that the group's
// bodies do not pin many of libzmq's receive buffers.
constexpr size_t kAgentReadAhead = 16;
// Bodies are at most kMaxBodyBytes; the slack lets a slightly larger body
// through to get a clear bad_request instead of a dropped connection.
constexpr int64_t kMaxMessageSize = static_cast<int64_t>(kMaxBodyBytes) + 1024;
// Queued messages per peer before the ROUTER drops replies (and before
// backpressure reaches senders).
constexpr int kRouterHwm = 10'000;
// Pending connections the agents socket lets the kernel queue (ZMQ_BACKLOG;
// the kernel caps it at net.core.somaxconn). libzmq's default, 100,
// overflows when thousands of agents reconnect at once after a restart.
constexpr int kAgentsBacklog = 4096;
// A commit that forgets at least this many nodes gives freed heap memory
// back to the system (malloc_trim): without it, RSS creeps up across
// rounds of mass joins and departures (allocator fragmentation).
constexpr size_t kTrimAfterForgotten = 1'000;
// Warnings let through per kind per window.
constexpr uint64_t kWarningsPerWindow = 5;
constexpr TimeMs kWarningWindowMs = 1'000;
// Deltas with more changes than this are logged as one summary line.
constexpr size_t kMaxChangeLines = 10;

void configure_router(zmq::socket_t& socket) {
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::maxmsgsize, kMaxMessageSize);
  socket.set(zmq::sockopt::sndhwm, kRouterHwm);
  socket.set(zmq::sockopt::rcvhwm, kRouterHwm);
  socket.set(zmq::sockopt::router_mandatory, 0);
}

std::optional<StartupError> bind_socket(zmq::socket_t& socket, std::string_view flag,
                                        const std::string& endpoint) {
  try {
    socket.bind(endpoint);
  } catch (const zmq::error_t& e) {
    return bind_failure(flag, endpoint, e);
  }
  return std::nullopt;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string frame_layout_message(size_t frames) {
  return "expected frames [body] or [empty, body], got " + std::to_string(frames - 1) + " frames";
}

}  // namespace

EventLoop::EventLoop(zmq::context_t& context, const Clock& clock, const BrokerOptions& options,
                     uint64_t epoch, TimeMs start)
    : context_(context),
      clock_(clock),
      options_(options),
      start_(start),
      membership_(options.membership, epoch, start),
      acks_(agents_, counters_.ack_latency, kReadsPerRound),
      agent_reads_(kAgentReadAhead),
      warnings_(kWarningsPerWindow, kWarningWindowMs),
      failures_(context, counters_, warnings_),
      access_(context, counters_, warnings_),
      last_commit_(start) {}

std::optional<StartupError> EventLoop::bind() {
  // The ZAP handler first: a CURVE socket bound without one admits any key.
  if (auto error = access_.start(options_)) return error;
  agents_ = zmq::socket_t(context_, zmq::socket_type::router);
  admin_ = zmq::socket_t(context_, zmq::socket_type::router);
  configure_router(agents_);
  configure_router(admin_);
  access_.secure(agents_, Endpoint::kAgents);
  access_.secure(admin_, Endpoint::kAdmin);
  agents_.set(zmq::sockopt::backlog, kAgentsBacklog);
  agents_.set(zmq::sockopt::affinity, kAgentsIoAffinity);
  configure_bulk_socket(admin_, options_.snapshot_send_buffer_bytes);
  if (auto error = failures_.watch(agents_, "--agents")) spdlog::warn("{}", *error);
  if (auto error = failures_.watch(admin_, "--admin")) spdlog::warn("{}", *error);
  if (auto error = bind_socket(agents_, "--agents", options_.agents_endpoint)) return error;
  return bind_socket(admin_, "--admin", options_.admin_endpoint);
}

std::string EventLoop::publish_monitor_endpoint() {
  return failures_.add("--publish");
}

std::string EventLoop::agents_endpoint() const {
  return agents_.get(zmq::sockopt::last_endpoint);
}
std::string EventLoop::admin_endpoint() const {
  return admin_.get(zmq::sockopt::last_endpoint);
}

Snapshot EventLoop::initial_snapshot() const {
  return membership_.snapshot(start_);
}

void EventLoop::attach(Publisher& publisher) {
  publisher_ = &publisher;
  admin_handler_ = std::make_unique<AdminHandler>(membership_, publisher, counters_, warnings_,
                                                  start_, [this](TimeMs now) { commit(now); });
}

int EventLoop::run(int signal_fd) {
  int stop_signal = 0;
  while (stop_signal == 0) stop_signal = round(signal_fd, kMaxPollMs);
  commit(clock_.now_ms());
  return stop_signal;
}

void EventLoop::run_round(TimeMs max_wait_ms) {
  round(-1, max_wait_ms);
}

int EventLoop::round(int signal_fd, TimeMs max_wait_ms) {
  std::array<zmq::pollitem_t, 5> items = {{
      {agents_.handle(), 0, ZMQ_POLLIN, 0},
      {admin_.handle(), 0, ZMQ_POLLIN, 0},
      {publisher_->pipe().handle(), 0, ZMQ_POLLIN, 0},
  }};
  size_t polled = 3;
  // ZAP requests wake the loop: a handshake waits for its answer.
  if (access_.enabled()) items[polled++] = {access_.zap().handle(), 0, ZMQ_POLLIN, 0};
  const size_t signal_item = polled;
  if (signal_fd >= 0) items[polled++] = {nullptr, signal_fd, ZMQ_POLLIN, 0};
  TimeMs now = clock_.now_ms();
  TimeMs wake = now + max_wait_ms;
  if (auto deadline = membership_.next_deadline()) wake = std::min(wake, *deadline);
  if (membership_.has_pending()) {
    wake = std::min(wake, last_commit_ + static_cast<TimeMs>(options_.publish_interval_ms));
  }
  try {
    zmq::poll(items.data(), polled, std::chrono::milliseconds(std::max<TimeMs>(0, wake - now)));
  } catch (const zmq::error_t& e) {
    if (e.num() != EINTR) throw;
    return 0;
  }
  if (signal_fd >= 0 && (items[signal_item].revents & ZMQ_POLLIN)) {
    int signal = take_signal(signal_fd);
    if (is_stop_signal(signal)) return signal;
    if (signal == SIGHUP) {
      reload_settings(options_);
      access_.reload();
    }
    if (signal == SIGUSR1 || signal == SIGUSR2) log_status(signal, clock_.now_ms());
  }
  // Clocks are read once for the round's requests, not per request: a
  // round is bounded (kReadsPerRound) and short. A request counts as
  // received when the round that reads it starts.
  const auto work_start = std::chrono::steady_clock::now();
  const TimeMs read_at = clock_.now_ms();
  if (access_.enabled()) access_.serve_zap(read_at);
  if (read_agents(kReadsPerRound, read_at, work_start) == kReadsPerRound) ++counters_.busy_rounds;
  acks_.flush();
  // Only when the poll saw a request: each read that finds none costs
  // libzmq a system call, on the loop thread.
  if (items[1].revents & ZMQ_POLLIN) {
    for (int reads = 0; reads < kReadsPerRound; ++reads) {
      auto request = receive_routed(admin_);
      if (!request) break;
      handle_admin(*request, clock_.now_ms());
    }
  }
  relay_snapshots(items[2].revents & ZMQ_POLLIN);
  now = clock_.now_ms();
  membership_.tick(now);
  maybe_commit(now);
  send_deferred();
  check_warm_up(now);
  // Not in the poll set: at the descriptor limit libzmq reports failures
  // as fast as it retries, and waking for each would spin this thread
  // too. A round comes at least every kMaxPollMs.
  failures_.drain(now);
  warnings_.flush(now);
  counters_.round_time.observe(seconds_since(work_start));
  if (round_hook_) round_hook_(now);
  return 0;
}

int EventLoop::read_agents(int limit, TimeMs now, std::chrono::steady_clock::time_point received) {
  int total = 0;
  while (total < limit) {
    const size_t wanted = std::min(kAgentReadAhead, static_cast<size_t>(limit - total));
    size_t count = 0;
    for (; count < wanted; ++count) {
      AgentRead& read = agent_reads_[count];
      if (!receive_routed(agents_, &read.request)) break;
      read.is_heartbeat = read.request.well_formed &&
                          decode_heartbeat_ref(read.request.body.to_string_view(), &read.beat);
      if (read.is_heartbeat) read.prefetch = membership_.prefetch_index(read.beat.node);
    }
    // The index entries have had the group's reads to arrive.
    for (size_t i = 0; i < count; ++i) {
      if (agent_reads_[i].is_heartbeat) membership_.prefetch_record(agent_reads_[i].prefetch);
    }
    for (size_t i = 0; i < count; ++i) {
      handle_agent(agent_reads_[i], now, received);
      // Handled: release the body at once (it may pin a receive buffer of
      // libzmq's I/O thread).
      agent_reads_[i].request.body.rebuild();
    }
    total += static_cast<int>(count);
    if (count < wanted) break;  // none waiting
  }
  return total;
}

void EventLoop::handle_agent(AgentRead& read, TimeMs now,
                             std::chrono::steady_clock::time_point received) {
  RoutedRequest& request = read.request;
  ++counters_.agent_requests;
  if (read.is_heartbeat) {
    handle_heartbeat(request, read.beat, now, received);
    return;
  }
  AgentReply reply;
  size_t type = kAgentRequestTypes - 1;  // invalid
  if (!request.well_formed) {
    ++counters_.bad_frames;
    reply = ErrorReply{0, ErrorCode::kBadRequest, frame_layout_message(request.frames)};
  } else {
    Decoded<AgentRequest> decoded = decode_agent_request(request.body.to_string_view());
    if (decoded.ok()) {
      const AgentRequest& agent_request = decoded.value();
      const std::string& node =
          std::visit([](const auto& r) -> const std::string& { return r.node; }, agent_request);
      if (auto refusal = access_.check_agent(request.body, node)) {
        const uint64_t seq = std::visit([](const auto& r) { return r.seq; }, agent_request);
        reply = ErrorReply{seq, ErrorCode::kForbidden, std::move(*refusal)};
      } else {
        reply = membership_.handle(agent_request, now);
        note_claim(agent_request, reply, request, now);
      }
      type = agent_request.index();
    } else {
      const DecodeError& e = decoded.error();
      reply = ErrorReply{e.seq, e.code, e.message};
    }
  }
  defer_reply(request, reply, type, received, now);
}

void EventLoop::handle_heartbeat(RoutedRequest& request, const HeartbeatRef& beat, TimeMs now,
                                 std::chrono::steady_clock::time_point received) {
  constexpr size_t kHeartbeat = 1;  // index in AgentRequest
  AgentReply reply;
  if (auto refusal = access_.check_agent(request.body, beat.node)) {
    reply = ErrorReply{beat.seq, ErrorCode::kForbidden, std::move(*refusal)};
  } else {
    reply = membership_.handle(beat, now);
    note_claim(beat.node, beat.inc, reply, request, now);
    // After this round's reads, unless a reply of this round waits
    // (replies keep their order) or a change waits for its commit (this
    // ack could reveal it).
    const Ack* ack = std::get_if<Ack>(&reply);
    if (ack != nullptr && agent_replies_.empty() && !membership_.has_pending()) {
      ++counters_.agent_by_type[kHeartbeat];
      acks_.add(request, *ack, received);
      return;
    }
  }
  defer_reply(request, reply, kHeartbeat, received, now);
}

void EventLoop::defer_reply(RoutedRequest& request, const AgentReply& reply, size_t type,
                            std::chrono::steady_clock::time_point received, TimeMs now) {
  ++counters_.agent_by_type[type];
  if (const auto* refused = std::get_if<ErrorReply>(&reply)) {
    count_error(refused->code, "agent", request, refused->message, now);
  } else if (type == 0) {
    ++counters_.joins;
  } else if (type == 2) {
    ++counters_.leaves;
  }
  agent_replies_.push_back(
      {std::move(request.routing_id), request.delimiter, encode(reply), received});
}

// Two live agents with one node id: remember the refused claimant and name
// both peers once the holder is heard (DuplicateClaims), rate limited.
void EventLoop::note_claim(const AgentRequest& request, const AgentReply& reply,
                           const RoutedRequest& routed, TimeMs now) {
  const auto& [node, inc] = std::visit(
      [](const auto& r) { return std::pair<const std::string&, uint64_t>(r.node, r.inc); },
      request);
  note_claim(node, inc, reply, routed, now);
}

void EventLoop::note_claim(std::string_view node, uint64_t inc, const AgentReply& reply,
                           const RoutedRequest& routed, TimeMs now) {
  const auto* refused = std::get_if<ErrorReply>(&reply);
  if (refused == nullptr && claims_.empty()) return;
  if (refused != nullptr) {
    if (refused->code != ErrorCode::kStaleIncarnation || !refused->inc) return;
    claims_.refused(node, {peer_of(routed), printable_id(routed.routing_id), inc}, *refused->inc,
                    now);
    return;
  }
  if (!claims_.contested(node)) return;
  auto line =
      claims_.accepted(node, inc, {peer_of(routed), printable_id(routed.routing_id), inc}, now);
  if (line && warnings_.allow("duplicate_node_id", now)) spdlog::warn("{}", *line);
}

void EventLoop::handle_admin(RoutedRequest& request, TimeMs now) {
  ++counters_.admin_requests;
  AdminAnswer answer;
  if (!request.well_formed) {
    ++counters_.bad_frames;
    answer = AdminHandler::error(ErrorCode::kBadRequest, frame_layout_message(request.frames));
  } else if (auto refusal = access_.check_admin(request.body)) {
    answer = AdminHandler::error(ErrorCode::kForbidden, std::move(*refusal));
  } else {
    answer = admin_handler_->handle(request.body.to_string_view(), now);
  }
  ++counters_.admin_by_type[std::min(answer.request_type, kAdminRequestTypes - 1)];
  if (answer.request_type == 2 && !answer.error) ++counters_.removals;
  if (answer.snapshot) {
    admin_snapshot(request, answer.part_bytes, now);
    return;
  }
  if (answer.error) count_error(*answer.error, "admin", request, answer.error_message, now);
  if (answer.body) reply_routed(admin_, request, *answer.body);
}

void EventLoop::admin_snapshot(RoutedRequest& request, std::optional<uint64_t> part_bytes,
                               TimeMs now) {
  switch (snapshot_gate_.request(request.routing_id, request.delimiter, part_bytes)) {
    case SnapshotGate::Verdict::kForward:
      snapshot_requests_.push_back({request.routing_id, request.delimiter, {}, {}, part_bytes});
      return;
    case SnapshotGate::Verdict::kWait:
      return;  // forwarded by relay_snapshots() once the one in flight is delivered
    case SnapshotGate::Verdict::kRefuse: {
      AdminAnswer refusal = AdminHandler::error(
          ErrorCode::kOverCapacity,
          "a snapshot for this client is still being sent and another waits: read them first");
      count_error(*refusal.error, "admin", request, refusal.error_message, now);
      reply_routed(admin_, request, *refusal.body);
      return;
    }
  }
}

void EventLoop::relay_snapshots(bool relays_waiting) {
  while (auto relay = relays_waiting ? publisher_->receive_relay() : std::nullopt) {
    if (relay->routing_id.empty() || relay->bodies.empty()) continue;
    // The bodies (a whole snapshot, or its parts) move into the socket: no
    // copy here. The gate learns when the socket is done with the last.
    zmq::message_t last = std::move(relay->bodies.back());
    relay->bodies.pop_back();
    for (zmq::message_t& body : relay->bodies) {
      reply_routed(admin_, relay->routing_id, relay->delimiter, std::move(body));
    }
    SnapshotGate::DeliveryFlag delivered = snapshot_gate_.sending(relay->routing_id);
    reply_routed(admin_, relay->routing_id, relay->delimiter,
                 track_delivery(std::move(last), std::move(delivered)));
  }
  for (SnapshotGate::Released& waiting : snapshot_gate_.release()) {
    snapshot_requests_.push_back(
        {std::move(waiting.routing_id), waiting.delimiter, {}, {}, waiting.part_bytes});
  }
}

void EventLoop::send_deferred() {
  // One clock read for the batch: the sends themselves take microseconds.
  const auto sent = std::chrono::steady_clock::now();
  for (const Deferred& reply : agent_replies_) {
    reply_routed(agents_, reply.routing_id, reply.delimiter, reply.body);
    counters_.ack_latency.observe(std::chrono::duration<double>(sent - reply.received).count());
  }
  agent_replies_.clear();
  for (const Deferred& request : snapshot_requests_) {
    publisher_->request_snapshot(request.routing_id, request.delimiter, request.part_bytes);
  }
  snapshot_requests_.clear();
}

void EventLoop::maybe_commit(TimeMs now) {
  if (!membership_.has_pending()) return;
  if (now - last_commit_ < static_cast<TimeMs>(options_.publish_interval_ms)) return;
  commit(now);
}

void EventLoop::commit(TimeMs now) {
  std::optional<Delta> delta = membership_.commit(now);
  if (!delta) return;
  last_commit_ = now;
  ++counters_.deltas;
  log_changes(*delta);
  size_t forgotten = 0;
  for (const NodeRecord& r : delta->changes) {
    if (r.state == NodeState::kRemoved) ++forgotten;
    if (r.state == NodeState::kSuspect) ++counters_.expiries;
  }
  counters_.forgotten += forgotten;
  publisher_->publish(std::move(*delta));
  if (forgotten >= kTrimAfterForgotten) {
    malloc_trim(0);
    spdlog::debug("{} nodes forgotten: heap trimmed", forgotten);
  }
}

void EventLoop::check_warm_up(TimeMs now) {
  if (warm_ || membership_.has_pending()) return;
  // The core decides when warm-up is over.
  if (!membership_.complete(now)) return;
  warm_ = true;
  publisher_->mark_complete();
  spdlog::info("warm-up over: snapshots are complete from version {}", membership_.version());
}

void EventLoop::on_round(std::function<void(TimeMs now)> hook) {
  round_hook_ = std::move(hook);
}

LoopReport EventLoop::report() const {
  return LoopReport{counters_, membership_.counters(), membership_.epoch(), membership_.version(),
                    warm_};
}

std::string EventLoop::status_summary(TimeMs now) const {
  MembershipCounters core = membership_.counters();
  std::string by_state;
  for (size_t i = 0; i < kNodeStateCount; ++i) {
    auto state = static_cast<NodeState>(i);
    if (state == NodeState::kRemoved) continue;  // never held
    if (!by_state.empty()) by_state += ", ";
    by_state += std::to_string(core.by_state[i]) + " " + std::string(to_string(state));
  }
  return "epoch=" + std::to_string(membership_.epoch()) +
         " version=" + std::to_string(membership_.version()) +
         " nodes=" + std::to_string(core.nodes) + " (" + by_state +
         ") tombstones=" + std::to_string(core.tombstones) + " " +
         (membership_.complete(now) ? "complete" : "warming-up");
}

void EventLoop::log_status(int signal, TimeMs now) {
  uint64_t errors = 0;
  for (uint64_t count : counters_.errors) errors += count;
  spdlog::info(
      "{}: status: {} uptime={}s requests agent={} admin={} errors={} accept_failures={} "
      "log_level={}",
      signal_name(signal), status_summary(now), (now - start_) / 1000, counters_.agent_requests,
      counters_.admin_requests, errors, counters_.accept_failures, options_.log_level);
}

void EventLoop::log_changes(const Delta& delta) {
  if (delta.changes.size() <= kMaxChangeLines) {
    for (const NodeRecord& r : delta.changes) {
      spdlog::info("node {} inc {} {} (version {})", r.node, r.inc, to_string(r.state),
                   delta.version);
    }
    return;
  }
  uint64_t by_state[kNodeStateCount] = {};
  for (const NodeRecord& r : delta.changes) ++by_state[static_cast<size_t>(r.state)];
  std::string summary;
  for (size_t i = 0; i < kNodeStateCount; ++i) {
    if (by_state[i] == 0) continue;
    if (!summary.empty()) summary += ", ";
    summary +=
        std::to_string(by_state[i]) + " " + std::string(to_string(static_cast<NodeState>(i)));
  }
  spdlog::info("{} nodes changed (version {}): {}", delta.changes.size(), delta.version, summary);
  for (const NodeRecord& r : delta.changes) {
    spdlog::debug("node {} inc {} {} (version {})", r.node, r.inc, to_string(r.state),
                  delta.version);
  }
}

void EventLoop::count_error(ErrorCode code, std::string_view channel, const RoutedRequest& request,
                            std::string_view message, TimeMs now) {
  ++counters_.errors[static_cast<size_t>(code)];
  std::string_view kind = to_string(code);
  if (!warnings_.allow(kind, now)) return;
  // Malformed input and capacity limits are for the operator to look at;
  // lifecycle refusals are routine.
  bool notable = code == ErrorCode::kBadRequest || code == ErrorCode::kUnsupportedVersion ||
                 code == ErrorCode::kOverCapacity || code == ErrorCode::kForbidden;
  auto level = notable ? spdlog::level::warn : spdlog::level::info;
  const std::string peer = peer_of(request);
  spdlog::log(level, "{} request refused ({}) from {} peer {}: {}", channel, kind,
              peer.empty() ? "?" : peer, printable_id(request.routing_id), message);
}

}  // namespace roster::broker
