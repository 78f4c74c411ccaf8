// A subscriber on the broker's state channel that records, in its own
// thread, when each (node, state) first appeared in a delta, and keeps the
// raw snapshots it receives (decoded later, off the measured path).
//
// Thread safety: the public methods may be called from any thread; the
// receiving thread is private.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <zmq.hpp>

#include "roster/protocol.h"

namespace roster::bench {

class StateWatcher {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // One roster.snapshot as received.
  struct SnapshotArrival {
    std::string body;
    int64_t received_unix_ms = 0;
    TimePoint received;
  };

  // Connects a SUB to `endpoint`, subscribes to each of `topics` (plus
  // roster.beat, to know when the subscription is live) and starts the
  // receiving thread.
  StateWatcher(zmq::context_t& ctx, const std::string& endpoint,
               const std::vector<std::string>& topics);
  // Stops and joins the receiving thread.
  ~StateWatcher();
  StateWatcher(const StateWatcher&) = delete;
  StateWatcher& operator=(const StateWatcher&) = delete;

  // Waits up to `timeout` for the first message (a beat at the latest).
  bool wait_live(std::chrono::milliseconds timeout) const;
  // When `node` was first seen in `state` in a delta, if it was.
  std::optional<TimePoint> first_seen(const std::string& node, NodeState state) const;
  // How many nodes have been seen in `state`.
  size_t count_seen(NodeState state) const;
  // The snapshots received so far (moved out).
  std::vector<SnapshotArrival> take_snapshots();
  uint64_t deltas() const { return deltas_.load(); }
  uint64_t decode_errors() const { return decode_errors_.load(); }

 private:
  void receive_loop(zmq::context_t* ctx, std::string endpoint, std::vector<std::string> topics);
  void on_message(const std::string& topic, const zmq::message_t& body);

  std::atomic<bool> stop_{false};
  std::atomic<bool> live_{false};
  std::atomic<uint64_t> deltas_{0};
  std::atomic<uint64_t> decode_errors_{0};
  mutable std::mutex mu_;
  std::array<std::unordered_map<std::string, TimePoint>, kNodeStateCount> first_seen_;
  std::vector<SnapshotArrival> snapshots_;
  std::thread thread_;
};

}  // namespace roster::bench
