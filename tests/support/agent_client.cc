#include "support/raw_clients.h"

#include <zmq_addon.hpp>

#include <variant>
#include <vector>

#include "roster/codec.h"

namespace roster::testing {

namespace {

// Waits for one message on `socket` and returns its last frame.
std::optional<std::string> receive_body(zmq::socket_t& socket, std::chrono::milliseconds timeout) {
  zmq::pollitem_t items[] = {{socket.handle(), 0, ZMQ_POLLIN, 0}};
  if (zmq::poll(items, 1, timeout) == 0) return std::nullopt;
  std::vector<zmq::message_t> frames;
  if (!zmq::recv_multipart(socket, std::back_inserter(frames), zmq::recv_flags::dontwait) ||
      frames.empty()) {
    return std::nullopt;
  }
  return frames.back().to_string();
}

}  // namespace

RawAgent::RawAgent(zmq::context_t& context, const std::string& agents_endpoint)
    : socket_(context, zmq::socket_type::dealer) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.connect(agents_endpoint);
}

std::optional<AgentReply> RawAgent::call(const AgentRequest& request,
                                         std::chrono::milliseconds timeout) {
  const std::string body = encode(request);
  socket_.send(zmq::buffer(body), zmq::send_flags::none);
  auto reply = receive_body(socket_, timeout);
  if (!reply) return std::nullopt;
  auto decoded = decode_agent_reply(*reply);
  if (!decoded.ok()) return std::nullopt;
  return std::move(decoded).value();
}

std::optional<AgentReply> RawAgent::join(const std::string& node, uint64_t inc, uint64_t lease_ms,
                                         const Labels& labels, const std::string& addr) {
  return call(JoinRequest{node, inc, ++seq_, lease_ms, addr, labels});
}

std::optional<AgentReply> RawAgent::heartbeat(const std::string& node, uint64_t inc) {
  return call(HeartbeatRequest{node, inc, ++seq_});
}

std::optional<AgentReply> RawAgent::leave(const std::string& node, uint64_t inc) {
  return call(LeaveRequest{node, inc, ++seq_, "test"});
}

std::optional<AdminReply> admin_call(const std::string& admin_endpoint, const AdminRequest& request,
                                     std::chrono::milliseconds timeout) {
  zmq::context_t context;
  zmq::socket_t socket(context, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.connect(admin_endpoint);
  const std::string body = encode(request);
  socket.send(zmq::buffer(body), zmq::send_flags::none);
  auto reply = receive_body(socket, timeout);
  if (!reply) return std::nullopt;
  auto decoded = decode_admin_reply(*reply);
  if (!decoded.ok()) return std::nullopt;
  return std::move(decoded).value();
}

std::optional<Snapshot> admin_snapshot(const std::string& admin_endpoint) {
  auto reply = admin_call(admin_endpoint, AdminRequest{SnapshotQuery{}});
  if (!reply || !std::holds_alternative<Snapshot>(*reply)) return std::nullopt;
  return std::get<Snapshot>(*reply);
}

}  // namespace roster::testing
