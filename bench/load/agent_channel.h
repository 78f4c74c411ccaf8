// One DEALER on the agent channel carrying requests of many simulated
// nodes, each tagged by the caller; replies come back in order, so each is
// handed back with its request's tag and send time. For the scenarios that
// time individual nodes (detection, leave, connections).
//
// Thread safety: none; one owner.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <string>

#include <zmq.hpp>

#include "roster/codec.h"
#include "roster/protocol.h"

namespace roster::bench {

class AgentChannel {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  // Called per reply with the tag and send time of the request it answers.
  using ReplyHandler = std::function<void(size_t tag, TimePoint sent, TimePoint received,
                                          const Decoded<AgentReply>&)>;

  AgentChannel(zmq::context_t& ctx, const std::string& endpoint);

  // Sends `request` without blocking; false when the socket would block.
  bool send(const AgentRequest& request, size_t tag);
  // Waits up to `timeout` for the first reply, then reads every reply
  // waiting. Returns how many were read.
  size_t receive(std::chrono::milliseconds timeout, const ReplyHandler& on_reply);
  // Reads every reply waiting, without blocking.
  size_t receive_ready(const ReplyHandler& on_reply);
  size_t in_flight() const { return in_flight_.size(); }
  zmq::socket_t& socket() { return socket_; }
  // Replies that matched no request (never expected).
  size_t unexpected() const { return unexpected_; }

 private:
  struct Pending {
    size_t tag;
    TimePoint sent;
  };
  zmq::socket_t socket_;
  std::deque<Pending> in_flight_;
  size_t unexpected_ = 0;
};

}  // namespace roster::bench
