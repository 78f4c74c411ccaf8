// Bare protocol clients for integration tests against a real broker: an
// agent DEALER that sends join/heartbeat/leave through the codec, and a
// one-shot admin request. No retry logic: what is sent is what the test says.
#pragma once

#include <zmq.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "roster/protocol.h"

namespace roster::testing {

// Speaks for any number of nodes over one DEALER. Not thread-safe.
class RawAgent {
 public:
  RawAgent(zmq::context_t& context, const std::string& agents_endpoint);

  // Sends `request` and waits up to `timeout` for its reply.
  std::optional<AgentReply> call(const AgentRequest& request,
                                 std::chrono::milliseconds timeout = std::chrono::seconds(10));
  // Fills in seq (one counter, growing across all nodes) and calls.
  std::optional<AgentReply> join(const std::string& node, uint64_t inc, uint64_t lease_ms,
                                 const Labels& labels = {}, const std::string& addr = "");
  std::optional<AgentReply> heartbeat(const std::string& node, uint64_t inc);
  std::optional<AgentReply> leave(const std::string& node, uint64_t inc);

 private:
  zmq::socket_t socket_;
  uint64_t seq_ = 0;
};

// One admin request on a fresh DEALER; nullopt on timeout or a bad reply.
std::optional<AdminReply> admin_call(const std::string& admin_endpoint, const AdminRequest& request,
                                     std::chrono::milliseconds timeout = std::chrono::seconds(10));

// The broker's current snapshot over the admin channel; nullopt on failure.
std::optional<Snapshot> admin_snapshot(const std::string& admin_endpoint);

}  // namespace roster::testing
