// A client of the broker's admin channel (DEALER), for stats and snapshot
// requests during a benchmark.
//
// Thread safety: none; use one AdminClient per thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "roster/protocol.h"

namespace roster::bench {

class AdminClient {
 public:
  AdminClient(zmq::context_t& ctx, const std::string& endpoint);

  // Sends `request` and waits up to `timeout` for the raw reply body.
  // nullopt (and error() says why) on timeout or socket error. After a
  // timeout the client is unusable (a late reply would be misread).
  std::optional<std::string> request_raw(const AdminRequest& request,
                                         std::chrono::milliseconds timeout);
  // The broker's stats; nullopt when the request fails or the reply is not
  // stats.
  std::optional<Stats> stats(std::chrono::milliseconds timeout);
  const std::string& error() const { return error_; }

 private:
  zmq::socket_t socket_;
  bool broken_ = false;
  std::string error_;
};

}  // namespace roster::bench
