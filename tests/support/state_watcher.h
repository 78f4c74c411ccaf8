// A controller's view of the state channel for tests: a SUB socket on its
// own thread that records every node record of every delta (and snapshot)
// with the time it arrived, so tests can ask "when was node X first seen
// left?".
//
// Thread safety: all member functions may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "roster/protocol.h"

namespace roster::testing {

class StateWatcher {
 public:
  using Clock = std::chrono::steady_clock;

  // One record as seen by the subscriber.
  struct Seen {
    NodeRecord record;
    Clock::time_point at;
    bool from_snapshot = false;
  };

  // Subscribes to everything on `publish_endpoint`.
  explicit StateWatcher(const std::string& publish_endpoint);
  ~StateWatcher();
  StateWatcher(const StateWatcher&) = delete;
  StateWatcher& operator=(const StateWatcher&) = delete;

  // Waits until any message arrived (the subscription is in place).
  bool wait_subscribed(std::chrono::milliseconds timeout);

  // Every record of `node` seen in deltas (and snapshots), in order.
  std::vector<Seen> seen(const std::string& node) const;

  // The first delta record of `node` in `state` matching `also` (if given).
  std::optional<Seen> first_delta(const std::string& node, NodeState state,
                                  const std::function<bool(const NodeRecord&)>& also = {}) const;

  // Waits for first_delta(node, state, also).
  std::optional<Seen> wait_delta(const std::string& node, NodeState state,
                                 std::chrono::milliseconds timeout,
                                 const std::function<bool(const NodeRecord&)>& also = {}) const;

  // Bodies the codec refused (must stay 0).
  uint64_t undecodable() const { return undecodable_.load(); }

 private:
  void run(std::string endpoint);

  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> messages_{0};
  std::atomic<uint64_t> undecodable_{0};
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
  std::thread thread_;
};

}  // namespace roster::testing
