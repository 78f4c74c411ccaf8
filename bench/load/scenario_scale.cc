// scale: a million nodes on one broker. Every node joins with a 10 s
// lease over a few DEALER connections, then heartbeats every lease / 3 on
// its own open-loop schedule (~300k heartbeats/s for a million) for a
// minute. Figures: join time, heartbeats sent against the schedule, ack
// latency, false suspicions (the broker's expiries: every node kept its
// lease, so any expiry means the broker fell behind), broker RSS per node,
// CPU per thread of the broker and of the load generator (which one
// saturated), and the time and size of a full snapshot from the admin
// channel at the end.
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <thread>
#include <variant>

#include "admin_client.h"
#include "roster/clock.h"
#include "roster/codec.h"
#include "scale_driver.h"
#include "scenario.h"
#include "thread_cpu.h"

namespace roster::bench {

namespace {

// A thread using at least this % of a core counts as saturated.
constexpr double kSaturatedPct = 90;

// The broker's stats, or nullopt with *error set.
std::optional<Stats> broker_stats(ctl::AdminClient& admin, std::string* error) {
  ctl::AdminCall call = admin.call(StatsQuery{}, 30'000);
  if (!call.reply) {
    *error = call.error;
    return std::nullopt;
  }
  if (const auto* stats = std::get_if<Stats>(&*call.reply)) return *stats;
  *error = "stats request answered with something else";
  return std::nullopt;
}

uint64_t counter(const Stats& stats, const std::string& name) {
  auto it = stats.counters.find(name);
  return it == stats.counters.end() ? 0 : it->second;
}

uint64_t in_state(const Stats& stats, const std::string& state) {
  auto it = stats.by_state.find(state);
  return it == stats.by_state.end() ? 0 : it->second;
}

// CPU seconds all cores spent busy since boot (/proc/stat: everything but
// idle and iowait); 0 when unreadable.
double machine_busy_seconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  in >> cpu;
  if (cpu != "cpu") return 0;
  uint64_t busy = 0;
  uint64_t ticks = 0;
  // user nice system idle iowait irq softirq steal
  for (int field = 0; field < 8 && in >> ticks; ++field) {
    if (field != 3 && field != 4) busy += ticks;
  }
  return static_cast<double>(busy) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// CPU readings at the start and end of the steady window.
struct CpuReadings {
  std::chrono::steady_clock::time_point at;
  double machine = 0;  // busy CPU seconds of every core
  double broker = 0;
  double bench = 0;
  std::map<std::string, double> broker_threads;
  std::map<std::string, double> bench_threads;
};

CpuReadings read_cpu(pid_t broker) {
  CpuReadings c;
  c.at = std::chrono::steady_clock::now();
  c.machine = machine_busy_seconds();
  c.broker = process_cpu_seconds(broker);
  c.bench = self_cpu_seconds();
  c.broker_threads = thread_cpu_seconds(broker);
  c.bench_threads = thread_cpu_seconds(::getpid());
  return c;
}

// "name 97 %, name 12 %" of the threads above 1 %, busiest first; the
// busiest's share in *busiest.
std::string threads_text(const std::map<std::string, double>& pct, double* busiest) {
  std::vector<std::pair<double, std::string>> sorted;
  for (const auto& [thread, p] : pct) sorted.emplace_back(p, thread);
  std::sort(sorted.rbegin(), sorted.rend());
  *busiest = sorted.empty() ? 0 : sorted.front().first;
  std::string text;
  for (const auto& [p, thread] : sorted) {
    if (p < 1) break;
    text +=
        (text.empty() ? "" : ", ") + thread.substr(0, thread.find('/')) + " " + fixed(p, 0) + " %";
  }
  return text.empty() ? "idle" : text;
}

// The machine's 1-minute load average (/proc/loadavg); 0 when unreadable.
double load_average() {
  std::ifstream in("/proc/loadavg");
  double one_minute = 0;
  in >> one_minute;
  return one_minute;
}

nlohmann::json pct_json(const std::map<std::string, double>& pct) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [thread, p] : pct) j[thread] = p;
  return j;
}

}  // namespace

ScenarioResult run_scale(BenchContext& ctx) {
  const BenchConfig& config = ctx.config;
  ScenarioResult r("scale");
  const size_t n = config.scale_nodes;
  ServerProcess broker;
  // Records here are ~40 bytes: 256 keeps the largest possible snapshot of
  // a million nodes within what clients accept.
  if (!start_broker(
          ctx,
          {"--max-nodes", std::to_string(std::max<size_t>(n, 1000)), "--max-record-bytes", "256",
           "--max-lease", std::to_string(config.scale_lease_ms) + "ms", "--snapshot-interval", "0"},
          &broker, &r))
    return r;
  const pid_t pid = broker.process->pid();
  ctl::AdminClient admin(broker.endpoints.admin);
  std::string admin_error;
  if (!broker_stats(admin, &admin_error)) {
    r.fail("stats: " + admin_error);
    return r;
  }
  const uint64_t baseline_kib = rss_kib(pid);
  const double load_before = load_average();

  ScalePlan plan;
  plan.nodes = n;
  plan.connections = config.scale_connections;
  plan.lease_ms = config.scale_lease_ms;
  plan.interval = std::chrono::milliseconds(config.scale_lease_ms / 3);
  plan.steady_for = config.scale_for;
  plan.inc = static_cast<uint64_t>(unix_now_ms());
  ScaleDriver driver(ctx.zmq, broker.endpoints.agents, plan);
  uint64_t joined_kib = 0;
  uint64_t steady_kib = 0;
  CpuReadings cpu_start;
  CpuReadings cpu_end;
  const CpuReadings cpu_before_join = read_cpu(pid);
  ScaleOutcome out = driver.run([&](ScaleDriver::Phase phase) {
    if (phase == ScaleDriver::Phase::kJoined) {
      joined_kib = rss_kib(pid);
      cpu_start = read_cpu(pid);
    } else {
      cpu_end = read_cpu(pid);
      steady_kib = rss_kib(pid);
    }
  });
  // Read right after the drain: leases of the nodes that just stopped
  // heartbeating run for at least lease - interval more.
  std::optional<Stats> stats = broker_stats(admin, &admin_error);
  if (!stats) r.fail("stats after the run: " + admin_error);
  if (out.joins_refused > 0) r.fail("joins refused: " + out.first_error);
  // Nodes the broker holds (all of them unless the join timeout came first).
  const uint64_t held = stats && stats->nodes > 0 ? stats->nodes : n;

  r.metrics["nodes"] = n;
  r.metrics["connections"] = plan.connections;
  r.metrics["lease_ms"] = plan.lease_ms;
  r.metrics["heartbeat_interval_ms"] = plan.interval.count();
  r.metrics["intended_rate_per_s"] =
      static_cast<double>(n) * 1000.0 / static_cast<double>(plan.interval.count());
  r.metrics["driver"] = out.to_json();
  r.row("nodes / connections / lease", std::to_string(n) + " / " +
                                           std::to_string(plan.connections) + " / " +
                                           std::to_string(plan.lease_ms) + " ms (heartbeat every " +
                                           std::to_string(plan.interval.count()) + " ms)");
  r.row(out.all_joined ? "join time (all answered)" : "joined before the join timeout",
        std::to_string(out.joins_acked) + " acked in " + fixed(out.join_seconds, 2) + " s (" +
            fixed(out.join_seconds > 0 ? out.joins_acked / out.join_seconds : 0, 0) + " joins/s)");
  r.target("nodes joined", static_cast<double>(out.joins_acked), static_cast<double>(n), false,
           "nodes");
  if (!r.ran) {
    r.metrics["broker_exit_status"] = broker.process->stop(std::chrono::seconds(10));
    return r;
  }

  const double wall = std::chrono::duration<double>(cpu_end.at - cpu_start.at).count();
  const double sent_pct =
      out.intended > 0 ? static_cast<double>(out.sent) / static_cast<double>(out.intended) * 100
                       : 0;
  r.metrics["heartbeats_sent_pct_of_intended"] = sent_pct;
  r.metrics["heartbeats_sent_per_s"] = wall > 0 ? static_cast<double>(out.sent) / wall : 0;
  r.metrics["heartbeats_acked_per_s"] = wall > 0 ? static_cast<double>(out.acked) / wall : 0;
  r.row("heartbeats sent / intended (" + fixed(out.steady_seconds, 0) + " s)",
        std::to_string(out.sent) + " / " + std::to_string(out.intended) + " (" +
            fixed(sent_pct, 2) + " %, " + fixed(wall > 0 ? out.sent / wall : 0, 0) + "/s)");
  r.row("heartbeats acked", std::to_string(out.acked) + " (" + std::to_string(out.unanswered) +
                                " unanswered after " + fixed(out.drain_seconds, 1) + " s drain)");
  std::string refusals;
  for (const auto& [code, count] : out.error_codes) {
    refusals += (refusals.empty() ? "" : ", ") + std::to_string(count) + " " + code;
  }
  r.row("replies lost (HWM) / refused",
        std::to_string(out.replies_lost) + " / " + (refusals.empty() ? "0" : refusals));
  r.row("ack latency", quantiles_text(out.ack_latency.summary(), {"p50", "p99", "p999", "max"}));
  // The client falls behind its schedule either for want of CPU or because
  // its send queues are full (the broker is not reading: backpressure).
  r.row("sends refused by a full queue (backpressure)", std::to_string(out.blocked_sends));
  r.row("client behind schedule (due -> sent)",
        quantiles_text(out.send_lag.summary(), {"p50", "p99", "max"}));

  // False suspicions: every node kept its lease, so any expiry is one.
  if (stats) {
    const uint64_t expiries = counter(*stats, "expiries");
    const uint64_t suspect = in_state(*stats, "suspect");
    const uint64_t dead = in_state(*stats, "dead");
    r.metrics["broker_stats"] = {{"expiries", expiries},
                                 {"suspect", suspect},
                                 {"dead", dead},
                                 {"alive", in_state(*stats, "alive")},
                                 {"stalls", counter(*stats, "stalls")},
                                 {"stalled_ms", counter(*stats, "stalled_ms")},
                                 {"busy_rounds", counter(*stats, "busy_rounds")},
                                 {"nodes", stats->nodes}};
    r.row("false suspicions (expiries) / suspect / dead now",
          std::to_string(expiries) + " / " + std::to_string(suspect) + " / " +
              std::to_string(dead) + " (acks not alive: " + std::to_string(out.acks_not_alive) +
              ")");
    r.row("broker stalls (leases extended)", std::to_string(counter(*stats, "stalls")) + " (" +
                                                 std::to_string(counter(*stats, "stalled_ms")) +
                                                 " ms)");
    r.target("false suspicions", static_cast<double>(expiries + out.acks_not_alive), 0, true,
             "nodes");
  }
  r.target("heartbeats sent of intended", sent_pct, 99, false, "%");

  // Memory.
  // The peak of the two readings over every node joined: when the broker
  // fell behind it may hold fewer nodes at the end than it had joined.
  const uint64_t peak_kib = std::max(joined_kib, steady_kib);
  const double per_node = static_cast<double>(peak_kib - std::min(peak_kib, baseline_kib)) *
                          1024.0 / static_cast<double>(std::max<uint64_t>(out.joins_acked, 1));
  r.metrics["rss_kib"] = {
      {"baseline", baseline_kib}, {"joined", joined_kib}, {"steady", steady_kib}};
  r.metrics["rss_bytes_per_node"] = per_node;
  r.row("broker RSS baseline / joined / after heartbeats",
        fixed(baseline_kib / 1024.0, 1) + " / " + fixed(joined_kib / 1024.0, 1) + " / " +
            fixed(steady_kib / 1024.0, 1) + " MiB");
  r.row("broker RSS per node", fixed(per_node, 0) + " B");
  r.target("broker RSS per node", per_node, 512, true, "B");

  // Who saturated.
  const auto broker_pct = thread_cpu_pct(cpu_start.broker_threads, cpu_end.broker_threads, wall);
  const auto bench_pct = thread_cpu_pct(cpu_start.bench_threads, cpu_end.bench_threads, wall);
  const double broker_cpu = wall > 0 ? (cpu_end.broker - cpu_start.broker) / wall * 100 : 0;
  const double bench_cpu = wall > 0 ? (cpu_end.bench - cpu_start.bench) / wall * 100 : 0;
  double broker_busiest = 0;
  double bench_busiest = 0;
  const std::string broker_threads = threads_text(broker_pct, &broker_busiest);
  const std::string bench_threads = threads_text(bench_pct, &bench_busiest);
  r.metrics["cpu_pct"] = {{"broker", broker_cpu},
                          {"load_generator", bench_cpu},
                          {"broker_threads", pct_json(broker_pct)},
                          {"load_generator_threads", pct_json(bench_pct)},
                          {"cores", std::thread::hardware_concurrency()}};
  r.row("CPU: broker", fixed(broker_cpu, 0) + " % of a core (" + broker_threads + ")");
  r.row("CPU: load generator", fixed(bench_cpu, 0) + " % of a core (" + bench_threads + ")");
  const double join_wall = std::chrono::duration<double>(cpu_start.at - cpu_before_join.at).count();
  if (join_wall > 0) {
    const double broker_join = (cpu_start.broker - cpu_before_join.broker) / join_wall * 100;
    const double bench_join = (cpu_start.bench - cpu_before_join.bench) / join_wall * 100;
    double busiest = 0;
    const std::string broker_join_threads = threads_text(
        thread_cpu_pct(cpu_before_join.broker_threads, cpu_start.broker_threads, join_wall),
        &busiest);
    r.metrics["cpu_pct_while_joining"] = {{"broker", broker_join}, {"load_generator", bench_join}};
    r.row("CPU while joining: broker / load generator", fixed(broker_join, 0) + " % (" +
                                                            broker_join_threads + ") / " +
                                                            fixed(bench_join, 0) + " %");
  }
  std::string verdict;
  if (broker_busiest >= kSaturatedPct) verdict += "broker thread";
  if (bench_busiest >= kSaturatedPct)
    verdict += std::string(verdict.empty() ? "" : " and ") + "load generator thread";
  const double cores = std::max(1u, std::thread::hardware_concurrency());
  if ((broker_cpu + bench_cpu) >= cores * kSaturatedPct) {
    verdict +=
        std::string(verdict.empty() ? "" : "; ") + "the machine's " + fixed(cores, 0) + " cores";
  }
  const double machine_cpu = wall > 0 ? (cpu_end.machine - cpu_start.machine) / wall * 100 : 0;
  const double others_cpu = std::max(0.0, machine_cpu - broker_cpu - bench_cpu);
  r.metrics["cpu_pct"]["machine"] = machine_cpu;
  r.metrics["cpu_pct"]["other_processes"] = others_cpu;
  r.row("CPU: other processes on the machine", fixed(others_cpu, 0) + " % of a core");
  if (machine_cpu >= cores * kSaturatedPct && others_cpu >= 20) {
    verdict += std::string(verdict.empty() ? "" : "; ") + "the machine (other processes took " +
               fixed(others_cpu, 0) + " % of a core: figures of a busy machine)";
  }
  r.metrics["saturated"] = verdict;
  const double load_after = load_average();
  r.metrics["load_average_1m"] = {{"before", load_before}, {"after", load_after}};
  r.row("machine load average (1 min) before / after",
        fixed(load_before, 2) + " / " + fixed(load_after, 2) + " on " + fixed(cores, 0) + " cores");
  r.row("saturated", verdict.empty() ? "nothing (every thread < 90 % of a core)" : verdict);
  if (out.acked > 0) {
    const double us_per_ack =
        (cpu_end.broker - cpu_start.broker) * 1e6 / static_cast<double>(out.acked);
    r.metrics["broker_cpu_us_per_ack"] = us_per_ack;
    r.row("broker CPU per ack", fixed(us_per_ack, 2) + " us");
  }

  // The full snapshot from the admin channel.
  const auto asked = std::chrono::steady_clock::now();
  ctl::AdminExchange exchanged = admin.exchange(encode(AdminRequest{SnapshotQuery{}}), 120'000);
  const double snapshot_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
  if (!exchanged.body) {
    r.fail("admin snapshot: " + exchanged.error);
  } else {
    auto reply = decode_admin_reply(*exchanged.body);
    size_t nodes = 0;
    if (reply.ok() && std::holds_alternative<Snapshot>(reply.value())) {
      nodes = std::get<Snapshot>(reply.value()).nodes.size();
    }
    r.metrics["admin_snapshot"] = {
        {"bytes", exchanged.body->size()}, {"seconds", snapshot_s}, {"nodes", nodes}};
    r.row("admin snapshot (" + std::to_string(nodes) + " nodes, one message)",
          fixed(static_cast<double>(exchanged.body->size()) / (1024.0 * 1024.0), 1) + " MiB in " +
              fixed(snapshot_s * 1000, 0) + " ms");
    if (nodes != held) {
      r.fail("admin snapshot holds " + std::to_string(nodes) + " nodes, the broker's stats " +
             std::to_string(held));
    }
  }
  r.metrics["broker_exit_status"] = broker.process->stop(std::chrono::seconds(10));
  return r;
}

}  // namespace roster::bench
