// A scripted stand-in for roster-broker's agent channel, for agent tests: a
// ROUTER on tcp://127.0.0.1:* (or a given endpoint) whose replies the test
// chooses, so tests can make the broker ack, refuse, go silent or vanish.
//
// Thread safety: none; the test thread owns it.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "roster/protocol.h"

namespace roster::testing {

class FakeAgentChannel {
 public:
  // One request as received: who sent it and what it says.
  struct Received {
    std::string routing_id;
    AgentRequest request;
  };

  // Binds tcp://127.0.0.1:* when `endpoint` is empty, else `endpoint`.
  explicit FakeAgentChannel(const std::string& endpoint = "");
  ~FakeAgentChannel();
  FakeAgentChannel(const FakeAgentChannel&) = delete;
  FakeAgentChannel& operator=(const FakeAgentChannel&) = delete;

  // The bound endpoint with its real port.
  const std::string& endpoint() const { return endpoint_; }

  // The next request within `timeout`; nullopt if none came. A body the
  // codec refuses is a test failure.
  std::optional<Received> next(std::chrono::milliseconds timeout);

  // The next request of type T within `timeout`, acking every other
  // request meanwhile; nullopt if none came.
  template <typename T>
  std::optional<Received> next_of(std::chrono::milliseconds timeout);

  void reply(const Received& to, const AgentReply& reply);
  // Sends raw frames after the routing id (for hostile replies).
  void reply_frames(const Received& to, const std::vector<std::string>& frames);
  // Acks with the requested lease (joins) or `lease_ms`.
  void ack(const Received& to, uint64_t lease_ms = 600);
  void refuse(const Received& to, ErrorCode code);

  // Unbinds and closes the socket at once (the broker vanishes).
  void close();

 private:
  zmq::context_t context_{1};
  std::optional<zmq::socket_t> router_;
  std::string endpoint_;
};

// The seq of any request.
uint64_t seq_of(const AgentRequest& request);
// The incarnation of any request.
uint64_t inc_of(const AgentRequest& request);

template <typename T>
std::optional<FakeAgentChannel::Received> FakeAgentChannel::next_of(
    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto received = next(left);
    if (!received) return std::nullopt;
    if (std::holds_alternative<T>(received->request)) return received;
    ack(*received);
  }
}

}  // namespace roster::testing
