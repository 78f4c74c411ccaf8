#include "pair_fleet.h"

#include <zmq.hpp>

#include <algorithm>
#include <variant>

#include "roster/codec.h"

namespace roster::e2e {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

// One node: one incarnation, one session per broker.
struct PairFleet::Node {
  struct Session {
    zmq::socket_t socket;
    uint64_t seq = 0;
    bool joined = false;
    Clock::time_point next_send;
  };
  uint64_t inc = 0;
  bool fenced = false;
  std::vector<Session> sessions;
};

namespace {

zmq::context_t& fleet_context() {
  static zmq::context_t context(1);
  return context;
}

// A DEALER that never queues for a broker it is not connected to (a dead
// broker gets no backlog) and drops what a stopped one does not read.
zmq::socket_t connect(const std::string& endpoint) {
  zmq::socket_t socket(fleet_context(), zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  socket.set(zmq::sockopt::immediate, 1);
  socket.set(zmq::sockopt::sndhwm, 4);
  socket.connect(endpoint);
  return socket;
}

}  // namespace

PairFleet::PairFleet(std::vector<std::string> agents_endpoints, const std::set<std::string>& nodes,
                     uint64_t lease_ms)
    : endpoints_(std::move(agents_endpoints)),
      lease_ms_(lease_ms),
      next_inc_(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count())) {
  for (const auto& name : nodes) {
    auto node = std::make_unique<Node>();
    node->inc = ++next_inc_;
    for (const auto& endpoint : endpoints_) {
      Node::Session session;
      session.socket = connect(endpoint);
      session.next_send = Clock::now();
      node->sessions.push_back(std::move(session));
    }
    nodes_[name] = std::move(node);
  }
  thread_ = std::thread([this] { run(); });
}

PairFleet::~PairFleet() {
  stop_ = true;
  thread_.join();
}

bool PairFleet::fenced(const std::string& node) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = nodes_.find(node);
  return it != nodes_.end() && it->second->fenced;
}

std::set<std::string> PairFleet::running() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::set<std::string> out;
  for (const auto& [name, node] : nodes_) {
    if (!node->fenced) out.insert(name);
  }
  return out;
}

uint64_t PairFleet::inc(const std::string& node) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = nodes_.find(node);
  return it == nodes_.end() ? 0 : it->second->inc;
}

std::map<ErrorCode, uint64_t> PairFleet::errors() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return errors_;
}

void PairFleet::run() {
  const auto interval = std::chrono::milliseconds(std::max<uint64_t>(1, lease_ms_ / 3));
  while (!stop_) {
    std::vector<zmq::pollitem_t> items;
    std::vector<std::pair<std::string, size_t>> owners;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      const auto now = Clock::now();
      for (auto& [name, node] : nodes_) {
        if (node->fenced) continue;
        for (size_t b = 0; b < node->sessions.size(); ++b) {
          Node::Session& session = node->sessions[b];
          if (session.next_send <= now) {
            const AgentRequest request =
                session.joined ? AgentRequest{HeartbeatRequest{name, node->inc, ++session.seq}}
                               : AgentRequest{JoinRequest{name,
                                                          node->inc,
                                                          ++session.seq,
                                                          lease_ms_,
                                                          "127.0.0.1:3",
                                                          {{"e2e", "pair"}}}};
            // A broker that is down or not reading drops it, as a lost
            // packet; the next interval repeats it. Never blocks the others.
            (void)session.socket.send(zmq::buffer(encode(request)), zmq::send_flags::dontwait);
            session.next_send = now + interval;
          }
          items.push_back({session.socket.handle(), 0, ZMQ_POLLIN, 0});
          owners.emplace_back(name, b);
        }
      }
    }
    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(10));
    std::lock_guard<std::mutex> lock(mutex_);
    for (size_t i = 0; i < items.size(); ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      Node& node = *nodes_.at(owners[i].first);
      Node::Session& session = node.sessions[owners[i].second];
      zmq::message_t message;
      while (session.socket.recv(message, zmq::recv_flags::dontwait)) {
        auto reply = decode_agent_reply(message.to_string_view());
        if (!reply.ok()) {
          ++errors_[ErrorCode::kBadRequest];
          continue;
        }
        if (std::holds_alternative<Ack>(reply.value())) {
          session.joined = true;
          continue;
        }
        const ErrorCode code = std::get<ErrorReply>(reply.value()).code;
        ++errors_[code];
        if (code == ErrorCode::kUnknownNode) {
          // This broker does not hold us (it restarted): join it again.
          session.joined = false;
          session.next_send = Clock::now();
        } else if (code == ErrorCode::kRemoved) {
          node.fenced = true;  // stops talking to every broker
        } else if (code == ErrorCode::kExpired || code == ErrorCode::kLeft ||
                   code == ErrorCode::kStaleIncarnation) {
          // Over on one broker: a new incarnation, for every broker.
          node.inc = ++next_inc_;
          for (Node::Session& s : node.sessions) {
            s.joined = false;
            s.next_send = Clock::now();
          }
        }
      }
    }
  }
}

}  // namespace roster::e2e
