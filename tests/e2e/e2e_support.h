// Helpers of the end-to-end tests: rosterctl run as a process with --json,
// roster-agent processes, a roster::Subscriber that records everything it
// is told, and waiting for a condition to hold.
//
// Thread safety: RecordingSubscriber may be read from any thread; everything
// else is used by the test's thread only.
#pragma once

#include <sys/types.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "roster/protocol.h"
#include "roster/subscriber.h"
#include "support/admin.h"
#include "support/broker_process.h"
#include "support/process.h"

namespace roster::e2e {

// Sanitizer builds run every process 2-5x slower: "eventually" deadlines
// and timing slack are multiplied by this.
#ifdef ROSTER_E2E_SANITIZED
inline constexpr int kSlowdown = 4;
#else
inline constexpr int kSlowdown = 1;
#endif

// A deadline for something that should happen within `base` on an idle
// machine; generous for a loaded 2-core machine and sanitizers.
inline std::chrono::milliseconds eventually(std::chrono::milliseconds base) {
  return base * 3 * kSlowdown + std::chrono::seconds(5);
}

// The test kit's names every e2e test uses.
using testing::BrokerProcess;
using testing::Process;
using testing::wait_until;

// The beat interval of every e2e broker (start_broker()); subscribers are
// told the same.
inline constexpr uint64_t kBeatMs = 200;

// Starts roster-broker with `args` plus --beat-interval kBeatMs on
// ephemeral loopback ports (BrokerProcess::start()).
std::unique_ptr<BrokerProcess> start_broker(const std::vector<std::string>& args);

// Wall-clock Unix milliseconds, comparable with the broker's time_ms.
uint64_t unix_ms();

// ---------------------------------------------------------------------------
// rosterctl

// Output of `rosterctl --json ...`: the exit status, stdout parsed as JSON
// (null when it is not JSON) and stderr.
struct CtlJson {
  int exit_status = -1;
  nlohmann::json json;
  std::string err;
};

// Runs `rosterctl --admin A --state S --json args...` to completion.
CtlJson rosterctl_json(const testing::BrokerEndpoints& broker,
                       const std::vector<std::string>& args);

// The node's state from `rosterctl node --json`: "alive", "suspect", ...,
// "absent" when the broker answers unknown_node, "error" otherwise.
std::string ctl_node_state(const testing::BrokerEndpoints& broker, const std::string& node);

// ---------------------------------------------------------------------------
// roster-agent

// Starts bin("roster-agent") for `node` with `lease`, plus `extra` flags.
std::unique_ptr<testing::Process> start_agent(const std::string& agents_endpoint,
                                              const std::string& node, const std::string& lease,
                                              const std::vector<std::string>& extra = {});

// ---------------------------------------------------------------------------
// Admin channel: the test kit's (support/admin.h), one connection per call.

using testing::admin_call;
using testing::admin_snapshot;
using testing::admin_stats;

// ---------------------------------------------------------------------------
// A subscriber that records every callback.

// One resync as the subscriber reported it.
struct ResyncRecord {
  ResyncReason reason = ResyncReason::kInitial;
  uint64_t epoch = 0;
  uint64_t version = 0;
  bool complete = false;
  std::vector<std::string> nodes;
};

class RecordingSubscriber {
 public:
  // Starts a roster::Subscriber on its own thread against `broker`.
  // `receive_hwm` 0 keeps libzmq's default. Fails the test (and returns
  // nullptr) if the subscriber cannot be created.
  static std::unique_ptr<RecordingSubscriber> start(const testing::BrokerEndpoints& broker,
                                                    uint64_t beat_interval_ms, int receive_hwm = 0);
  // The same, following redundant `brokers` (SubscriberOptions::brokers)
  // in that order.
  static std::unique_ptr<RecordingSubscriber> start(
      const std::vector<testing::BrokerEndpoints>& brokers, uint64_t beat_interval_ms);
  ~RecordingSubscriber();

  View view() const { return subscriber_->view(); }
  bool synced() const { return subscriber_->synced(); }
  bool stale() const { return subscriber_->stale(); }
  SubscriberStats stats() const { return subscriber_->stats(); }
  BrokerChannels following() const { return subscriber_->following(); }

  std::vector<NodeChange> changes() const;
  std::vector<ResyncRecord> resyncs() const;
  std::vector<bool> stale_events() const;
  // The states `node` went through, in order (kRemoved when it left the view).
  std::vector<NodeState> states_of(const std::string& node) const;
  // The first change that took (node, inc) out of the view; nullopt if none.
  std::optional<NodeChange> removal_of(const std::string& node, uint64_t inc) const;

 private:
  RecordingSubscriber() = default;
  static std::unique_ptr<RecordingSubscriber> start_with(SubscriberOptions options);
  mutable std::mutex mutex_;
  std::vector<NodeChange> changes_;
  std::vector<ResyncRecord> resyncs_;
  std::vector<bool> stale_;
  std::unique_ptr<Subscriber> subscriber_;
};

// Nodes of `view` as a snapshot-like list, for comparing with an admin
// snapshot; empty when `view` has no base.
std::vector<NodeRecord> view_nodes(const View& view);

// True when `view` holds exactly `snapshot` (epoch, version and records).
bool view_matches(const View& view, const Snapshot& snapshot);

// True when exactly `nodes` are alive in `snapshot` (false without one).
bool all_alive(const std::optional<Snapshot>& snapshot, const std::set<std::string>& nodes);

// Waits up to `timeout` for an admin snapshot of the broker at
// `admin_endpoint` that is `settled` and that `subscriber`'s view matches
// (view_matches()); returns it, or nullopt.
std::optional<Snapshot> wait_in_step(const std::string& admin_endpoint,
                                     const RecordingSubscriber& subscriber,
                                     const std::function<bool(const Snapshot&)>& settled,
                                     std::chrono::milliseconds timeout);

// Names of `states`, e.g. "alive,left,removed", for assertion messages.
std::string describe(const std::vector<NodeState>& states);

// ---------------------------------------------------------------------------

// True if `condition` holds at every check for `duration` (polled), false
// at the first check where it does not.
bool holds_for(const std::function<bool()>& condition, std::chrono::milliseconds duration,
               std::chrono::milliseconds poll = std::chrono::milliseconds(20));

}  // namespace roster::e2e
