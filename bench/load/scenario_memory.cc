// memory: broker RSS (VmRSS) per tracked node, and RSS after repeated
// rounds of joins, leaves and forgetting, which must come back to where the
// first round left it (no growth) and near the baseline.
#include <optional>
#include <string>
#include <thread>
#include <variant>

#include "admin_client.h"
#include "load_generator.h"
#include "roster/clock.h"
#include "scenario.h"

namespace roster::bench {

namespace {

// The broker's stats; nullopt with *error set when there are none.
std::optional<Stats> stats_of(ctl::AdminClient& admin, std::string* error) {
  ctl::AdminCall call = admin.call(StatsQuery{}, 10'000);
  if (!call.reply) {
    *error = call.error;
    return std::nullopt;
  }
  if (const auto* stats = std::get_if<Stats>(&*call.reply)) return *stats;
  *error = "stats request answered with something else";
  return std::nullopt;
}

// Waits up to `timeout` until the broker tracks `nodes` nodes and holds no
// tombstones (when its stats report them). Returns false on timeout or
// failure (*error says which).
bool wait_for_nodes(ctl::AdminClient& admin, uint64_t nodes, std::chrono::milliseconds timeout,
                    std::string* error) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto stats = stats_of(admin, error);
    if (!stats) return false;
    auto tombstones = stats->counters.find("tombstones");
    const bool no_tombstones =
        nodes > 0 || tombstones == stats->counters.end() || tombstones->second == 0;
    if (stats->nodes == nodes && no_tombstones) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

}  // namespace

ScenarioResult run_memory(BenchContext& ctx) {
  const BenchConfig& config = ctx.config;
  ScenarioResult r("memory");
  ServerProcess broker;
  if (!start_broker(ctx,
                    {"--max-lease", "10m", "--forget-left-after", "100ms", "--tombstone-ttl",
                     "300ms", "--snapshot-interval", "0"},
                    &broker, &r))
    return r;
  const pid_t pid = broker.process->pid();
  ctl::AdminClient admin(broker.endpoints.admin);
  std::string admin_error;
  if (!wait_for_nodes(admin, 0, std::chrono::seconds(10), &admin_error)) {
    r.fail("stats: " + admin_error);
    return r;
  }
  const uint64_t baseline = rss_kib(pid);
  const size_t n = config.memory_nodes;
  std::vector<uint64_t> joined_kib;
  std::vector<uint64_t> forgotten_kib;
  for (size_t round = 0; round < config.churn_rounds && r.ran; ++round) {
    LoadGenerator gen(ctx.zmq, broker.endpoints.agents, config.ingest_connections,
                      "mem" + std::to_string(round) + "-", n, static_cast<uint64_t>(unix_now_ms()));
    RunPlan plan;
    plan.window = config.ingest_window;
    plan.one_pass = true;
    plan.kind = RequestKind::kJoin;
    RunOutcome joins = gen.run(plan);
    if (!joins.clean() || !wait_for_nodes(admin, n, std::chrono::seconds(30), &admin_error)) {
      r.fail("round " + std::to_string(round + 1) + " joins: " + joins.first_error + admin_error);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let the publisher catch up
    joined_kib.push_back(rss_kib(pid));
    plan.kind = RequestKind::kLeave;
    RunOutcome leaves = gen.run(plan);
    if (!leaves.clean() || !wait_for_nodes(admin, 0, std::chrono::seconds(60), &admin_error)) {
      r.fail("round " + std::to_string(round + 1) + " leaves/forgetting: " + leaves.first_error +
             admin_error);
      break;
    }
    // Tombstones expire after --tombstone-ttl; give the sweep time.
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    forgotten_kib.push_back(rss_kib(pid));
  }
  r.metrics["nodes"] = n;
  r.metrics["rounds"] = config.churn_rounds;
  r.metrics["baseline_kib"] = baseline;
  r.metrics["joined_kib"] = joined_kib;
  r.metrics["after_forgetting_kib"] = forgotten_kib;
  if (!joined_kib.empty()) {
    const double per_node = static_cast<double>(joined_kib[0] - std::min(joined_kib[0], baseline)) *
                            1024.0 / static_cast<double>(n);
    r.metrics["bytes_per_node"] = per_node;
    r.row("RSS baseline / with " + std::to_string(n) + " nodes",
          fixed(baseline / 1024.0, 1) + " / " + fixed(joined_kib[0] / 1024.0, 1) + " MiB");
    r.row("RSS per tracked node", fixed(per_node, 0) + " B");
    r.target("RSS per tracked node", per_node, 512.0, true, "B");
  }
  if (forgotten_kib.size() == config.churn_rounds && !forgotten_kib.empty()) {
    std::string after;
    for (uint64_t kib : forgotten_kib)
      after += (after.empty() ? "" : ", ") + fixed(kib / 1024.0, 1);
    r.row("RSS after each churn round", after + " MiB");
    const double first = static_cast<double>(forgotten_kib.front());
    const double last = static_cast<double>(forgotten_kib.back());
    const double peak = static_cast<double>(joined_kib[0]) - static_cast<double>(baseline);
    const double growth_pct = peak > 0 ? (last - first) / peak * 100.0 : 0;
    const double above_baseline_pct = peak > 0 ? (last - baseline) / peak * 100.0 : 0;
    r.metrics["growth_first_to_last_round_pct_of_peak"] = growth_pct;
    r.metrics["above_baseline_after_last_round_pct_of_peak"] = above_baseline_pct;
    r.row("growth round 1 -> " + std::to_string(forgotten_kib.size()) + " (% of 1 round's peak)",
          fixed(growth_pct, 1) + " %");
    r.row("above baseline after churn (% of peak)", fixed(above_baseline_pct, 1) + " %");
    r.target("RSS growth across churn rounds", growth_pct, 5.0, true, "% of peak");
  }
  r.metrics["broker_exit_status"] = broker.process->stop(std::chrono::seconds(5));
  return r;
}

}  // namespace roster::bench
