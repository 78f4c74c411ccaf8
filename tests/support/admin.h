// The admin channel for tests, through rosterctl's own client
// (ctl/admin_client.h), so the product's client is the tested one. Raw
// needs (garbage bytes, a REQ socket, requests whose replies are not read)
// use RequestClient (raw_sockets.h).
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "admin_client.h"
#include "roster/protocol.h"
#include "support/raw_sockets.h"

namespace roster::testing {

// One connection for a test that expects replies: a missing or
// undecodable reply is a test failure (reported with the reason).
//
// Thread safety: none; one owner.
class AdminClient {
 public:
  explicit AdminClient(const std::string& endpoint) : client_(endpoint) {}

  // The decoded reply (an ErrorReply included); nullopt (and a test
  // failure) if none came within `timeout`.
  std::optional<AdminReply> call(const AdminRequest& request,
                                 std::chrono::milliseconds timeout = kReplyTimeout);
  // The broker's snapshot; any other reply is a test failure too.
  std::optional<Snapshot> snapshot();
  // The broker's stats; any other reply is a test failure too.
  std::optional<Stats> stats();
  // The broker's record of `node`; nullopt when it does not hold it.
  std::optional<NodeRecord> node(const std::string& node);

 private:
  ctl::AdminClient client_;
};

// One request on a fresh connection, for polling in a wait loop: nullopt
// (no test failure) when no decodable reply came within `timeout`.
std::optional<AdminReply> admin_call(const std::string& endpoint, const AdminRequest& request,
                                     std::chrono::milliseconds timeout = kReplyTimeout);
// admin_call() of a snapshot query; nullopt unless the reply is a snapshot.
std::optional<Snapshot> admin_snapshot(const std::string& endpoint);
// admin_call() of a stats query; nullopt unless the reply is stats.
std::optional<Stats> admin_stats(const std::string& endpoint);

}  // namespace roster::testing
