#include "sim_fleet.h"

#include <algorithm>
#include <variant>

#include "roster/codec.h"

namespace roster::e2e {

// A node that runs: its connection, incarnation and protocol state.
struct SimFleet::Node {
  zmq::socket_t socket;
  uint64_t inc = 0;
  uint64_t seq = 0;
  bool joined = false;
  Clock::time_point next_send;
};

// A node that sent leave: its connection stays open until the ack or the
// deadline.
struct SimFleet::Leaving {
  zmq::socket_t socket;
  Clock::time_point deadline;
};

SimFleet::SimFleet(std::string agents_endpoint, uint64_t lease_ms)
    : endpoint_(std::move(agents_endpoint)),
      lease_ms_(lease_ms),
      next_inc_(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count())) {}

SimFleet::~SimFleet() = default;

zmq::socket_t SimFleet::connect() {
  zmq::socket_t socket(context_, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.connect(endpoint_);
  return socket;
}

void SimFleet::send(Node& node, const AgentRequest& request) {
  const std::string body = encode(request);
  // A full queue (the broker is not reading) drops the request, as a lost
  // packet would; the next heartbeat or join repeats it.
  (void)node.socket.send(zmq::buffer(body), zmq::send_flags::dontwait);
  node.next_send = Clock::now() + std::chrono::milliseconds(std::max<uint64_t>(1, lease_ms_ / 3));
}

uint64_t SimFleet::start(const std::string& name) {
  kill(name);
  auto node = std::make_unique<Node>();
  node->socket = connect();
  node->inc = ++next_inc_;
  const uint64_t inc = node->inc;
  Node& ref = *node;
  nodes_[name] = std::move(node);
  ref.seq = 0;
  ref.joined = false;
  send(ref, JoinRequest{name, inc, ++ref.seq, lease_ms_, "127.0.0.1:2", {{"sim", "yes"}}});
  return inc;
}

void SimFleet::kill(const std::string& name) {
  nodes_.erase(name);
}

void SimFleet::leave(const std::string& name) {
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return;
  Node& node = *it->second;
  send(node, LeaveRequest{name, node.inc, ++node.seq, "churn"});
  auto leaving = std::make_unique<Leaving>();
  leaving->socket = std::move(node.socket);
  leaving->deadline = Clock::now() + std::chrono::milliseconds(lease_ms_);
  leaving_.push_back(std::move(leaving));
  nodes_.erase(it);
}

void SimFleet::handle_reply(Node& node, const std::string& body) {
  auto reply = decode_agent_reply(body);
  if (!reply.ok()) {
    ++errors_[ErrorCode::kBadRequest];
    return;
  }
  if (std::holds_alternative<Ack>(reply.value())) {
    ++acks_;
    node.joined = true;
    return;
  }
  const ErrorCode code = std::get<ErrorReply>(reply.value()).code;
  ++errors_[code];
  switch (code) {
    case ErrorCode::kUnknownNode:
      node.joined = false;
      node.next_send = Clock::now();  // join again at once, same incarnation
      break;
    case ErrorCode::kExpired:
    case ErrorCode::kLeft:
    case ErrorCode::kStaleIncarnation:
      node.inc = ++next_inc_;
      node.seq = 0;
      node.joined = false;
      node.next_send = Clock::now();
      break;
    default:
      break;
  }
}

void SimFleet::pump(std::chrono::milliseconds duration) {
  const auto end = Clock::now() + duration;
  while (true) {
    // Due heartbeats and joins.
    const auto now = Clock::now();
    auto next = end;
    for (auto& [name, node] : nodes_) {
      if (node->next_send <= now) {
        if (node->joined) {
          send(*node, HeartbeatRequest{name, node->inc, ++node->seq});
        } else {
          send(*node,
               JoinRequest{
                   name, node->inc, ++node->seq, lease_ms_, "127.0.0.1:2", {{"sim", "yes"}}});
        }
      }
      next = std::min(next, node->next_send);
    }
    leaving_.erase(std::remove_if(leaving_.begin(), leaving_.end(),
                                  [&](const auto& l) { return l->deadline <= now; }),
                   leaving_.end());
    if (now >= end) return;

    std::vector<zmq::pollitem_t> items;
    std::vector<Node*> owners;
    for (auto& [name, node] : nodes_) {
      items.push_back({node->socket.handle(), 0, ZMQ_POLLIN, 0});
      owners.push_back(node.get());
    }
    for (auto& l : leaving_) items.push_back({l->socket.handle(), 0, ZMQ_POLLIN, 0});
    const auto wait = std::max(std::chrono::milliseconds(0),
                               std::chrono::duration_cast<std::chrono::milliseconds>(next - now));
    zmq::poll(items.data(), items.size(), std::min(wait, std::chrono::milliseconds(50)));

    std::vector<size_t> acked_leaves;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      zmq::socket_ref socket(zmq::from_handle, items[i].socket);
      zmq::message_t message;
      while (socket.recv(message, zmq::recv_flags::dontwait)) {
        if (i < owners.size()) {
          handle_reply(*owners[i], message.to_string());
        } else {
          ++leaves_acked_;
          acked_leaves.push_back(i - owners.size());
        }
      }
    }
    // Acked leaves close their connection.
    std::sort(acked_leaves.rbegin(), acked_leaves.rend());
    acked_leaves.erase(std::unique(acked_leaves.begin(), acked_leaves.end()), acked_leaves.end());
    for (size_t index : acked_leaves) leaving_.erase(leaving_.begin() + index);
  }
}

std::map<std::string, uint64_t> SimFleet::running() const {
  std::map<std::string, uint64_t> out;
  for (const auto& [name, node] : nodes_) out[name] = node->inc;
  return out;
}

bool SimFleet::is_running(const std::string& node) const {
  return nodes_.count(node) > 0;
}

}  // namespace roster::e2e
