// connections: many real DEALER connections, one node each, joining and
// then heartbeating at 1 Hz. They are spread over `roster-bench swarm`
// child processes (agent_swarm.h), since one process runs out of file
// descriptors first; the broker's RSS and open descriptors are sampled
// meanwhile.
#include <algorithm>
#include <fstream>
#include <thread>

#include "agent_swarm.h"
#include "roster/clock.h"
#include "scenario.h"

namespace roster::bench {

namespace {
// Connections per swarm process: two descriptors each stays well under a
// 20k open-file limit.
constexpr size_t kConnectionsPerSwarm = 5'000;
}  // namespace

ScenarioResult run_connections(BenchContext& ctx) {
  const BenchConfig& config = ctx.config;
  ScenarioResult r("connections");
  ServerProcess broker;
  if (!start_broker(ctx, {"--max-lease", "10m"}, &broker, &r)) return r;
  const size_t n = config.real_connections;
  const std::string inc = std::to_string(unix_now_ms());
  std::vector<std::unique_ptr<Process>> swarms;
  std::vector<std::string> outputs;
  for (size_t first = 0; first < n; first += kConnectionsPerSwarm) {
    const size_t count = std::min(kConnectionsPerSwarm, n - first);
    const std::string name = config.work_dir + "/swarm-" + std::to_string(first);
    outputs.push_back(name + ".json");
    testing::ProcessOptions options;
    options.log_path = name + ".log";
    std::string error;
    auto child = Process::start(
        {config.self_path, "swarm", "--endpoint", broker.endpoints.agents, "--first",
         std::to_string(first), "--count", std::to_string(count), "--inc", inc, "--duration-ms",
         std::to_string(config.connections_for.count()), "--output", outputs.back()},
        options, &error);
    if (!child) {
      r.fail(error);
      return r;
    }
    swarms.push_back(std::move(child));
  }
  uint64_t max_rss_kib = 0;
  size_t max_fds = 0;
  const auto deadline =
      std::chrono::steady_clock::now() + config.connections_for + std::chrono::seconds(180);
  while (std::chrono::steady_clock::now() < deadline) {
    bool any_running = false;
    for (auto& s : swarms) any_running = s->running() || any_running;
    if (!any_running) break;
    max_rss_kib = std::max(max_rss_kib, rss_kib(broker.process->pid()));
    max_fds = std::max(max_fds, open_fd_count(broker.process->pid()));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  SwarmOutcome total;
  double join_s = 0;
  for (size_t w = 0; w < swarms.size(); ++w) {
    if (swarms[w]->running()) {
      r.fail("swarm " + std::to_string(w) + " did not finish in time");
      continue;
    }
    std::ifstream in(outputs[w]);
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded()) {
      r.fail("swarm " + std::to_string(w) + " wrote no result: " + swarms[w]->output_tail());
      continue;
    }
    SwarmOutcome one = SwarmOutcome::from_json(j);
    if (!one.error.empty()) r.fail("swarm " + std::to_string(w) + ": " + one.error);
    total.joined += one.joined;
    total.sent += one.sent;
    total.acked += one.acked;
    total.refused += one.refused;
    total.latency.add_all(one.latency);
    join_s = std::max(join_s, one.join_s);
  }
  const double seconds = std::chrono::duration<double>(config.connections_for).count();
  r.metrics["connections"] = n;
  r.metrics["swarm_processes"] = swarms.size();
  r.metrics["joined"] = total.joined;
  r.metrics["connect_and_join_s"] = join_s;
  r.metrics["heartbeats_sent"] = total.sent;
  r.metrics["heartbeats_acked"] = total.acked;
  r.metrics["heartbeats_refused"] = total.refused;
  r.metrics["heartbeat_rate_per_s"] = static_cast<double>(total.sent) / seconds;
  r.metrics["ack_latency"] = total.latency.summary();
  r.metrics["broker_max_rss_kib"] = max_rss_kib;
  r.metrics["broker_max_open_fds"] = max_fds;
  r.row("connections joined (" + std::to_string(swarms.size()) + " processes)",
        std::to_string(total.joined) + " in " + fixed(join_s, 1) + " s");
  r.row("heartbeats acked / sent (" + fixed(static_cast<double>(total.sent) / seconds, 0) + "/s)",
        std::to_string(total.acked) + " / " + std::to_string(total.sent));
  r.row("ack latency", quantiles_text(total.latency.summary(), {"p50", "p99", "max"}));
  r.row("broker peak RSS / open fds",
        fixed(max_rss_kib / 1024.0, 1) + " MiB / " + std::to_string(max_fds));
  if (r.ran && total.acked < total.sent) {
    r.fail(std::to_string(total.sent - total.acked) + " heartbeats unanswered");
  }
  swarms.clear();
  r.metrics["broker_exit_status"] = broker.process->stop(std::chrono::seconds(5));
  return r;
}

}  // namespace roster::bench
