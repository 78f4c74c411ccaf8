// detection: simulated nodes with a short lease heartbeat, then stop one
// after the other (as if killed). For each, the overshoot is the time from
// the end of its lease (send time of its last acked heartbeat + granted
// lease) to a subscriber seeing it `suspect`. Using the send time makes the
// figure an upper bound: the broker received the heartbeat a little later.
#include <algorithm>
#include <variant>

#include "agent_channel.h"
#include "latency_stats.h"
#include "roster/clock.h"
#include "scenario.h"
#include "support/state_watcher.h"

namespace roster::bench {

namespace {

int64_t micros(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

}  // namespace

ScenarioResult run_detection(BenchContext& ctx) {
  using Clock = std::chrono::steady_clock;
  const BenchConfig& config = ctx.config;
  ScenarioResult r("detection");
  ServerProcess broker;
  const std::vector<std::string> args = {"--min-lease", "50ms",         "--max-lease",
                                         "10m",         "--dead-after", "1m"};
  if (!start_broker(ctx, args, &broker, &r)) return r;
  auto watcher = watch_state(broker, {{std::string(kTopicDelta)}}, &r);
  if (!watcher) return r;
  const size_t n = config.detection_nodes;
  const std::vector<std::string> ids = node_names("det-", n);
  AgentChannel channel(ctx.zmq, broker.endpoints.agents);
  std::vector<uint64_t> granted;
  const uint64_t inc = static_cast<uint64_t>(unix_now_ms());
  if (!join_nodes(channel, ids, inc, config.detection_lease_ms, &granted, &r)) return r;

  // Heartbeat every lease/3; node i stops at start + warmup + i * spacing.
  const auto interval = std::chrono::milliseconds(config.detection_lease_ms / 3);
  const auto start = Clock::now();
  const auto warmup =
      std::chrono::milliseconds(std::max<uint64_t>(1000, 3 * config.detection_lease_ms));
  std::vector<Clock::time_point> next_beat(n, start);
  std::vector<Clock::time_point> stop_at(n);
  std::vector<Clock::time_point> last_acked_sent(n, start);
  std::vector<uint64_t> seq(n, 1);
  std::vector<bool> stopped(n, false);
  for (size_t i = 0; i < n; ++i)
    stop_at[i] = start + warmup + static_cast<int64_t>(i) * config.detection_spacing;
  uint64_t refused = 0;
  std::string first_refusal;
  auto on_reply = [&](size_t tag, Clock::time_point sent, Clock::time_point,
                      const Decoded<AgentReply>& reply) {
    if (reply.ok() && std::holds_alternative<Ack>(reply.value())) {
      last_acked_sent[tag] = std::max(last_acked_sent[tag], sent);
      return;
    }
    ++refused;
    if (first_refusal.empty()) {
      first_refusal = reply.ok() ? std::string(to_string(std::get<ErrorReply>(reply.value()).code))
                                 : reply.error().message;
    }
  };
  size_t still_beating = n;
  while (still_beating > 0) {
    const auto now = Clock::now();
    for (size_t i = 0; i < n; ++i) {
      if (stopped[i] || now < next_beat[i]) continue;
      if (now >= stop_at[i]) {
        stopped[i] = true;
        --still_beating;
        continue;
      }
      if (channel.send(AgentRequest{HeartbeatRequest{ids[i], inc, ++seq[i]}}, i)) {
        next_beat[i] = now + interval;
      }
    }
    channel.receive(std::chrono::milliseconds(1), on_reply);
  }
  const auto last_lease_end = Clock::now() + std::chrono::milliseconds(config.detection_lease_ms);
  const auto deadline = last_lease_end + std::chrono::seconds(10);
  while (watcher->count_seen(NodeState::kSuspect) < n && Clock::now() < deadline) {
    channel.receive(std::chrono::milliseconds(10), on_reply);
  }
  channel.receive(std::chrono::milliseconds(0), on_reply);

  LatencySamples overshoot;
  size_t early = 0;  // suspected while still heartbeating
  size_t missed = 0;
  for (size_t i = 0; i < n; ++i) {
    auto seen = watcher->first_delta(ids[i], NodeState::kSuspect);
    if (!seen) {
      ++missed;
      continue;
    }
    if (seen->at < stop_at[i]) ++early;
    const auto lease_end = last_acked_sent[i] + std::chrono::milliseconds(granted[i]);
    overshoot.add_us(micros(seen->at - lease_end));
  }
  r.metrics["nodes"] = n;
  r.metrics["lease_ms"] = config.detection_lease_ms;
  r.metrics["granted_lease_ms"] = granted.empty() ? 0 : granted[0];
  r.metrics["heartbeat_interval_ms"] = interval.count();
  r.metrics["overshoot"] = overshoot.summary();
  r.metrics["suspected_while_beating"] = early;
  r.metrics["never_suspected"] = missed;
  r.metrics["refused_heartbeats"] = refused;
  r.row("nodes stopped (lease " + std::to_string(config.detection_lease_ms) + " ms)",
        std::to_string(n));
  r.row("suspect seen after lease end", quantiles_text(overshoot.summary(), {"p50", "p99", "max"}));
  if (early > 0) r.row("suspected while still heartbeating", std::to_string(early));
  if (missed > 0) r.fail(std::to_string(missed) + " stopped nodes never seen suspect");
  if (refused > 0) r.fail("heartbeats refused: " + first_refusal);
  if (!overshoot.empty()) {
    r.target("detection overshoot p99", overshoot.quantile_ms(0.99), 10, true, "ms");
  }
  r.metrics["broker_exit_status"] = broker.process->stop(std::chrono::seconds(5));
  return r;
}

}  // namespace roster::bench
