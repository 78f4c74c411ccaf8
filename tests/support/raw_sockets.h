// Raw ZeroMQ clients of a real roster-broker for the broker's integration
// tests: an agent (DEALER), an admin client (DEALER or REQ) and a state
// channel watcher (SUB), each speaking the wire protocol through the codec.
//
// Thread safety: none; each client is used by one thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "roster/codec.h"
#include "roster/protocol.h"
#include "roster/view.h"

namespace roster::testing {

// How long a test waits for something that should happen at once; generous
// so a loaded 2-core machine or a sanitizer build does not flake.
inline constexpr std::chrono::milliseconds kReplyTimeout{10'000};

// The ZeroMQ context of the test process.
zmq::context_t& test_context();

// A request socket (DEALER or REQ) to one ROUTER endpoint.
class RequestClient {
 public:
  RequestClient(const std::string& endpoint, zmq::socket_type type = zmq::socket_type::dealer);
  // Sends raw frames (for a REQ the empty delimiter is added by libzmq).
  void send_frames(const std::vector<std::string>& frames);
  void send(const std::string& body) { send_frames({body}); }
  // Receives one multipart reply within `timeout`; empty if none came.
  std::vector<std::string> receive_frames(std::chrono::milliseconds timeout = kReplyTimeout);
  // The reply's body: the last frame; nullopt if no reply came.
  std::optional<std::string> receive(std::chrono::milliseconds timeout = kReplyTimeout);
  // send() then receive().
  std::optional<std::string> call(const std::string& body);
  zmq::socket_t& socket() { return socket_; }

 private:
  zmq::socket_t socket_;
};

// The agent side: encodes requests, decodes replies.
class AgentClient {
 public:
  explicit AgentClient(const std::string& endpoint) : client_(endpoint) {}
  // One request, one decoded reply; a failed decode or a missing reply is a
  // test failure (reported, and nullopt).
  std::optional<AgentReply> call(const AgentRequest& request);
  // Convenience requests with their own increasing seq.
  std::optional<AgentReply> join(const std::string& node, uint64_t inc, uint64_t lease_ms,
                                 const std::string& addr = "", const Labels& labels = {});
  std::optional<AgentReply> heartbeat(const std::string& node, uint64_t inc);
  std::optional<AgentReply> leave(const std::string& node, uint64_t inc);
  RequestClient& raw() { return client_; }

 private:
  RequestClient client_;
  uint64_t seq_ = 0;
};

// The admin side, over a DEALER or a REQ.
class AdminClient {
 public:
  explicit AdminClient(const std::string& endpoint,
                       zmq::socket_type type = zmq::socket_type::dealer)
      : client_(endpoint, type) {}
  std::optional<AdminReply> call(const AdminRequest& request);
  std::optional<Snapshot> snapshot();
  std::optional<Stats> stats();
  RequestClient& raw() { return client_; }

 private:
  RequestClient client_;
};

// One message of the state channel.
struct StateMessage {
  std::string topic;
  std::string body;
  std::chrono::steady_clock::time_point received;
};

// A SUB socket on the state channel.
class StateWatcher {
 public:
  // Connects and subscribes to `prefix`.
  StateWatcher(const std::string& endpoint, const std::string& prefix = std::string(kTopicPrefix));
  // Next message within `timeout`.
  std::optional<StateMessage> next(std::chrono::milliseconds timeout = kReplyTimeout);
  // Next message on `topic` within `timeout` (others are skipped).
  std::optional<StateMessage> next_on(std::string_view topic,
                                      std::chrono::milliseconds timeout = kReplyTimeout);
  zmq::socket_t& socket() { return socket_; }

 private:
  zmq::socket_t socket_;
};

// Errors and acks as strings, for readable assertion messages.
std::string describe(const AgentReply& reply);
std::string describe(const AdminReply& reply);

// The error code of an agent reply; nullopt for an ack.
std::optional<ErrorCode> error_code(const std::optional<AgentReply>& reply);
// The error code of an admin reply; nullopt if not an error.
std::optional<ErrorCode> error_code(const std::optional<AdminReply>& reply);

}  // namespace roster::testing
