// A controller's view of the state channel for tests and the load
// benchmark: a SUB socket on its own thread that records every node record
// of every delta (and snapshot) with the time it arrived, so callers can
// ask "when was node X first seen left?".
//
// Thread safety: all member functions may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "roster/protocol.h"

namespace roster::testing {

class StateWatcher {
 public:
  using Clock = std::chrono::steady_clock;

  // One record as received.
  struct Seen {
    NodeRecord record;
    Clock::time_point at;
    bool from_snapshot = false;
  };

  // One roster.snapshot as received (Options::keep_raw_snapshots).
  // Arrivals with the same bytes as the one before share one body: a
  // broker whose view does not change sends the same snapshot again and
  // again, and a benchmark's watcher must not grow by 10 MiB per arrival.
  struct SnapshotArrival {
    std::shared_ptr<const std::string> body;
    int64_t received_unix_ms = 0;
    Clock::time_point received;
  };

  struct Options {
    // Topics subscribed to, besides roster.beat (which shows that the
    // subscription is live).
    std::vector<std::string> topics = {std::string(kTopicDelta), std::string(kTopicSnapshot)};
    // Keep snapshots as received, for take_snapshots(), instead of decoding
    // them into seen(): the receiving thread then decodes nothing but
    // deltas (a benchmark's timing is not skewed by large snapshots).
    bool keep_raw_snapshots = false;
    // Run the receiving thread, and the ZeroMQ I/O thread it starts, at
    // nice 19: for a benchmark whose watcher stands in for a controller on
    // another host, so that it takes CPU only when the processes measured
    // leave some.
    bool low_priority = false;
  };

  // Connects a SUB to `endpoint` (never dropping: no receive HWM) and
  // starts the receiving thread.
  explicit StateWatcher(const std::string& endpoint, Options options);
  explicit StateWatcher(const std::string& endpoint) : StateWatcher(endpoint, Options{}) {}
  // Stops and joins the receiving thread.
  ~StateWatcher();
  StateWatcher(const StateWatcher&) = delete;
  StateWatcher& operator=(const StateWatcher&) = delete;

  // Waits up to `timeout` for the first message (a beat at the latest), so
  // that the subscription is in place.
  bool wait_live(std::chrono::milliseconds timeout) const;

  // Every record of `node` seen in deltas (and decoded snapshots), in order.
  std::vector<Seen> seen(const std::string& node) const;

  // The first delta record of `node` in `state` matching `also` (if given).
  // Without `also` a lookup, not a scan.
  std::optional<Seen> first_delta(const std::string& node, NodeState state,
                                  const std::function<bool(const NodeRecord&)>& also = {}) const;

  // Waits up to `timeout` for first_delta(node, state, also).
  std::optional<Seen> wait_delta(const std::string& node, NodeState state,
                                 std::chrono::milliseconds timeout,
                                 const std::function<bool(const NodeRecord&)>& also = {}) const;

  // How many nodes have been seen in `state` in a delta.
  size_t count_seen(NodeState state) const;

  // The snapshots received so far (moved out); empty unless
  // Options::keep_raw_snapshots.
  std::vector<SnapshotArrival> take_snapshots();

  // Deltas decoded so far.
  uint64_t deltas() const { return deltas_.load(); }
  // Bodies the codec refused, plus socket errors (must stay 0).
  uint64_t undecodable() const { return undecodable_.load(); }

 private:
  void run(std::string endpoint, Options options);
  void on_message(std::string_view topic, std::string_view body, bool keep_raw_snapshots);

  std::atomic<bool> stop_{false};
  // The body of the last kept snapshot (receiving thread only).
  std::shared_ptr<const std::string> last_raw_snapshot_;
  std::atomic<bool> live_{false};
  std::atomic<uint64_t> deltas_{0};
  std::atomic<uint64_t> undecodable_{0};
  mutable std::mutex mu_;
  std::vector<Seen> seen_;
  // Per state: node -> index in seen_ of its first delta record.
  std::array<std::unordered_map<std::string, size_t>, kNodeStateCount> first_delta_;
  std::vector<SnapshotArrival> snapshots_;
  std::thread thread_;
};

}  // namespace roster::testing
