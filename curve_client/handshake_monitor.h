// Tells a broker that refused a client's CURVE handshake from one that is
// down. A ZeroMQ socket monitor on one client socket reports how each
// handshake ended; a refused or failed one would otherwise look exactly
// like an unreachable broker (no reply), because libzmq reports nothing
// through the socket itself, and after a refusal by the broker's ZAP
// handler it does not even reconnect.
//
// Thread safety: none; the thread that owns the monitored socket owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <zmq.hpp>

namespace roster {

// How a handshake failed.
struct HandshakeFailure {
  enum class Kind : uint8_t {
    // The broker's authenticator refused this client's key
    // (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH; `value` is its ZAP status, e.g. 400).
    kRefused,
    // The handshake broke off (ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL or
    // _NO_DETAIL): most often a broker key that is not the broker's, or one
    // side using CURVE and the other not. `value` is libzmq's code.
    kFailed,
  };
  Kind kind = Kind::kRefused;
  int value = 0;
  std::string endpoint;  // the endpoint the socket was connected to
  // Whether this client used CURVE: a plaintext client that fails a
  // handshake most likely talks to a broker that requires CURVE.
  bool client_uses_curve = true;

  // One line for a log or an error message, starting "authentication
  // failed:", e.g. "authentication failed: the broker at tcp://b:7400
  // refused this client's key (ZAP status 400)".
  std::string describe() const;
};

class HandshakeMonitor {
 public:
  // Starts monitoring `socket`'s handshakes; call it before the socket
  // connects, so that no handshake is missed. Throws zmq::error_t.
  // `client_uses_curve` says whether `socket` is a CURVE client (for the
  // failure's description). REQUIRES: `socket` and `context` outlive the
  // monitor.
  HandshakeMonitor(zmq::context_t& context, zmq::socket_t& socket, bool client_uses_curve);
  // Stops monitoring.
  ~HandshakeMonitor();
  HandshakeMonitor(const HandshakeMonitor&) = delete;
  HandshakeMonitor& operator=(const HandshakeMonitor&) = delete;

  // Reads every event waiting, without blocking. Returns the last failure
  // among them, if any. A later successful handshake does not hide an
  // earlier failure in the same call (both are reported through
  // succeeded()).
  std::optional<HandshakeFailure> take_failure();

  // True once a handshake on the socket has succeeded (updated by
  // take_failure()).
  bool succeeded() const { return succeeded_; }

  // The socket the events arrive on: poll it for ZMQ_POLLIN to learn of a
  // failure at once, then call take_failure().
  zmq::socket_t& events() { return events_; }

 private:
  zmq::socket_t& monitored_;
  zmq::socket_t events_;
  bool client_uses_curve_;
  bool succeeded_ = false;
};

}  // namespace roster
