// A scripted stand-in for roster-broker's state and admin channels, for
// subscriber and rosterctl tests: an XPUB and an admin ROUTER on
// tcp://127.0.0.1:* serving the snapshots and deltas the test scripts,
// driven by the test thread (nothing happens unless the test asks).
//
// Thread safety: none; the test thread owns it.
#pragma once

#include <zmq.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "roster/protocol.h"

namespace roster::testing {

class FakeStateChannel {
 public:
  FakeStateChannel();
  FakeStateChannel(const FakeStateChannel&) = delete;
  FakeStateChannel& operator=(const FakeStateChannel&) = delete;

  const std::string& state_endpoint() const { return state_endpoint_; }
  const std::string& admin_endpoint() const { return admin_endpoint_; }

  // Publishes on the state channel, as [topic, body].
  void publish(const Snapshot& snapshot);
  void publish(const Delta& delta);
  void publish(const Beat& beat);
  // Publishes raw frames (for malformed input).
  void publish_frames(const std::vector<std::string>& frames);

  // True once a subscription message arrived on the XPUB (reads them all).
  // Non-blocking.
  bool poll_subscribed();

  // Reads pending admin requests without blocking; returns how many were
  // snapshot requests. The last requester (of any request) is remembered
  // for reply().
  int poll_snapshot_requests();
  // Total snapshot requests read so far.
  int snapshot_requests() const { return snapshot_requests_; }
  // Total admin requests of any type read so far.
  int admin_requests() const { return admin_requests_; }
  // Replies to the last snapshot requester.
  void reply(const AdminReply& reply);
  // Replies raw bytes to the last requester.
  void reply_raw(const std::string& body);

 private:
  zmq::context_t context_;
  zmq::socket_t xpub_;
  zmq::socket_t router_;
  std::string state_endpoint_;
  std::string admin_endpoint_;
  std::string last_requester_;
  bool subscribed_ = false;
  int snapshot_requests_ = 0;
  int admin_requests_ = 0;
};

}  // namespace roster::testing
