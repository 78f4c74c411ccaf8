// leave propagation: nodes leave one every `leave_spacing`; the figure is
// the time from sending a node's leave to a subscriber seeing it `left`.
#include <algorithm>
#include <variant>

#include "agent_channel.h"
#include "latency_stats.h"
#include "roster/clock.h"
#include "scenario.h"
#include "support/state_watcher.h"

namespace roster::bench {

ScenarioResult run_leave(BenchContext& ctx) {
  using Clock = std::chrono::steady_clock;
  const BenchConfig& config = ctx.config;
  ScenarioResult r("leave");
  ServerProcess broker;
  if (!start_broker(ctx, {"--forget-left-after", "1m"}, &broker, &r)) return r;
  auto watcher = watch_state(broker, {{std::string(kTopicDelta)}}, &r);
  if (!watcher) return r;
  const size_t n = config.leave_nodes;
  const std::vector<std::string> ids = node_names("leave-", n);
  AgentChannel channel(ctx.zmq, broker.endpoints.agents);
  std::vector<uint64_t> granted;
  const uint64_t inc = static_cast<uint64_t>(unix_now_ms());
  if (!join_nodes(channel, ids, inc, 60'000, &granted, &r)) return r;

  std::vector<Clock::time_point> sent_at(n);
  uint64_t refused = 0;
  auto on_reply = [&](size_t, Clock::time_point, Clock::time_point,
                      const Decoded<AgentReply>& reply) {
    if (!reply.ok() || !std::holds_alternative<Ack>(reply.value())) ++refused;
  };
  const auto start = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    const Clock::time_point due = start + static_cast<int64_t>(i) * config.leave_spacing;
    while (Clock::now() < due) {
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(due - Clock::now());
      channel.receive(std::max(wait, std::chrono::milliseconds(0)), on_reply);
    }
    sent_at[i] = Clock::now();
    while (!channel.send(AgentRequest{LeaveRequest{ids[i], inc, 2, "bench"}}, i)) {
      channel.receive(std::chrono::milliseconds(1), on_reply);
    }
  }
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while ((watcher->count_seen(NodeState::kLeft) < n || channel.in_flight() > 0) &&
         Clock::now() < deadline) {
    channel.receive(std::chrono::milliseconds(10), on_reply);
  }

  LatencySamples propagation;
  size_t missed = 0;
  for (size_t i = 0; i < n; ++i) {
    auto seen = watcher->first_delta(ids[i], NodeState::kLeft);
    if (!seen) {
      ++missed;
      continue;
    }
    propagation.add_us(
        std::chrono::duration_cast<std::chrono::microseconds>(seen->at - sent_at[i]).count());
  }
  r.metrics["nodes"] = n;
  r.metrics["spacing_ms"] = config.leave_spacing.count();
  r.metrics["propagation"] = propagation.summary();
  r.metrics["refused_leaves"] = refused;
  r.metrics["never_seen_left"] = missed;
  r.row("leaves (one every " + std::to_string(config.leave_spacing.count()) + " ms)",
        std::to_string(n));
  r.row("leave sent -> subscriber sees left",
        quantiles_text(propagation.summary(), {"p50", "p99", "max"}));
  if (missed > 0) r.fail(std::to_string(missed) + " leaves never seen on the state channel");
  if (refused > 0) r.fail(std::to_string(refused) + " leaves refused");
  if (!propagation.empty()) {
    r.target("leave propagation p99", propagation.quantile_ms(0.99), 5, true, "ms");
  }
  r.metrics["broker_exit_status"] = broker.process->stop(std::chrono::seconds(5));
  return r;
}

}  // namespace roster::bench
