// roster-bench: the load benchmark of roster (see docs/PERFORMANCE.md).
//
//   roster-bench [--mode smoke|quick|full] [--scenario NAME]... [--broker PATH]
//                [--results-dir DIR] [--nodes N] [--churn-rounds N]
//                [--connections N] [--strict] [--keep-work-dir]
//   roster-bench serve-ceiling --endpoint EP --ready-file FILE   (internal)
//   roster-bench swarm --endpoint EP --count N --output FILE ...  (internal)
//
// Exit status: 0 when every scenario ran; 1 when one failed to run; 2 on a
// usage error; 3 with --strict when a full-mode target was missed.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <zmq.hpp>

#include "agent_swarm.h"
#include "bench_config.h"
#include "ceiling_router.h"
#include "curve_keys.h"
#include "report.h"
#include "scenario.h"

namespace roster::bench {
namespace {

const std::vector<std::string> kScenarioOrder = {
    "ceiling", "ingest",      "ceiling_curve", "ingest_curve", "detection", "leave", "snapshot",
    "memory",  "connections", "failover",      "pair_cost",    "scale",     "redis"};

std::string self_executable() {
  char path[4096];
  ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return {};
  path[n] = '\0';
  return path;
}

std::string make_work_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/roster-bench-XXXXXX";
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  return ::mkdtemp(buf.data()) ? std::string(buf.data()) : std::string();
}

ScenarioResult run_guarded(const std::string& name,
                           const std::function<ScenarioResult(BenchContext&)>& scenario,
                           BenchContext& ctx) {
  try {
    return scenario(ctx);
  } catch (const std::exception& e) {
    ScenarioResult r(name);
    r.fail(std::string("unexpected error: ") + e.what());
    return r;
  }
}

int run(int argc, char** argv) {
  CLI::App app{"roster-bench: load benchmark of roster-broker against a raw ZeroMQ ceiling",
               "roster-bench"};
  std::string mode_name = "quick";
  std::vector<std::string> only;
  std::string broker_path;
  std::string results_dir = "bench/results";
  bool strict = false;
  bool keep_work_dir = false;
  size_t nodes = 0;
  size_t churn_rounds = 0;
  size_t connections = 0;
  app.add_option("--mode", mode_name, "smoke, quick (under 2 minutes) or full")
      ->check(CLI::IsMember({"smoke", "quick", "full"}))
      ->capture_default_str();
  app.add_option(
         "--scenario", only,
         "Run only these scenarios (repeatable): " + CLI::detail::join(kScenarioOrder, ", "))
      ->check(CLI::IsMember(kScenarioOrder));
  app.add_option("--broker", broker_path,
                 "roster-broker to benchmark (default: next to this executable)");
  app.add_option("--results-dir", results_dir, "Where the JSON results go")->capture_default_str();
  app.add_option("--nodes", nodes, "Override the node count of ingest, snapshot and memory");
  app.add_option("--churn-rounds", churn_rounds, "Override the rounds of the memory scenario");
  app.add_option("--connections", connections, "Override the connections scenario's count");
  app.add_flag("--strict", strict, "Exit with status 3 when a full-mode target is missed");
  app.add_flag("--keep-work-dir", keep_work_dir, "Keep child logs and ready files");

  std::string ceiling_endpoint = "tcp://127.0.0.1:*";
  std::string ready_file;
  std::string ceiling_curve_secret;
  CLI::App* ceiling = app.add_subcommand(
      "serve-ceiling", "Run the trivial acking ROUTER (started by the benchmark itself)");
  ceiling->add_option("--endpoint", ceiling_endpoint, "Endpoint to bind")->capture_default_str();
  ceiling->add_option("--ready-file", ready_file, "Write agents=EP and pid=N here once bound");
  ceiling->add_option("--curve-secret", ceiling_curve_secret,
                      "Be a CURVE server with this secret certificate (no ZAP: any key)");

  std::string swarm_endpoint;
  std::string swarm_output;
  size_t swarm_first = 0;
  size_t swarm_count = 0;
  uint64_t swarm_inc = 1;
  int64_t swarm_duration_ms = 1000;
  CLI::App* swarm = app.add_subcommand(
      "swarm", "Run a swarm of agent connections (started by the connections scenario)");
  swarm->add_option("--endpoint", swarm_endpoint, "Agent endpoint of the broker")->required();
  swarm->add_option("--first", swarm_first, "Index of the first node");
  swarm->add_option("--count", swarm_count, "Connections (one node each)")->required();
  swarm->add_option("--inc", swarm_inc, "Incarnation of every node");
  swarm->add_option("--duration-ms", swarm_duration_ms, "How long to heartbeat");
  swarm->add_option("--output", swarm_output, "Where to write the outcome (JSON)")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (ceiling->parsed()) {
    return run_ceiling_router(ceiling_endpoint, ready_file, ceiling_curve_secret);
  }
  if (swarm->parsed()) {
    raise_fd_limit(2 * swarm_count + 1024);
    return run_swarm_command(swarm_endpoint, swarm_first, swarm_count, swarm_inc,
                             std::chrono::milliseconds(swarm_duration_ms), swarm_output);
  }

  BenchConfig config = config_for(*mode_from_string(mode_name));
  if (nodes > 0) config.ingest_nodes = config.snapshot_nodes = config.memory_nodes = nodes;
  if (churn_rounds > 0) config.churn_rounds = churn_rounds;
  if (connections > 0) config.real_connections = connections;
  config.self_path = self_executable();
  config.broker_path =
      broker_path.empty()
          ? (std::filesystem::path(config.self_path).parent_path() / "roster-broker").string()
          : broker_path;
  if (::access(config.broker_path.c_str(), X_OK) != 0) {
    std::cerr << "roster-bench: no executable broker at " << config.broker_path
              << " (build roster-broker or pass --broker)\n";
    return 2;
  }
  config.work_dir = make_work_dir();
  if (config.work_dir.empty()) {
    std::cerr << "roster-bench: cannot create a work directory\n";
    return 1;
  }
  // Children inherit the limit: the broker needs a descriptor per
  // connection.
  const uint64_t fd_limit = raise_fd_limit(config.real_connections + 4096);

  zmq::context_t zmq;

  std::vector<std::string> selected = only.empty() ? kScenarioOrder : only;
  auto wants = [&](const std::string& name) {
    return std::find(selected.begin(), selected.end(), name) != selected.end();
  };
  // A ratio needs its reference from the same run: ingest needs the
  // ceiling; ingest_curve needs ingest and the CURVE ceiling.
  auto runs = [&](const std::string& name) {
    if (wants(name)) return true;
    if (name == "ceiling") return wants("ingest") || wants("ingest_curve");
    if (name == "ingest" || name == "ceiling_curve") return wants("ingest_curve");
    return false;
  };
  const std::map<std::string, std::function<ScenarioResult(BenchContext&)>> scenarios = {
      {"ceiling", run_ceiling},
      {"ingest", run_ingest},
      {"ceiling_curve", run_ceiling_curve},
      {"ingest_curve", run_ingest_curve},
      {"detection", run_detection},
      {"leave", run_leave},
      {"snapshot", run_snapshot},
      {"memory", run_memory},
      {"connections", run_connections},
      {"failover", run_failover},
      {"pair_cost", run_pair_cost},
      {"scale", run_scale},
      {"redis", run_redis}};
  BenchContext ctx{config, zmq};
  std::optional<BenchKeys> keys;
  if (runs("ceiling_curve") || runs("ingest_curve")) {
    std::string key_error;
    keys = make_bench_keys(config.work_dir, &key_error);
    if (!keys) {
      std::cerr << "roster-bench: " << key_error << "\n";
      return 1;
    }
    ctx.keys = &*keys;
  }
  std::vector<ScenarioResult> results;
  ctx.results = &results;
  std::string command_line;
  for (int i = 0; i < argc; ++i) command_line += (i ? " " : "") + std::string(argv[i]);
  std::cout << "roster-bench " << mode_name << ": broker " << config.broker_path
            << ", open-file limit " << fd_limit << std::endl;
  for (const auto& name : kScenarioOrder) {
    if (!runs(name)) continue;
    std::cout << "running " << name << "..." << std::endl;
    results.push_back(run_guarded(name, scenarios.at(name), ctx));
    if (!results.back().ran) std::cout << "  failed: " << results.back().error << std::endl;
  }

  print_table(std::cout, results, config.mode);
  const std::string timestamp = utc_timestamp();
  std::string error;
  const std::string path = write_results(run_document(results, config, timestamp, command_line),
                                         results_dir, config.mode, timestamp, &error);
  if (path.empty()) {
    std::cerr << "roster-bench: " << error << "\n";
  } else {
    std::cout << "results: " << path << "\n";
  }

  bool all_ran = !path.empty();
  bool all_met = true;
  for (const auto& r : results) {
    all_ran = all_ran && r.ran;
    for (const auto& t : r.targets) all_met = all_met && t.met();
  }
  if (keep_work_dir || !all_ran) {
    std::cout << "child logs: " << config.work_dir << "\n";
  } else {
    std::error_code ec;
    std::filesystem::remove_all(config.work_dir, ec);
  }
  if (!all_ran) return 1;
  if (strict && config.mode == Mode::kFull && !all_met) return 3;
  return 0;
}

}  // namespace
}  // namespace roster::bench

int main(int argc, char** argv) {
  return roster::bench::run(argc, argv);
}
