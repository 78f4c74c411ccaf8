// What every scenario of the load benchmark returns, what it gets, and the
// scenarios themselves (one scenario_<name>.cc each).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "bench_config.h"
#include "curve_keys.h"
#include "support/broker_process.h"
#include "support/proc_info.h"
#include "support/state_watcher.h"

namespace roster::bench {

// The test kit's launcher and process readings (tests/support/).
using testing::open_fd_count;
using testing::Process;
using testing::process_cpu_seconds;
using testing::raise_fd_limit;
using testing::rss_kib;
using testing::self_cpu_seconds;
using testing::ServerProcess;
using testing::start_server;

// A performance target: met when `value` <= `limit` (or >= when
// !at_most).
struct Target {
  std::string name;
  double value = 0;
  double limit = 0;
  bool at_most = true;
  std::string unit;
  bool met() const { return at_most ? value <= limit : value >= limit; }
};

// One line of the printed table.
struct Row {
  std::string metric;
  std::string value;
};

// The outcome of one scenario. `ran` is false when the scenario could not
// run to the end (broker did not start, requests were refused, ...): the
// figures are then meaningless and `error` says why.
struct ScenarioResult {
  explicit ScenarioResult(std::string scenario_name) : name(std::move(scenario_name)) {}

  std::string name;
  bool ran = true;
  std::string error;
  nlohmann::json metrics = nlohmann::json::object();
  std::vector<Row> rows;
  std::vector<Target> targets;

  void fail(const std::string& why) {
    if (ran) error = why;
    ran = false;
  }
  void row(const std::string& metric, const std::string& value) { rows.push_back({metric, value}); }
  void target(const std::string& target_name, double value, double limit, bool at_most,
              const std::string& unit) {
    targets.push_back({target_name, value, limit, at_most, unit});
  }
};

// Shared by the scenarios of one run.
struct BenchContext {
  const BenchConfig& config;
  zmq::context_t& zmq;
  // Acks per second of the ceiling, measured first in the same run (0
  // when the ceiling scenario did not run).
  double ceiling_acks_per_s = 0;
  // The same for the plaintext ingest and the CURVE ceiling, for the
  // ratios of ingest_curve.
  double ingest_acks_per_s = 0;
  double ceiling_curve_acks_per_s = 0;
  // The run's CURVE keys; null unless a *_curve scenario runs.
  const BenchKeys* keys = nullptr;
  // The results of the scenarios that ran before, for comparisons (null
  // when unknown).
  const std::vector<ScenarioResult>* results = nullptr;
};

// Starts a broker, named `name`, on loopback ephemeral ports with
// `extra_args` (after the default --log-level warn). On failure returns
// false with *r failed.
bool start_named_broker(const BenchContext& ctx, const std::string& name,
                        const std::vector<std::string>& extra_args, ServerProcess* broker,
                        ScenarioResult* r);

// Starts the broker under test, named "broker-" + r->name, on loopback
// ephemeral ports with `extra_args` (after the defaults: --log-level warn,
// --beat-interval 100ms). On failure, or if the broker's ready file names
// no publish or admin endpoint, returns false with *r failed.
bool start_broker(const BenchContext& ctx, const std::vector<std::string>& extra_args,
                  ServerProcess* broker, ScenarioResult* r);

// A StateWatcher on `broker`'s state channel, once a message (a beat at the
// latest) arrived; nullptr with *r failed when none came within 10 s.
std::unique_ptr<testing::StateWatcher> watch_state(const ServerProcess& broker,
                                                   testing::StateWatcher::Options options,
                                                   ScenarioResult* r);

class AgentChannel;

// Joins nodes `ids` (incarnation `inc`, lease `lease_ms`, seq 1) over
// `channel` and waits for every reply. Returns true when all were acked
// (and *granted_ms holds the granted lease of each), else false with *r
// failed saying what went wrong.
bool join_nodes(AgentChannel& channel, const std::vector<std::string>& ids, uint64_t inc,
                uint64_t lease_ms, std::vector<uint64_t>* granted_ms, ScenarioResult* r);

// `prefix` + the index zero-padded to six digits: a valid node id.
std::string node_name(const std::string& prefix, size_t index);
// node_name(prefix, i) for i in [0, count).
std::vector<std::string> node_names(const std::string& prefix, size_t count);

// Formats a number with `decimals` digits after the point.
std::string fixed(double value, int decimals);
// "p50 / p99 / max ms" style text of a latency summary (json from
// LatencySamples::summary()) for the quantiles named in `keys`.
std::string quantiles_text(const nlohmann::json& summary, const std::vector<std::string>& keys);

ScenarioResult run_ceiling(BenchContext& ctx);
ScenarioResult run_ingest(BenchContext& ctx);
// ceiling and ingest again with CURVE on the agent channel (ctx.keys).
ScenarioResult run_ceiling_curve(BenchContext& ctx);
ScenarioResult run_ingest_curve(BenchContext& ctx);
ScenarioResult run_detection(BenchContext& ctx);
ScenarioResult run_leave(BenchContext& ctx);
ScenarioResult run_snapshot(BenchContext& ctx);
ScenarioResult run_memory(BenchContext& ctx);
ScenarioResult run_connections(BenchContext& ctx);
ScenarioResult run_failover(BenchContext& ctx);
ScenarioResult run_pair_cost(BenchContext& ctx);
ScenarioResult run_scale(BenchContext& ctx);
// Redis as a membership store, compared with the scenarios run before it.
ScenarioResult run_redis(BenchContext& ctx);

}  // namespace roster::bench
