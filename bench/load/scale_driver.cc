#include "scale_driver.h"

#include <cstdio>
#include <string_view>
#include <variant>

#include "ack_reader.h"
#include "roster/codec.h"

namespace roster::bench {

namespace {

int64_t micros(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

}  // namespace

nlohmann::json ScaleOutcome::to_json() const {
  nlohmann::json j;
  j["joins_acked"] = joins_acked;
  j["joins_refused"] = joins_refused;
  j["all_joined"] = all_joined;
  j["join_seconds"] = join_seconds;
  j["granted_lease_ms"] = granted_lease_ms;
  j["intended"] = intended;
  j["sent"] = sent;
  j["acked"] = acked;
  j["sent_while_joining"] = sent_while_joining;
  j["acks_not_alive"] = acks_not_alive;
  j["errors"] = errors;
  if (!error_codes.empty()) j["error_codes"] = error_codes;
  if (!first_error.empty()) j["first_error"] = first_error;
  j["replies_lost"] = replies_lost;
  j["unexpected"] = unexpected;
  j["unanswered"] = unanswered;
  j["blocked_sends"] = blocked_sends;
  j["steady_seconds"] = steady_seconds;
  j["drain_seconds"] = drain_seconds;
  j["ack_latency"] = ack_latency.summary();
  j["send_lag"] = send_lag.summary();
  return j;
}

ScaleDriver::ScaleDriver(zmq::context_t& ctx, const std::string& endpoint, ScalePlan plan)
    : plan_(std::move(plan)) {
  ids_.reserve(plan_.nodes);
  char digits[24];
  for (size_t i = 0; i < plan_.nodes; ++i) {
    std::snprintf(digits, sizeof digits, "%06zu", i);
    ids_.push_back(plan_.prefix + digits);
  }
  conns_.reserve(plan_.connections);
  for (size_t c = 0; c < plan_.connections; ++c) {
    Connection conn{zmq::socket_t(ctx, zmq::socket_type::dealer), {}, 0};
    conn.socket.set(zmq::sockopt::linger, 0);
    conn.socket.set(zmq::sockopt::sndhwm, 1'000'000);
    conn.socket.set(zmq::sockopt::rcvhwm, 1'000'000);
    conn.socket.connect(endpoint);
    conns_.push_back(std::move(conn));
  }
}

bool ScaleDriver::send(uint32_t node, bool join, bool in_window, Clock::time_point now) {
  Connection& conn = conns_[node % conns_.size()];
  // Per connection, so a node's seqs increase too.
  const uint64_t seq = conn.last_seq + 1;
  const std::string body =
      join
          ? encode(AgentRequest{JoinRequest{
                ids_[node], plan_.inc, seq, plan_.lease_ms, "10.0.0.1:9000", {{"bench", "scale"}}}})
          : encode(AgentRequest{HeartbeatRequest{ids_[node], plan_.inc, seq}});
  if (!conn.socket.send(zmq::buffer(body), zmq::send_flags::dontwait)) return false;
  conn.last_seq = seq;
  conn.pending.push_back(Pending{now, seq, node, join, in_window});
  if (join) ++conn.joins_in_flight;
  return true;
}

bool ScaleDriver::match(Connection& conn, uint64_t seq, Pending* request, ScaleOutcome& out) {
  const auto now = Clock::now();
  while (!conn.pending.empty() && conn.pending.front().seq < seq) {
    const Pending lost = conn.pending.front();
    conn.pending.pop_front();
    ++out.replies_lost;
    if (lost.join) {
      --conn.joins_in_flight;
      joined(lost.node, now);
    }
  }
  if (conn.pending.empty() || conn.pending.front().seq != seq) {
    ++out.unexpected;
    return false;
  }
  *request = conn.pending.front();
  conn.pending.pop_front();
  if (request->join) --conn.joins_in_flight;
  return true;
}

void ScaleDriver::joined(uint32_t node, Clock::time_point now) {
  ++joins_answered_;
  first_.push_back(Due{node, now + plan_.interval});
}

void ScaleDriver::on_ack(Connection& conn, uint64_t seq, uint64_t lease_ms, bool alive,
                         Clock::time_point now, ScaleOutcome& out) {
  Pending request{};
  if (!match(conn, seq, &request, out)) return;
  if (request.join) {
    ++out.joins_acked;
    out.granted_lease_ms = lease_ms;
    joined(request.node, now);
    return;
  }
  if (!alive) ++out.acks_not_alive;
  if (request.in_window) {
    ++out.acked;
    out.ack_latency.add_us(micros(now - request.sent));
  }
}

void ScaleDriver::on_other_reply(Connection& conn, std::string_view body, Clock::time_point now,
                                 ScaleOutcome& out) {
  auto decoded = decode_agent_reply(body);
  if (!decoded.ok()) {
    ++out.errors;
    if (out.first_error.empty()) out.first_error = "undecodable reply: " + decoded.error().message;
    return;
  }
  if (const auto* ack = std::get_if<Ack>(&decoded.value())) {
    on_ack(conn, ack->seq, ack->lease_ms, ack->state == NodeState::kAlive, now, out);
    return;
  }
  const auto& err = std::get<ErrorReply>(decoded.value());
  ++out.errors;
  ++out.error_codes[std::string(to_string(err.code))];
  Pending request{};
  const bool matched = match(conn, err.seq, &request, out);
  if (matched && request.join) ++out.joins_refused;
  if (out.first_error.empty()) {
    out.first_error = std::string(matched && request.join ? "join: " : "heartbeat: ") +
                      std::string(to_string(err.code)) + ": " + err.message;
  }
}

void ScaleDriver::read_replies(Connection& conn, ScaleOutcome& out) {
  zmq::message_t reply;
  while (conn.socket.recv(reply, zmq::recv_flags::dontwait)) {
    const auto now = Clock::now();
    const std::string_view body(reply.data<char>(), reply.size());
    FastAck fast;
    if (!read_fast_ack(body, &fast)) {
      on_other_reply(conn, body, now, out);
      continue;
    }
    if (++fast_acks_ % 1024 == 1) {
      // The fast reader must agree with the codec.
      auto decoded = decode_agent_reply(body);
      const Ack* ack = decoded.ok() ? std::get_if<Ack>(&decoded.value()) : nullptr;
      if (ack == nullptr || ack->seq != fast.seq || ack->lease_ms != fast.lease_ms ||
          (ack->state == NodeState::kAlive) != fast.alive) {
        ++out.errors;
        if (out.first_error.empty())
          out.first_error = "the fast ack reader disagrees with the codec";
      }
    }
    on_ack(conn, fast.seq, fast.lease_ms, fast.alive, now, out);
  }
}

std::deque<ScaleDriver::Due>* ScaleDriver::earliest_queue() {
  if (first_.empty()) return next_.empty() ? nullptr : &next_;
  if (next_.empty()) return &first_;
  return first_.front().at <= next_.front().at ? &first_ : &next_;
}

ScaleOutcome ScaleDriver::run(const std::function<void(Phase)>& on_phase) {
  ScaleOutcome out;
  std::vector<zmq::pollitem_t> items;
  for (auto& conn : conns_)
    items.push_back(zmq::pollitem_t{conn.socket.handle(), 0, ZMQ_POLLIN, 0});
  const auto start = Clock::now();
  Clock::time_point steady_start{};
  Clock::time_point steady_end = Clock::time_point::max();
  Clock::time_point drain_start{};
  Clock::time_point drain_deadline = Clock::time_point::max();
  size_t next_join = 0;
  bool sending = true;
  // Heartbeats sent per pass before replies are read again.
  constexpr size_t kBurst = 2048;
  try {
    while (true) {
      auto now = Clock::now();
      const bool all_joined = joins_answered_ + out.joins_refused == plan_.nodes;
      if (!steady_ && (all_joined || now - start > plan_.join_timeout)) {
        steady_ = true;
        out.all_joined = all_joined;
        out.join_seconds = seconds(now - start);
        on_phase(Phase::kJoined);
        now = Clock::now();
        steady_start = now;
        steady_end = now + plan_.steady_for;
      }
      if (sending && (now >= steady_end || out.joins_refused > 0)) {
        sending = false;
        out.steady_seconds = steady_ ? seconds(now - steady_start) : 0;
        // What was due in the window and not sent.
        for (const auto* queue : {&first_, &next_}) {
          for (const Due& due : *queue) {
            if (due.at >= steady_start && due.at < steady_end) ++out.intended;
          }
        }
        if (steady_) on_phase(Phase::kSteadyEnd);
        drain_start = Clock::now();
        drain_deadline = drain_start + std::chrono::seconds(20);
      }
      bool more = false;
      if (sending) {
        size_t burst = 0;
        while (burst < kBurst) {
          std::deque<Due>* queue = earliest_queue();
          if (queue == nullptr || queue->front().at > now) break;
          const Due due = queue->front();
          const bool in_window = steady_ && due.at >= steady_start;
          if (!send(due.node, false, in_window, now)) {
            ++out.blocked_sends;
            break;
          }
          queue->pop_front();
          next_.push_back(Due{due.node, due.at + plan_.interval});
          if (in_window) {
            ++out.intended;
            ++out.sent;
            out.send_lag.add_us(micros(now - due.at));
          } else {
            ++out.sent_while_joining;
          }
          ++burst;
        }
        more = burst == kBurst;
        while (!steady_ && next_join < plan_.nodes) {
          const Connection& conn = conns_[next_join % conns_.size()];
          if (conn.joins_in_flight >= plan_.join_window) break;
          if (!send(static_cast<uint32_t>(next_join), true, false, now)) {
            ++out.blocked_sends;
            break;
          }
          ++next_join;
        }
      }
      bool in_flight = false;
      for (const auto& conn : conns_) in_flight = in_flight || !conn.pending.empty();
      if (!sending && (!in_flight || now >= drain_deadline)) break;
      if (more) {
        // Behind schedule: no poll (a system call per round), just read
        // what is waiting.
        for (auto& conn : conns_) read_replies(conn, out);
        continue;
      }
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(1));
      for (size_t c = 0; c < conns_.size(); ++c) {
        if (items[c].revents & ZMQ_POLLIN) read_replies(conns_[c], out);
      }
    }
  } catch (const zmq::error_t& e) {
    ++out.errors;
    out.first_error = std::string("socket error: ") + e.what();
  }
  if (drain_start != Clock::time_point{}) out.drain_seconds = seconds(Clock::now() - drain_start);
  for (auto& conn : conns_) {
    out.unanswered += conn.pending.size();
    conn.pending.clear();
  }
  return out;
}

}  // namespace roster::bench
