#include "metrics.h"

#include <string>

namespace roster::broker {

namespace {

// Snapshot encodings: from 100 us (a few nodes) to 5 s (far past 100k).
const prometheus::Histogram::BucketBoundaries kEncodeBounds = {
    0.0001, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

prometheus::Gauge* gauge(prometheus::Registry& registry, const std::string& name,
                         const std::string& help) {
  return &prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add({});
}

prometheus::Counter* counter(prometheus::Registry& registry, const std::string& name,
                             const std::string& help) {
  return &prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add({});
}

prometheus::Histogram::BucketBoundaries latency_bounds() {
  return {LatencyCounts::kBounds.begin(), LatencyCounts::kBounds.end()};
}

}  // namespace

void BrokerMetrics::FedCounter::feed(uint64_t count) {
  if (count <= last) return;
  counter->Increment(static_cast<double>(count - last));
  last = count;
}

void BrokerMetrics::FedHistogram::feed(const LatencyCounts& counts) {
  std::vector<double> increments(counts.counts.size());
  bool any = false;
  for (size_t i = 0; i < counts.counts.size(); ++i) {
    increments[i] = static_cast<double>(counts.counts[i] - last.counts[i]);
    any = any || counts.counts[i] != last.counts[i];
  }
  if (!any) return;
  histogram->ObserveMultiple(increments, counts.sum_seconds - last.sum_seconds);
  last = counts;
}

BrokerMetrics::BrokerMetrics(prometheus::Registry& registry) {
  auto& nodes =
      prometheus::BuildGauge().Name("roster_nodes").Help("Nodes held, by state").Register(registry);
  for (size_t i = 0; i < kNodeStateCount; ++i) {
    auto state = static_cast<NodeState>(i);
    if (state == NodeState::kRemoved) continue;  // never held
    nodes_[i] = &nodes.Add({{"state", std::string(to_string(state))}});
  }
  tombstones_ = gauge(registry, "roster_tombstones", "Tombstones of forgotten incarnations held");
  epoch_ =
      gauge(registry, "roster_state_epoch", "Epoch of the membership state (Unix ms at start)");
  version_ = gauge(registry, "roster_state_version", "Version of the membership state");
  complete_ = gauge(registry, "roster_complete",
                    "1 once warm-up is over (snapshots say complete: true), else 0");
  subscribers_ =
      gauge(registry, "roster_subscribers_connected", "Connections to the state channel now");

  joins_.counter = counter(registry, "roster_joins_total", "Join requests acknowledged");
  leaves_.counter = counter(registry, "roster_leaves_total", "Leave requests acknowledged");
  expiries_.counter =
      counter(registry, "roster_expiries_total", "Leases expired (alive to suspect)");
  removals_.counter = counter(registry, "roster_removals_total", "Operator removals done");
  forgotten_.counter = counter(registry, "roster_forgotten_total",
                               "Records forgotten (dead, left or removed), removals included");

  auto& requests = prometheus::BuildCounter()
                       .Name("roster_requests_total")
                       .Help("Requests read, by channel and type")
                       .Register(registry);
  for (size_t i = 0; i < kAgentRequestTypes; ++i) {
    agent_requests_[i].counter =
        &requests.Add({{"channel", "agent"}, {"type", kAgentRequestNames[i]}});
  }
  for (size_t i = 0; i < kAdminRequestTypes; ++i) {
    admin_requests_[i].counter =
        &requests.Add({{"channel", "admin"}, {"type", kAdminRequestNames[i]}});
  }
  auto& errors = prometheus::BuildCounter()
                     .Name("roster_errors_total")
                     .Help("Error replies sent, by code")
                     .Register(registry);
  for (size_t i = 0; i < kErrorCodeCount; ++i) {
    auto code = static_cast<ErrorCode>(i);
    if (code == ErrorCode::kUnrecognized) continue;  // never sent
    errors_[i].counter = &errors.Add({{"code", std::string(to_string(code))}});
  }
  busy_rounds_.counter = counter(registry, "roster_busy_rounds_total",
                                 "Event-loop rounds that hit the per-round read bound");
  accept_failures_.counter =
      counter(registry, "roster_accept_failures_total",
              "Connections libzmq could not accept (e.g. out of descriptors)");
  stalls_.counter = counter(registry, "roster_stalls_total",
                            "Stall protection engaged: broker pauses that extended every lease");
  stalled_seconds_ = counter(registry, "roster_stalled_seconds_total",
                             "Total time leases were extended by stall protection");
  tombstones_evicted_.counter = counter(registry, "roster_tombstones_evicted_total",
                                        "Tombstones evicted at the cap before their ttl");
  deltas_.counter = counter(registry, "roster_deltas_published_total", "Deltas published");
  snapshots_.counter = counter(registry, "roster_snapshots_published_total",
                               "Snapshots published on the state channel");
  delta_bytes_.counter =
      counter(registry, "roster_delta_bytes_total", "Bytes of delta bodies published");
  snapshot_bytes_.counter = counter(registry, "roster_snapshot_bytes_total",
                                    "Bytes of snapshot bodies published on the state channel");

  ack_latency_.histogram = &prometheus::BuildHistogram()
                                .Name("roster_ack_latency_seconds")
                                .Help("Agent request received to reply sent, in the broker")
                                .Register(registry)
                                .Add({}, latency_bounds());
  round_time_.histogram = &prometheus::BuildHistogram()
                               .Name("roster_loop_round_seconds")
                               .Help("Work of one event-loop round (poll wait excluded)")
                               .Register(registry)
                               .Add({}, latency_bounds());
  snapshot_encode_ = &prometheus::BuildHistogram()
                          .Name("roster_snapshot_encode_seconds")
                          .Help("Time to encode one snapshot")
                          .Register(registry)
                          .Add({}, kEncodeBounds);
}

void BrokerMetrics::update(const LoopReport& report, const PublisherCounters& published) {
  for (size_t i = 0; i < kNodeStateCount; ++i) {
    if (nodes_[i] != nullptr) nodes_[i]->Set(static_cast<double>(report.core.by_state[i]));
  }
  tombstones_->Set(static_cast<double>(report.core.tombstones));
  epoch_->Set(static_cast<double>(report.epoch));
  version_->Set(static_cast<double>(report.version));
  complete_->Set(report.complete ? 1 : 0);
  const LoopCounters& c = report.counters;
  subscribers_->Set(static_cast<double>(subscribers_connected(c)));
  joins_.feed(c.joins);
  leaves_.feed(c.leaves);
  expiries_.feed(c.expiries);
  removals_.feed(c.removals);
  forgotten_.feed(c.forgotten);
  for (size_t i = 0; i < kAgentRequestTypes; ++i) agent_requests_[i].feed(c.agent_by_type[i]);
  for (size_t i = 0; i < kAdminRequestTypes; ++i) admin_requests_[i].feed(c.admin_by_type[i]);
  for (size_t i = 0; i < kErrorCodeCount; ++i) {
    if (errors_[i].counter != nullptr) errors_[i].feed(c.errors[i]);
  }
  busy_rounds_.feed(c.busy_rounds);
  accept_failures_.feed(c.accept_failures);
  stalls_.feed(report.core.stalls);
  if (report.core.stalled_ms > stalled_ms_) {
    stalled_seconds_->Increment(static_cast<double>(report.core.stalled_ms - stalled_ms_) / 1000);
    stalled_ms_ = report.core.stalled_ms;
  }
  tombstones_evicted_.feed(report.core.tombstones_evicted);
  deltas_.feed(published.deltas.load(std::memory_order_relaxed));
  snapshots_.feed(published.snapshots.load(std::memory_order_relaxed));
  delta_bytes_.feed(published.delta_bytes.load(std::memory_order_relaxed));
  snapshot_bytes_.feed(published.snapshot_bytes.load(std::memory_order_relaxed));
  ack_latency_.feed(c.ack_latency);
  round_time_.feed(c.round_time);
}

void BrokerMetrics::snapshot_encoded(double seconds) {
  snapshot_encode_->Observe(seconds);
}

}  // namespace roster::broker
