#include "broker_client.h"

#include <gtest/gtest.h>

#include <sstream>
#include <type_traits>

namespace roster::testing {

zmq::context_t& test_context() {
  // Never destroyed: terminating a context waits for every socket, and a
  // failed test may leave one open. Reachable, so not a leak.
  static zmq::context_t* context = new zmq::context_t(1);
  return *context;
}

RequestClient::RequestClient(const std::string& endpoint, zmq::socket_type type)
    : socket_(test_context(), type) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.connect(endpoint);
}

void RequestClient::send_frames(const std::vector<std::string>& frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    auto flags = i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
    socket_.send(zmq::buffer(frames[i]), flags);
  }
}

std::vector<std::string> RequestClient::receive_frames(std::chrono::milliseconds timeout) {
  std::vector<std::string> frames;
  zmq::pollitem_t item = {socket_.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) <= 0) return frames;
  bool more = true;
  while (more) {
    zmq::message_t frame;
    (void)socket_.recv(frame, zmq::recv_flags::none);
    more = frame.more();
    frames.push_back(frame.to_string());
  }
  return frames;
}

std::optional<std::string> RequestClient::receive(std::chrono::milliseconds timeout) {
  auto frames = receive_frames(timeout);
  if (frames.empty()) return std::nullopt;
  return frames.back();
}

std::optional<std::string> RequestClient::call(const std::string& body) {
  send(body);
  return receive();
}

std::optional<AgentReply> AgentClient::call(const AgentRequest& request) {
  auto body = client_.call(encode(request));
  if (!body) {
    ADD_FAILURE() << "no reply from the agent channel";
    return std::nullopt;
  }
  auto decoded = decode_agent_reply(*body);
  if (!decoded.ok()) {
    ADD_FAILURE() << "undecodable agent reply: " << decoded.error().message;
    return std::nullopt;
  }
  return decoded.value();
}

std::optional<AgentReply> AgentClient::join(const std::string& node, uint64_t inc,
                                            uint64_t lease_ms, const std::string& addr,
                                            const Labels& labels) {
  JoinRequest join;
  join.node = node;
  join.inc = inc;
  join.seq = ++seq_;
  join.lease_ms = lease_ms;
  join.addr = addr;
  join.labels = labels;
  return call(join);
}

std::optional<AgentReply> AgentClient::heartbeat(const std::string& node, uint64_t inc) {
  return call(HeartbeatRequest{node, inc, ++seq_});
}

std::optional<AgentReply> AgentClient::leave(const std::string& node, uint64_t inc) {
  LeaveRequest leave;
  leave.node = node;
  leave.inc = inc;
  leave.seq = ++seq_;
  leave.reason = "test";
  return call(leave);
}

std::optional<AdminReply> AdminClient::call(const AdminRequest& request) {
  auto body = client_.call(encode(request));
  if (!body) {
    ADD_FAILURE() << "no reply from the admin channel";
    return std::nullopt;
  }
  auto decoded = decode_admin_reply(*body);
  if (!decoded.ok()) {
    ADD_FAILURE() << "undecodable admin reply: " << decoded.error().message;
    return std::nullopt;
  }
  return decoded.value();
}

std::optional<Snapshot> AdminClient::snapshot() {
  auto reply = call(SnapshotQuery{});
  if (!reply) return std::nullopt;
  if (auto* snapshot = std::get_if<Snapshot>(&*reply)) return *snapshot;
  ADD_FAILURE() << "expected a snapshot, got " << describe(*reply);
  return std::nullopt;
}

std::optional<Stats> AdminClient::stats() {
  auto reply = call(StatsQuery{});
  if (!reply) return std::nullopt;
  if (auto* stats = std::get_if<Stats>(&*reply)) return *stats;
  ADD_FAILURE() << "expected stats, got " << describe(*reply);
  return std::nullopt;
}

StateWatcher::StateWatcher(const std::string& endpoint, const std::string& prefix)
    : socket_(test_context(), zmq::socket_type::sub) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::rcvhwm, 0);
  socket_.set(zmq::sockopt::subscribe, prefix);
  socket_.connect(endpoint);
}

std::optional<StateMessage> StateWatcher::next(std::chrono::milliseconds timeout) {
  zmq::pollitem_t item = {socket_.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) <= 0) return std::nullopt;
  StateMessage message;
  zmq::message_t topic;
  zmq::message_t body;
  (void)socket_.recv(topic, zmq::recv_flags::none);
  EXPECT_TRUE(topic.more()) << "state message without a body frame";
  if (topic.more()) (void)socket_.recv(body, zmq::recv_flags::none);
  EXPECT_FALSE(body.more()) << "state message with more than two frames";
  message.topic = topic.to_string();
  message.body = body.to_string();
  message.received = std::chrono::steady_clock::now();
  return message;
}

std::optional<StateMessage> StateWatcher::next_on(std::string_view topic,
                                                  std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) return std::nullopt;
    auto message = next(left);
    if (!message) return std::nullopt;
    if (message->topic == topic) return message;
  }
}

std::string describe(const AgentReply& reply) {
  std::ostringstream out;
  if (auto* ack = std::get_if<Ack>(&reply)) {
    out << "ack(seq " << ack->seq << ", lease " << ack->lease_ms << ", " << to_string(ack->state)
        << ")";
  } else {
    const auto& error = std::get<ErrorReply>(reply);
    out << "error(" << to_string(error.code) << ": " << error.message << ")";
  }
  return out.str();
}

std::string describe(const AdminReply& reply) {
  return std::visit(
      [](const auto& r) -> std::string {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, ErrorReply>) {
          return "error(" + std::string(to_string(r.code)) + ": " + r.message + ")";
        } else if constexpr (std::is_same_v<T, Snapshot>) {
          return "snapshot(version " + std::to_string(r.version) + ")";
        } else if constexpr (std::is_same_v<T, NodeInfo>) {
          return "node(" + r.record.node + ")";
        } else if constexpr (std::is_same_v<T, RemovedReply>) {
          return "removed(" + r.node + ")";
        } else {
          return "stats";
        }
      },
      reply);
}

std::optional<ErrorCode> error_code(const std::optional<AgentReply>& reply) {
  if (!reply) return std::nullopt;
  if (auto* error = std::get_if<ErrorReply>(&*reply)) return error->code;
  return std::nullopt;
}

std::optional<ErrorCode> error_code(const std::optional<AdminReply>& reply) {
  if (!reply) return std::nullopt;
  if (auto* error = std::get_if<ErrorReply>(&*reply)) return error->code;
  return std::nullopt;
}

}  // namespace roster::testing
