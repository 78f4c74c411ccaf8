// A fleet of simulated agents driven by one thread: every node has its own
// DEALER connection to the broker and speaks the agent protocol through the
// codec (join, heartbeat every lease/3, leave), like roster-agent does, so
// a test can run hundreds of agents without hundreds of processes.
//
// What each node does on a refusal follows the agent's rules: unknown_node
// joins again with the same incarnation; expired, left and
// stale_incarnation join with a higher one; removed stops the node.
//
// Thread safety: none; one thread calls everything.
#pragma once

#include <zmq.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "roster/protocol.h"

namespace roster::e2e {

class SimFleet {
 public:
  // Nodes will heartbeat `agents_endpoint` with a lease of `lease_ms`.
  SimFleet(std::string agents_endpoint, uint64_t lease_ms);
  ~SimFleet();
  SimFleet(const SimFleet&) = delete;
  SimFleet& operator=(const SimFleet&) = delete;

  // Starts `node` with a new incarnation, higher than any this fleet used,
  // on a fresh connection (a restart when it runs). Returns the incarnation.
  uint64_t start(const std::string& node);
  // A crash: the node stops talking at once, without a leave.
  void kill(const std::string& node);
  // A graceful stop: sends leave; pump() waits for the ack (up to a lease)
  // and then closes the connection.
  void leave(const std::string& node);

  // Handles replies and sends due heartbeats and joins for `duration`.
  void pump(std::chrono::milliseconds duration);

  // Nodes that run (joining or joined), with their incarnation.
  std::map<std::string, uint64_t> running() const;
  bool is_running(const std::string& node) const;
  // Error replies received, by code; and acks.
  const std::map<ErrorCode, uint64_t>& errors() const { return errors_; }
  uint64_t acks() const { return acks_; }
  // Leaves acknowledged by the broker.
  uint64_t leaves_acked() const { return leaves_acked_; }

 private:
  struct Node;
  struct Leaving;
  using Clock = std::chrono::steady_clock;

  zmq::socket_t connect();
  void send(Node& node, const AgentRequest& request);
  void handle_reply(Node& node, const std::string& body);

  std::string endpoint_;
  uint64_t lease_ms_;
  uint64_t next_inc_;
  uint64_t acks_ = 0;
  uint64_t leaves_acked_ = 0;
  std::map<ErrorCode, uint64_t> errors_;
  zmq::context_t context_{1};
  std::map<std::string, std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Leaving>> leaving_;
};

}  // namespace roster::e2e
