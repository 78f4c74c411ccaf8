// A minimal admin-channel client for tests: one DEALER, one request at a
// time, replies decoded with the codec.
//
// Thread safety: none; one owner.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <zmq.hpp>

#include "roster/protocol.h"

namespace roster::testing {

class AdminClient {
 public:
  explicit AdminClient(const std::string& admin_endpoint);

  // Sends `request` and returns the decoded reply; nullopt if none came
  // within `timeout` (the socket is then replaced, dropping a late reply).
  std::optional<AdminReply> request(const AdminRequest& request,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // The broker's record of `node`; nullopt if it does not hold it (or did
  // not answer).
  std::optional<NodeRecord> node(const std::string& node);

 private:
  void connect();

  std::string endpoint_;
  zmq::context_t context_{1};
  std::optional<zmq::socket_t> socket_;
};

}  // namespace roster::testing
