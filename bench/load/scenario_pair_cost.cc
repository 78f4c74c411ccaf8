// pair_cost: what a redundant pair costs an agent and a broker. Two
// roster-broker processes and `pair_agents` real roster-agent processes
// heartbeating every `pair_interval`: first each agent with one broker
// (--broker A), then, in the same run, each with both (--broker A --broker
// B, the default --broker-mode all). Over a steady window of each phase:
// agent CPU per heartbeat interval (on-CPU time of every thread), TCP
// payload bytes per agent per interval through the brokers' agent ports
// (the kernel's counters, read with ss: requests, acks and ZMTP's own
// traffic), and broker CPU per agent request (the broker's stats counter).
// The figures that matter are the two-broker / one-broker ratios of the
// same run.
#include <unistd.h>

#include <array>
#include <csignal>
#include <filesystem>
#include <optional>
#include <thread>
#include <variant>

#include "admin_client.h"
#include "cost_probes.h"
#include "scenario.h"
#include "support/process.h"

namespace roster::bench {

namespace {

// One broker's readings at one instant.
struct BrokerReading {
  double cpu_s = 0;
  uint64_t requests = 0;
  std::optional<TcpBytes> wire;
};

// What one phase cost over its window.
struct PhaseCost {
  double seconds = 0;
  double intervals = 0;    // window / interval
  double agent_cpu_s = 0;  // all agents
  double broker_cpu_s[2] = {0, 0};
  uint64_t requests[2] = {0, 0};
  bool have_wire = false;
  uint64_t bytes_up = 0;    // agents -> brokers, both brokers summed
  uint64_t bytes_down = 0;  // brokers -> agents
};

std::optional<Stats> stats_of(const ServerProcess& broker, std::string* error) {
  ctl::AdminCall call = ctl::call_admin(broker.endpoints.admin, StatsQuery{}, 5'000);
  if (!call.reply) {
    *error = call.error;
    return std::nullopt;
  }
  if (const auto* stats = std::get_if<Stats>(&*call.reply)) return *stats;
  *error = "stats request answered with something else";
  return std::nullopt;
}

bool read_broker(const ServerProcess& broker, BrokerReading* reading, std::string* error) {
  auto stats = stats_of(broker, error);
  if (!stats) return false;
  auto it = stats->counters.find("agent_requests");
  if (it == stats->counters.end()) {
    *error = "the broker's stats have no agent_requests counter";
    return false;
  }
  reading->requests = it->second;
  reading->cpu_s = precise_cpu_seconds(broker.process->pid());
  std::string wire_error;
  reading->wire = tcp_bytes_on_port(endpoint_port(broker.endpoints.agents), &wire_error);
  return true;
}

// Waits until `broker` holds `alive` nodes alive.
bool wait_alive(const ServerProcess& broker, uint64_t alive, std::string* error) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    auto stats = stats_of(broker, error);
    if (!stats) return false;
    auto it = stats->by_state.find("alive");
    if (it != stats->by_state.end() && it->second == alive) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  *error = "the agents did not all join within 30 s";
  return false;
}

// Runs the agents of one phase against brokers[0] (and brokers[1] when
// `both`) and measures them. nullopt with r failed on error.
std::optional<PhaseCost> run_phase(const BenchContext& ctx, const std::string& agent_path,
                                   std::array<ServerProcess, 2>& brokers, bool both,
                                   ScenarioResult* r) {
  const BenchConfig& config = ctx.config;
  const std::string phase = both ? "two" : "one";
  const std::string interval = std::to_string(config.pair_interval.count()) + "ms";
  const std::string lease = std::to_string(config.pair_interval.count() * 10) + "ms";
  std::vector<std::unique_ptr<Process>> agents;
  for (size_t i = 0; i < config.pair_agents; ++i) {
    const std::string id = node_name("pc-" + phase + "-", i);
    std::vector<std::string> argv = {agent_path, "--node-id", id, "--broker",
                                     brokers[0].endpoints.agents};
    if (both) argv.insert(argv.end(), {"--broker", brokers[1].endpoints.agents});
    argv.insert(argv.end(), {"--lease", lease, "--interval", interval, "--log-level", "warn"});
    std::string error;
    auto agent =
        Process::start(argv, {config.work_dir + "/agent-" + id + ".log", std::nullopt}, &error);
    if (!agent) {
      r->fail("cannot start roster-agent: " + error);
      return std::nullopt;
    }
    agents.push_back(std::move(agent));
  }
  std::string error;
  for (size_t b = 0; b < (both ? 2u : 1u); ++b) {
    if (!wait_alive(brokers[b], config.pair_agents, &error)) {
      r->fail(phase + " broker phase: " + error);
      return std::nullopt;
    }
  }
  // A few intervals more: every agent past its join, in its steady beat.
  std::this_thread::sleep_for(config.pair_interval * 3);

  auto agents_cpu = [&] {
    double total = 0;
    for (const auto& agent : agents) total += precise_cpu_seconds(agent->pid());
    return total;
  };
  BrokerReading before[2];
  BrokerReading after[2];
  const double agent_cpu_before = agents_cpu();
  const auto started = std::chrono::steady_clock::now();
  for (size_t b = 0; b < 2; ++b) {
    if (!read_broker(brokers[b], &before[b], &error)) {
      r->fail("stats: " + error);
      return std::nullopt;
    }
  }
  std::this_thread::sleep_for(config.pair_for);
  const double agent_cpu_after = agents_cpu();
  const auto ended = std::chrono::steady_clock::now();
  for (size_t b = 0; b < 2; ++b) {
    if (!read_broker(brokers[b], &after[b], &error)) {
      r->fail("stats: " + error);
      return std::nullopt;
    }
  }
  for (const auto& agent : agents) {
    if (!agent->running()) {
      r->fail("a roster-agent exited during the " + phase +
              " broker phase: " + agent->output_tail(500));
      return std::nullopt;
    }
  }

  PhaseCost cost;
  cost.seconds = std::chrono::duration<double>(ended - started).count();
  cost.intervals = cost.seconds / std::chrono::duration<double>(config.pair_interval).count();
  cost.agent_cpu_s = agent_cpu_after - agent_cpu_before;
  cost.have_wire = true;
  for (size_t b = 0; b < 2; ++b) {
    cost.broker_cpu_s[b] = after[b].cpu_s - before[b].cpu_s;
    cost.requests[b] = after[b].requests - before[b].requests;
    // A connection that closed or opened in the window resets its
    // counters: then the bytes are not measured.
    if (!before[b].wire || !after[b].wire ||
        before[b].wire->connections != after[b].wire->connections ||
        after[b].wire->received < before[b].wire->received ||
        after[b].wire->sent < before[b].wire->sent) {
      cost.have_wire = false;
      continue;
    }
    cost.bytes_up += after[b].wire->received - before[b].wire->received;
    cost.bytes_down += after[b].wire->sent - before[b].wire->sent;
  }

  for (auto& agent : agents) agent->signal(SIGTERM);
  for (auto& agent : agents) agent->stop(std::chrono::seconds(5));
  return cost;
}

double per(double value, double count) {
  return count > 0 ? value / count : 0;
}

}  // namespace

ScenarioResult run_pair_cost(BenchContext& ctx) {
  const BenchConfig& config = ctx.config;
  ScenarioResult r("pair_cost");
  const std::string agent_path =
      (std::filesystem::path(config.broker_path).parent_path() / "roster-agent").string();
  if (::access(agent_path.c_str(), X_OK) != 0) {
    r.fail("no executable roster-agent next to the broker at " + agent_path);
    return r;
  }
  std::array<ServerProcess, 2> brokers;
  for (size_t b = 0; b < brokers.size(); ++b) {
    if (!start_named_broker(ctx, "broker-pair_cost-" + std::to_string(b), {}, &brokers[b], &r)) {
      return r;
    }
  }

  const auto one = run_phase(ctx, agent_path, brokers, false, &r);
  if (!one) return r;
  const auto two = run_phase(ctx, agent_path, brokers, true, &r);
  if (!two) return r;
  for (auto& broker : brokers) broker.process->stop(std::chrono::seconds(5));

  const double n = static_cast<double>(config.pair_agents);
  // Per agent and heartbeat interval.
  const double agent_us_one = per(one->agent_cpu_s * 1e6, n * one->intervals);
  const double agent_us_two = per(two->agent_cpu_s * 1e6, n * two->intervals);
  const double bytes_one =
      per(static_cast<double>(one->bytes_up + one->bytes_down), n * one->intervals);
  const double bytes_two =
      per(static_cast<double>(two->bytes_up + two->bytes_down), n * two->intervals);
  // Per request the broker answered (heartbeats; no joins in the window),
  // as measured, and net of what an idle broker spends anyway (its beats
  // and timers): broker B of the one-broker phase had no agents.
  const double idle_cpu_per_s = per(one->broker_cpu_s[1], one->seconds);
  auto broker_us = [&](const PhaseCost& c, size_t b, double idle_per_s) {
    return per((c.broker_cpu_s[b] - idle_per_s * c.seconds) * 1e6,
               static_cast<double>(c.requests[b]));
  };
  const double single_us = broker_us(*one, 0, 0);
  const double pair_us[2] = {broker_us(*two, 0, 0), broker_us(*two, 1, 0)};
  const double single_net_us = broker_us(*one, 0, idle_cpu_per_s);
  const double pair_net_us[2] = {broker_us(*two, 0, idle_cpu_per_s),
                                 broker_us(*two, 1, idle_cpu_per_s)};
  const double beats_per_interval[2] = {
      per(static_cast<double>(two->requests[0]), n * two->intervals),
      per(static_cast<double>(two->requests[1]), n * two->intervals)};

  auto phase_json = [&](const PhaseCost& c, double agent_us, double bytes) {
    nlohmann::json j;
    j["window_s"] = c.seconds;
    j["intervals"] = c.intervals;
    j["agent_cpu_s"] = c.agent_cpu_s;
    j["agent_cpu_us_per_interval"] = agent_us;
    j["broker_cpu_s"] = {c.broker_cpu_s[0], c.broker_cpu_s[1]};
    j["broker_requests"] = {c.requests[0], c.requests[1]};
    if (c.have_wire) {
      j["bytes_up"] = c.bytes_up;
      j["bytes_down"] = c.bytes_down;
      j["bytes_per_agent_interval"] = bytes;
    }
    return j;
  };
  r.metrics["agents"] = config.pair_agents;
  r.metrics["interval_ms"] = config.pair_interval.count();
  r.metrics["one_broker"] = phase_json(*one, agent_us_one, bytes_one);
  r.metrics["two_brokers"] = phase_json(*two, agent_us_two, bytes_two);
  r.metrics["agent_cpu_ratio"] = per(agent_us_two, agent_us_one);
  r.metrics["broker_cpu_us_per_heartbeat"] = {
      {"single", single_us}, {"pair_a", pair_us[0]}, {"pair_b", pair_us[1]}};
  r.metrics["broker_idle_cpu_ms_per_s"] = idle_cpu_per_s * 1e3;
  r.metrics["broker_cpu_us_per_heartbeat_net_of_idle"] = {
      {"single", single_net_us}, {"pair_a", pair_net_us[0]}, {"pair_b", pair_net_us[1]}};

  const std::string setup = std::to_string(config.pair_agents) + " agents, " +
                            std::to_string(config.pair_interval.count()) + " ms";
  r.row("agents x interval", setup + ", " + fixed(one->seconds, 1) + " s per phase");
  r.row("agent CPU per interval: one / two brokers",
        fixed(agent_us_one, 1) + " / " + fixed(agent_us_two, 1) + " us (x" +
            fixed(per(agent_us_two, agent_us_one), 2) + ")");
  if (one->have_wire && two->have_wire) {
    r.metrics["bytes_ratio"] = per(bytes_two, bytes_one);
    // Bytes per request and per reply the brokers saw: one message each
    // way per heartbeat, with its ZMTP frame header (and ZMTP's own
    // traffic, if any, spread over them).
    const double requests_two = static_cast<double>(two->requests[0] + two->requests[1]);
    const double up = per(static_cast<double>(two->bytes_up), requests_two);
    const double down = per(static_cast<double>(two->bytes_down), requests_two);
    r.metrics["bytes_per_heartbeat"] = {{"request", up}, {"ack", down}};
    r.row("TCP bytes per agent per interval: one / two",
          fixed(bytes_one, 0) + " / " + fixed(bytes_two, 0) + " B (x" +
              fixed(per(bytes_two, bytes_one), 2) + ")");
    r.row("  per heartbeat on the wire: request / ack",
          fixed(up, 1) + " / " + fixed(down, 1) + " B");
  } else {
    r.row("TCP bytes per agent per interval", "not measured (no ss, or connections changed)");
  }
  r.row("broker CPU per heartbeat: single / pair A / B",
        fixed(single_us, 1) + " / " + fixed(pair_us[0], 1) + " / " + fixed(pair_us[1], 1) + " us");
  r.row("  the same, net of idle (" + fixed(idle_cpu_per_s * 1e3, 2) + " ms/s)",
        fixed(single_net_us, 1) + " / " + fixed(pair_net_us[0], 1) + " / " +
            fixed(pair_net_us[1], 1) + " us");
  r.row("heartbeats per agent per interval: A / B",
        fixed(beats_per_interval[0], 2) + " / " + fixed(beats_per_interval[1], 2));
  if (one->requests[0] == 0 || two->requests[0] == 0 || two->requests[1] == 0) {
    r.fail("a broker answered no heartbeat in a window");
  }
  return r;
}

}  // namespace roster::bench
