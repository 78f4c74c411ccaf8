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

namespace roster {

class BrokerLink {
 public:
  explicit BrokerLink(zmq::context_t& context) : context_(context) {}

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

 private:
  bool try_send(const std::string& body);

  zmq::context_t& context_;
  std::optional<zmq::socket_t> socket_;
  std::optional<std::string> pending_;
  uint64_t misframed_ = 0;
};

}  // namespace roster
