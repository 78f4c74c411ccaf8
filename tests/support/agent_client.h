// The agent side of the agent channel for tests: one DEALER that speaks for
// any number of nodes, requests encoded and replies decoded with the codec.
// No retry logic: what is sent is what the test says.
//
// Thread safety: none; one owner.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "roster/protocol.h"
#include "support/raw_sockets.h"

namespace roster::testing {

class AgentClient {
 public:
  explicit AgentClient(const std::string& endpoint) : client_(endpoint) {}
  // One request, one decoded reply within `timeout`; a failed decode or a
  // missing reply is a test failure (reported, and nullopt).
  std::optional<AgentReply> call(const AgentRequest& request,
                                 std::chrono::milliseconds timeout = kReplyTimeout);
  // Requests with seq filled in (one counter, growing across all nodes).
  std::optional<AgentReply> join(const std::string& node, uint64_t inc, uint64_t lease_ms,
                                 const std::string& addr = "", const Labels& labels = {});
  std::optional<AgentReply> heartbeat(const std::string& node, uint64_t inc);
  // A leave with reason "test".
  std::optional<AgentReply> leave(const std::string& node, uint64_t inc);
  // The socket, for raw frames.
  RequestClient& raw() { return client_; }

 private:
  RequestClient client_;
  uint64_t seq_ = 0;
};

// The Ack in `reply`; nullopt after a test failure naming what came
// instead when there was no reply or it was not an Ack.
std::optional<Ack> as_ack(const std::optional<AgentReply>& reply);

}  // namespace roster::testing
