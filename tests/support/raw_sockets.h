// Raw ZeroMQ sockets for tests that speak to a broker below the protocol
// clients: a request socket (DEALER or REQ) that sends any frames, garbage
// included, and need not read replies; and a SUB socket on the state
// channel read message by message by the test's thread, its frames checked.
//
// Thread safety: none; each socket is used by one thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "roster/protocol.h"

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

// One message of the state channel.
struct StateMessage {
  std::string topic;
  std::string body;
  std::chrono::steady_clock::time_point received;
};

// A SUB socket on the state channel, read by the caller. A message that is
// not exactly [topic, body] is a test failure.
class StateReader {
 public:
  // Connects and subscribes to `prefix`; never drops (no receive HWM).
  StateReader(const std::string& endpoint, const std::string& prefix = std::string(kTopicPrefix));
  // Next message within `timeout`.
  std::optional<StateMessage> next(std::chrono::milliseconds timeout = kReplyTimeout);
  // Next message on `topic` within `timeout` (others are skipped).
  std::optional<StateMessage> next_on(std::string_view topic,
                                      std::chrono::milliseconds timeout = kReplyTimeout);
  zmq::socket_t& socket() { return socket_; }

 private:
  zmq::socket_t socket_;
};

}  // namespace roster::testing
