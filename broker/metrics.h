// The broker's Prometheus metrics (the list is in docs/OPERATIONS.md,
// "Metrics"). The event loop keeps counting in its own plain counters
// (LoopCounters, which also answer `rosterctl stats`); update() carries
// what they gained since the last call into the registry, so both views
// come from one count and the hot path takes no atomic operation.
//
// Thread safety: update() from the loop's thread only; snapshot_encoded()
// from any thread; the registry may be collected from any thread.
#pragma once

#include <cstdint>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "counters.h"
#include "publisher.h"

namespace roster::broker {

class BrokerMetrics {
 public:
  // Registers every metric in `registry`, which must outlive this object.
  explicit BrokerMetrics(prometheus::Registry& registry);
  BrokerMetrics(const BrokerMetrics&) = delete;
  BrokerMetrics& operator=(const BrokerMetrics&) = delete;

  // Sets the gauges from `report` and `published` and adds to each counter
  // and histogram what it gained since the previous call.
  void update(const LoopReport& report, const PublisherCounters& published);

  // One snapshot encoding took `seconds` (PublisherOptions::snapshot_encoded).
  void snapshot_encoded(double seconds);

 private:
  // A counter fed from a monotonic count: adds what the count gained.
  struct FedCounter {
    prometheus::Counter* counter = nullptr;
    uint64_t last = 0;
    void feed(uint64_t count);
  };
  // A histogram fed from LatencyCounts the same way.
  struct FedHistogram {
    prometheus::Histogram* histogram = nullptr;
    LatencyCounts last;
    void feed(const LatencyCounts& counts);
  };

  prometheus::Gauge* nodes_[kNodeStateCount] = {};
  prometheus::Gauge* tombstones_;
  prometheus::Gauge* epoch_;
  prometheus::Gauge* version_;
  prometheus::Gauge* complete_;
  prometheus::Gauge* subscribers_;
  FedCounter joins_, leaves_, expiries_, removals_, forgotten_;
  FedCounter agent_requests_[kAgentRequestTypes];
  FedCounter admin_requests_[kAdminRequestTypes];
  FedCounter errors_[kErrorCodeCount];
  FedCounter busy_rounds_, accept_failures_, stalls_, tombstones_evicted_;
  prometheus::Counter* stalled_seconds_;
  uint64_t stalled_ms_ = 0;
  FedCounter deltas_, snapshots_, delta_bytes_, snapshot_bytes_;
  FedHistogram ack_latency_, round_time_;
  prometheus::Histogram* snapshot_encode_;
};

}  // namespace roster::broker
