// Failures of the broker's bound sockets that libzmq reports only to a
// socket monitor (zmq_socket_monitor): a connection it could not accept
// (ZMQ_EVENT_ACCEPT_FAILED, e.g. EMFILE when the process is out of file
// descriptors) or close (ZMQ_EVENT_CLOSE_FAILED), and handshakes that failed
// before authentication (ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL/_NO_DETAIL: a
// client without CURVE on a CURVE endpoint, or with the wrong broker key). Unmonitored they are
// silent: at the descriptor limit libzmq retries the pending accept at once
// (a busy I/O thread) while new clients wait in the listen backlog.
// SocketFailures reads the events, counts them (LoopCounters) and logs them
// through the rate limiter, so an operator sees why clients time out.
//
// Thread safety: none; the event loop owns a SocketFailures.
// monitor_failures() runs on the thread that owns the monitored socket.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "counters.h"
#include "rate_limited_log.h"
#include "roster/clock.h"

namespace roster::broker {

// Makes `socket` publish its accept and close failures on the inproc
// `endpoint`. REQUIRES: called on the thread that owns `socket`. Returns a
// one-line error or nullopt.
std::optional<std::string> monitor_failures(zmq::socket_t& socket, const std::string& endpoint);

class SocketFailures {
 public:
  // `context`, `counters` and `warnings` must outlive this object.
  SocketFailures(zmq::context_t& context, LoopCounters& counters, RateLimitedLog& warnings)
      : context_(context), counters_(counters), warnings_(warnings) {}

  // Starts reading the failures of a socket named `flag` (e.g. "--publish")
  // from a new inproc endpoint, returned; the socket's owner passes it to
  // monitor_failures() (before or after this call).
  std::string add(const std::string& flag);

  // add() and monitor_failures() for a socket of the calling thread;
  // returns monitor_failures()'s error.
  std::optional<std::string> watch(zmq::socket_t& socket, const std::string& flag);

  // Reads the events waiting for every watched socket (at most a bounded
  // number per socket, so a flood costs a bounded time per call), counts
  // them and logs them rate limited. Cheap when none wait: one
  // non-blocking receive per socket.
  void drain(TimeMs now);

 private:
  struct Reader {
    std::string flag;
    zmq::socket_t socket;
  };
  void handle(const Reader& reader, uint16_t event, uint32_t error, std::string_view address,
              TimeMs now);

  zmq::context_t& context_;
  LoopCounters& counters_;
  RateLimitedLog& warnings_;
  std::vector<Reader> readers_;
};

}  // namespace roster::broker
