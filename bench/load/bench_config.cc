#include "bench_config.h"

#include <string_view>
#include <utility>

namespace roster::bench {

namespace {

// Every mode with its name on the command line and in the results.
constexpr std::pair<Mode, std::string_view> kModeNames[] = {
    {Mode::kSmoke, "smoke"},
    {Mode::kQuick, "quick"},
    {Mode::kFull, "full"},
};

}  // namespace

std::string to_string(Mode mode) {
  for (const auto& [named, name] : kModeNames) {
    if (named == mode) return std::string(name);
  }
  return "unknown";
}

std::optional<Mode> mode_from_string(const std::string& text) {
  for (const auto& [mode, name] : kModeNames) {
    if (name == text) return mode;
  }
  return std::nullopt;
}

BenchConfig config_for(Mode mode) {
  BenchConfig c;
  c.mode = mode;
  if (mode == Mode::kFull) return c;
  if (mode == Mode::kQuick) {
    c.ingest_nodes = 20'000;
    c.saturate_for = Millis(3'000);
    c.paced_for = Millis(3'000);
    c.detection_nodes = 60;
    c.leave_nodes = 150;
    c.snapshot_nodes = 20'000;
    c.snapshot_for = Millis(3'000);
    c.memory_nodes = 20'000;
    c.churn_rounds = 3;
    c.real_connections = 1'000;
    c.failover_nodes = 200;
    c.failover_kills = 10;
    c.pair_agents = 20;
    c.pair_for = Millis(5'000);
    c.connections_for = Millis(4'000);
    c.scale_nodes = 100'000;
    c.scale_for = Millis(10'000);
    return c;
  }
  c.ingest_nodes = 2'000;
  c.ingest_connections = 2;
  c.ingest_window = 64;
  c.saturate_for = Millis(700);
  c.paced_for = Millis(700);
  c.detection_nodes = 10;
  c.leave_nodes = 20;
  c.snapshot_nodes = 2'000;
  c.snapshot_rate = 2'000;
  c.snapshot_for = Millis(1'000);
  c.snapshot_interval = Millis(250);
  c.admin_snapshot_every = Millis(250);
  c.memory_nodes = 2'000;
  c.churn_rounds = 2;
  c.real_connections = 100;
  c.failover_nodes = 50;
  c.failover_kills = 3;
  c.pair_agents = 4;
  c.pair_for = Millis(1'000);
  c.connections_for = Millis(1'500);
  c.scale_nodes = 10'000;
  c.scale_lease_ms = 1'500;
  c.scale_for = Millis(2'000);
  return c;
}

}  // namespace roster::bench
