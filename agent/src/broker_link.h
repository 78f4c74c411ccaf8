// The agent's DEALER connection to one broker endpoint. It never builds a
// backlog: ZMQ_IMMEDIATE keeps messages off a connection that is not up,
// and a request the socket cannot take yet waits in a single slot where the
// next request replaces it. Closing drops everything queued (ZMQ_LINGER 0).
//
// Thread safety: none; the agent's thread owns it.
#pragma once

#include <optional>
#include <string>

#include <zmq.hpp>

#include "curve_client.h"
#include "handshake_monitor.h"

namespace roster {

class BrokerLink {
 public:
  // `curve`: the keys of every socket it opens; nullopt for plaintext.
  explicit BrokerLink(zmq::context_t& context, std::optional<CurveClientKeys> curve = std::nullopt)
      : context_(context), curve_(std::move(curve)) {}

  // Closes any open socket and connects a fresh one to `endpoint`. Returns
  // nullopt on success, else ZeroMQ's reason (e.g. a malformed endpoint).
  std::optional<std::string> open(const std::string& endpoint);
  // Closes the socket, dropping queued and pending messages.
  void close();
  bool is_open() const { return socket_.has_value(); }

  // Sends `body` as one frame now if the connection is up, else keeps it as
  // the pending message (replacing an older one). REQUIRES: is_open().
  void send(std::string body);
  // Sends the pending message if the connection can take it now.
  void flush();
  bool has_pending() const { return pending_.has_value(); }

  // Fills `item` to poll the socket: readable, and writable while a
  // message is pending. REQUIRES: is_open().
  void poll_item(zmq_pollitem_t& item);

  // The next reply body if one is waiting (one frame, or an empty delimiter
  // then one frame); other framings are dropped and counted.
  std::optional<std::string> receive();
  uint64_t misframed() const { return misframed_; }

  // Fills `item` to poll the handshake events of the open socket.
  // REQUIRES: is_open().
  void monitor_poll_item(zmq_pollitem_t& item);
  // A handshake of the open socket that failed since the last call, if any
  // (see handshake_monitor.h); nullopt when closed.
  std::optional<HandshakeFailure> take_handshake_failure();

 private:
  bool try_send(const std::string& body);

  zmq::context_t& context_;
  std::optional<CurveClientKeys> curve_;
  std::optional<zmq::socket_t> socket_;
  // Declared after socket_: stops monitoring before the socket closes.
  std::optional<HandshakeMonitor> monitor_;
  std::optional<std::string> pending_;
  uint64_t misframed_ = 0;
};

}  // namespace roster
