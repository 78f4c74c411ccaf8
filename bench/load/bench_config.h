// Sizes and durations of every scenario, per mode: smoke (seconds, for
// scripts/test.sh), quick (under 2 minutes) and full (the figures that the
// targets in docs/PERFORMANCE.md are about).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace roster::bench {

enum class Mode { kSmoke, kQuick, kFull };

// "smoke", "quick" or "full".
std::string to_string(Mode mode);
std::optional<Mode> mode_from_string(const std::string& text);

using Millis = std::chrono::milliseconds;

// Everything a scenario needs to know; plain values.
struct BenchConfig {
  Mode mode = Mode::kQuick;
  std::string broker_path;  // roster-broker under test
  std::string self_path;    // this executable, started as the ceiling ROUTER
  std::string work_dir;     // ready files and child logs

  // ceiling and ingest: simulated nodes over a few connections, `window`
  // requests in flight per connection.
  size_t ingest_nodes = 100'000;
  size_t ingest_connections = 4;
  size_t ingest_window = 256;
  Millis saturate_for{10'000};
  Millis paced_for{10'000};

  // detection: nodes with a short lease stop heartbeating one after the
  // other, `detection_spacing` apart (so the broker's timer phase is sampled).
  size_t detection_nodes = 200;
  uint64_t detection_lease_ms = 300;
  Millis detection_spacing{7};

  // leave propagation: one leave every `leave_spacing`.
  size_t leave_nodes = 500;
  Millis leave_spacing{4};

  // snapshot: `snapshot_nodes` tracked, heartbeats at `snapshot_rate` per
  // second while the broker publishes a snapshot every
  // `snapshot_interval` and the bench asks the admin channel for one
  // every `admin_snapshot_every`.
  size_t snapshot_nodes = 100'000;
  double snapshot_rate = 10'000;
  Millis snapshot_for{10'000};
  Millis snapshot_interval{500};
  Millis admin_snapshot_every{500};

  // memory: RSS per node at `memory_nodes`, then `churn_rounds` rounds of
  // joins, leaves and forgetting.
  size_t memory_nodes = 100'000;
  size_t churn_rounds = 5;

  // connections: real DEALER connections, one node each, heartbeating at
  // 1 Hz for `connections_for`.
  size_t real_connections = 10'000;
  Millis connections_for{20'000};

  // failover: a redundant pair, `failover_nodes` nodes on both, one
  // roster::Subscriber following the pair; the followed broker is killed
  // `failover_kills` times (and restarted each time).
  size_t failover_nodes = 1'000;
  size_t failover_kills = 20;

  // pair_cost: `pair_agents` roster-agent processes beating every
  // `pair_interval`, measured for `pair_for` with one broker, then with two.
  size_t pair_agents = 50;
  Millis pair_interval{100};
  Millis pair_for{15'000};

  // scale: `scale_nodes` nodes over `scale_connections` connections join
  // with a `scale_lease_ms` lease, then each heartbeats every lease / 3 (as
  // roster-agent does) for `scale_for` after the last join ack.
  size_t scale_nodes = 1'000'000;
  size_t scale_connections = 8;
  uint64_t scale_lease_ms = 10'000;
  Millis scale_for{60'000};
};

// The sizes for `mode` (paths are left empty).
BenchConfig config_for(Mode mode);

}  // namespace roster::bench
