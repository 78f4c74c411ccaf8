#include "load_generator.h"

#include <algorithm>
#include <cstdio>
#include <string_view>
#include <variant>

#include "roster/codec.h"

namespace roster::bench {

using SteadyClock = std::chrono::steady_clock;

namespace {

std::string padded_id(const std::string& prefix, size_t index) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%06zu", index);
  return prefix + digits;
}

double seconds_between(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

double RunOutcome::acks_per_s() const {
  if (seconds <= 0) return 0;
  return static_cast<double>(acked_in_window) / seconds;
}

nlohmann::json RunOutcome::to_json() const {
  nlohmann::json j;
  j["sent"] = sent;
  j["acked"] = acked;
  j["seconds"] = seconds;
  j["acks_per_s"] = acks_per_s();
  j["errors"] = errors;
  if (!error_codes.empty()) j["error_codes"] = error_codes;
  if (!first_error.empty()) j["first_error"] = first_error;
  j["seq_mismatches"] = seq_mismatches;
  j["unanswered"] = unanswered;
  if (!latency.empty()) j["latency"] = latency.summary();
  return j;
}

LoadGenerator::LoadGenerator(zmq::context_t& ctx, const std::string& endpoint, size_t connections,
                             const std::string& prefix, size_t nodes, uint64_t inc,
                             const std::optional<CurveClientKeys>& curve) {
  nodes_.reserve(nodes);
  for (size_t i = 0; i < nodes; ++i) nodes_.push_back(SimNode{padded_id(prefix, i), inc, 0});
  conns_.reserve(connections);
  for (size_t c = 0; c < connections; ++c) {
    Connection conn{zmq::socket_t(ctx, zmq::socket_type::dealer), {}, 0, {}};
    conn.socket.set(zmq::sockopt::linger, 0);
    conn.socket.set(zmq::sockopt::sndhwm, 100'000);
    conn.socket.set(zmq::sockopt::rcvhwm, 100'000);
    if (curve) apply_curve_client(conn.socket, *curve);
    conn.socket.connect(endpoint);
    conns_.push_back(std::move(conn));
  }
  for (size_t i = 0; i < nodes; ++i) conns_[i % connections].nodes.push_back(i);
}

bool LoadGenerator::send_next(Connection& conn, const RunPlan& plan) {
  SimNode& node = nodes_[conn.nodes[conn.cursor]];
  const uint64_t seq = node.seq + 1;
  std::string body;
  switch (plan.kind) {
    case RequestKind::kJoin:
      body = encode(AgentRequest{JoinRequest{
          node.id, node.inc, seq, plan.lease_ms, "10.0.0.1:9000", {{"bench", "load"}}}});
      break;
    case RequestKind::kHeartbeat:
      body = encode(AgentRequest{HeartbeatRequest{node.id, node.inc, seq}});
      break;
    case RequestKind::kLeave:
      body = encode(AgentRequest{LeaveRequest{node.id, node.inc, seq, "bench"}});
      break;
  }
  if (!conn.socket.send(zmq::buffer(body), zmq::send_flags::dontwait)) return false;
  node.seq = seq;
  conn.cursor = (conn.cursor + 1) % conn.nodes.size();
  conn.in_flight.push_back(InFlight{seq, SteadyClock::now()});
  return true;
}

void LoadGenerator::drain_replies(Connection& conn, const RunPlan& plan, bool in_window,
                                  RunOutcome& out) {
  zmq::message_t reply;
  while (conn.socket.recv(reply, zmq::recv_flags::dontwait)) {
    const auto now = SteadyClock::now();
    if (conn.in_flight.empty()) {
      ++out.errors;
      if (out.first_error.empty()) out.first_error = "a reply no request was waiting for";
      continue;
    }
    const InFlight request = conn.in_flight.front();
    conn.in_flight.pop_front();
    auto decoded = decode_agent_reply(std::string_view(reply.data<char>(), reply.size()));
    if (!decoded.ok()) {
      ++out.errors;
      if (out.first_error.empty())
        out.first_error = "undecodable reply: " + decoded.error().message;
      continue;
    }
    if (const auto* err = std::get_if<ErrorReply>(&decoded.value())) {
      ++out.errors;
      ++out.error_codes[std::string(to_string(err->code))];
      if (out.first_error.empty()) {
        out.first_error = std::string(to_string(err->code)) + ": " + err->message;
      }
      continue;
    }
    const Ack& ack = std::get<Ack>(decoded.value());
    ++out.acked;
    if (in_window) ++out.acked_in_window;
    if (plan.check_seq && ack.seq != request.seq) ++out.seq_mismatches;
    if (plan.record_latency) {
      out.latency.add_us(
          std::chrono::duration_cast<std::chrono::microseconds>(now - request.sent).count());
    }
  }
}

RunOutcome LoadGenerator::run(const RunPlan& plan) {
  RunOutcome out;
  std::vector<zmq::pollitem_t> items;
  std::vector<size_t> remaining;  // one-pass requests left per connection
  for (auto& conn : conns_) {
    conn.cursor = 0;
    items.push_back(zmq::pollitem_t{conn.socket.handle(), 0, ZMQ_POLLIN, 0});
    remaining.push_back(conn.nodes.size());
  }
  auto can_send = [&](size_t c) {
    const Connection& conn = conns_[c];
    if (conn.nodes.empty() || conn.in_flight.size() >= plan.window) return false;
    return !plan.one_pass || remaining[c] > 0;
  };
  auto try_send = [&](size_t c) {
    if (!can_send(c) || !send_next(conns_[c], plan)) return false;
    ++out.sent;
    if (remaining[c] > 0) --remaining[c];
    return true;
  };

  const auto start = SteadyClock::now();
  const auto window_end = start + plan.duration;
  auto drain_deadline = SteadyClock::time_point::max();
  bool sending = true;
  size_t round_robin = 0;
  try {
    while (true) {
      const auto now = SteadyClock::now();
      if (sending) {
        bool done = plan.one_pass ? std::all_of(remaining.begin(), remaining.end(),
                                                [](size_t r) { return r == 0; })
                                  : now >= window_end;
        if (done) {
          sending = false;
          drain_deadline = now + std::chrono::seconds(10);
        }
      }
      if (sending && plan.rate_per_s > 0) {
        const auto due = static_cast<uint64_t>(seconds_between(start, now) * plan.rate_per_s);
        uint64_t budget = due > out.sent ? due - out.sent : 0;
        size_t blocked = 0;
        while (budget > 0 && blocked < conns_.size()) {
          const size_t c = round_robin;
          round_robin = (round_robin + 1) % conns_.size();
          if (try_send(c)) {
            --budget;
            blocked = 0;
          } else {
            ++blocked;
          }
        }
      } else if (sending) {
        for (size_t c = 0; c < conns_.size(); ++c) {
          while (try_send(c)) {
          }
        }
      }
      bool any_in_flight = false;
      for (const auto& conn : conns_) any_in_flight = any_in_flight || !conn.in_flight.empty();
      if (!sending && (!any_in_flight || now >= drain_deadline)) break;
      const auto timeout = std::chrono::milliseconds(sending && plan.rate_per_s > 0 ? 1 : 10);
      zmq::poll(items.data(), items.size(), timeout);
      const bool in_window = plan.one_pass || SteadyClock::now() < window_end;
      for (size_t c = 0; c < conns_.size(); ++c) {
        if (items[c].revents & ZMQ_POLLIN) drain_replies(conns_[c], plan, in_window, out);
      }
    }
  } catch (const zmq::error_t& e) {
    ++out.errors;
    out.first_error = std::string("socket error: ") + e.what();
  }
  out.seconds = plan.one_pass ? seconds_between(start, SteadyClock::now())
                              : std::chrono::duration<double>(plan.duration).count();
  for (auto& conn : conns_) {
    out.unanswered += conn.in_flight.size();
    conn.in_flight.clear();
  }
  return out;
}

}  // namespace roster::bench
