// ceiling and ingest: the same load generator against the trivial ROUTER
// and against the broker: closed-loop throughput, then ack latency in an
// open loop at half that throughput. ceiling_curve and ingest_curve do the
// same with CURVE on every connection (the keys of ctx.keys), so the cost
// of encryption is a ratio within one run.
#include <optional>
#include <string>
#include <vector>

#include "load_generator.h"
#include "roster/clock.h"
#include "scenario.h"

namespace roster::bench {

namespace {

struct ServerFigures {
  RunOutcome join;
  RunOutcome saturated;
  RunOutcome paced;
  // CPU use during the saturated run, in % of one core.
  double server_cpu_pct = 0;
  double bench_cpu_pct = 0;
};

// Joins every node, heartbeats as fast as acks come, then at half that rate.
// Fails `result` when any request is refused or unanswered.
ServerFigures drive(const BenchConfig& config, zmq::context_t& zmq, const std::string& endpoint,
                    pid_t server, bool check_seq, const BenchKeys* keys, ScenarioResult& result) {
  ServerFigures f;
  std::optional<CurveClientKeys> curve;
  if (keys) curve = keys->client;
  LoadGenerator gen(zmq, endpoint, config.ingest_connections, "ingest-", config.ingest_nodes,
                    static_cast<uint64_t>(unix_now_ms()), curve);
  RunPlan plan;
  plan.window = config.ingest_window;
  plan.check_seq = check_seq;
  plan.kind = RequestKind::kJoin;
  plan.one_pass = true;
  f.join = gen.run(plan);
  if (!f.join.clean()) {
    result.fail("joins: " + f.join.first_error + " (" + std::to_string(f.join.errors) +
                " errors, " + std::to_string(f.join.unanswered) + " unanswered)");
    return f;
  }
  plan.kind = RequestKind::kHeartbeat;
  plan.one_pass = false;
  plan.duration = config.saturate_for;
  const double server_cpu_before = process_cpu_seconds(server);
  const double bench_cpu_before = self_cpu_seconds();
  f.saturated = gen.run(plan);
  const double wall = std::chrono::duration<double>(config.saturate_for).count();
  f.server_cpu_pct = (process_cpu_seconds(server) - server_cpu_before) / wall * 100;
  f.bench_cpu_pct = (self_cpu_seconds() - bench_cpu_before) / wall * 100;
  if (!f.saturated.clean()) {
    result.fail("heartbeats: " + f.saturated.first_error);
    return f;
  }
  plan.rate_per_s = f.saturated.acks_per_s() / 2;
  plan.duration = config.paced_for;
  plan.record_latency = true;
  f.paced = gen.run(plan);
  if (!f.paced.clean()) result.fail("paced heartbeats: " + f.paced.first_error);
  return f;
}

void describe(const ServerFigures& f, const BenchConfig& config, ScenarioResult& r) {
  r.metrics["nodes"] = config.ingest_nodes;
  r.metrics["connections"] = config.ingest_connections;
  r.metrics["window_per_connection"] = config.ingest_window;
  r.metrics["join"] = f.join.to_json();
  r.metrics["saturated"] = f.saturated.to_json();
  r.metrics["half_load"] = f.paced.to_json();
  r.metrics["half_load"]["target_rate_per_s"] = f.saturated.acks_per_s() / 2;
  r.row("joins/s (" + std::to_string(config.ingest_nodes) + " nodes)",
        fixed(f.join.acks_per_s(), 0));
  r.metrics["saturated"]["server_cpu_pct"] = f.server_cpu_pct;
  r.metrics["saturated"]["bench_cpu_pct"] = f.bench_cpu_pct;
  // CPU per ack is what a contended machine distorts least.
  const double server_us_per_ack = f.saturated.acked_in_window > 0
                                       ? f.server_cpu_pct / 100.0 * f.saturated.seconds * 1e6 /
                                             static_cast<double>(f.saturated.acked_in_window)
                                       : 0;
  r.metrics["saturated"]["server_cpu_us_per_ack"] = server_us_per_ack;
  r.row("acked heartbeats/s", fixed(f.saturated.acks_per_s(), 0));
  r.row("CPU meanwhile: server / load generator",
        fixed(f.server_cpu_pct, 0) + " % / " + fixed(f.bench_cpu_pct, 0) + " % of a core");
  r.row("server CPU per ack", fixed(server_us_per_ack, 2) + " us");
  r.row("ack latency at half load",
        quantiles_text(f.paced.latency.summary(), {"p50", "p99", "p999"}));
}

// Runs the ceiling ROUTER (with CURVE when `keys`) and drives it.
ScenarioResult ceiling(BenchContext& ctx, const std::string& name, const BenchKeys* keys,
                       double* acks_per_s) {
  ScenarioResult r(name);
  ServerProcess ceiling;
  std::string error;
  std::vector<std::string> argv = {ctx.config.self_path, "serve-ceiling", "--endpoint",
                                   "tcp://127.0.0.1:*"};
  if (keys) argv.insert(argv.end(), {"--curve-secret", keys->broker_secret_file});
  if (!start_server(argv, ctx.config.work_dir, name, std::chrono::seconds(10), &ceiling, &error)) {
    r.fail(error);
    return r;
  }
  ServerFigures f =
      drive(ctx.config, ctx.zmq, ceiling.endpoints.agents, ceiling.process->pid(), false, keys, r);
  ceiling.process->stop(std::chrono::seconds(2));
  describe(f, ctx.config, r);
  if (r.ran) *acks_per_s = f.saturated.acks_per_s();
  return r;
}

// Runs a broker (with CURVE on every endpoint when `keys`) and drives it.
ServerFigures ingest(BenchContext& ctx, const BenchKeys* keys, ScenarioResult& r) {
  ServerProcess broker;
  std::vector<std::string> args = {"--max-lease", "10m"};
  if (keys) {
    args.insert(args.end(),
                {"--curve-secret", keys->broker_secret_file, "--agent-keys", keys->agent_keys_dir,
                 "--admin-keys", keys->admin_keys_dir, "--subscriber-keys", "any"});
  }
  if (!start_broker(ctx, args, &broker, &r)) return {};
  ServerFigures f =
      drive(ctx.config, ctx.zmq, broker.endpoints.agents, broker.process->pid(), true, keys, r);
  if (f.saturated.seq_mismatches > 0) r.fail("acks out of order (seq mismatches)");
  describe(f, ctx.config, r);
  if (!f.paced.latency.empty()) {
    r.metrics["half_load_p99_ms"] = f.paced.latency.quantile_ms(0.99);
  }
  const int status = broker.process->stop(std::chrono::seconds(5));
  r.metrics["broker_exit_status"] = status;
  return f;
}

// Adds the ratio of `acks_per_s` to `reference` (when both are known) as
// metric `key` and a row.
void ratio(ScenarioResult& r, double acks_per_s, double reference, const std::string& key,
           const std::string& label) {
  if (reference <= 0 || !r.ran) return;
  r.metrics[key] = acks_per_s / reference;
  r.row(label, fixed(acks_per_s / reference * 100, 1) + " %");
}

}  // namespace

ScenarioResult run_ceiling(BenchContext& ctx) {
  return ceiling(ctx, "ceiling", nullptr, &ctx.ceiling_acks_per_s);
}

ScenarioResult run_ingest(BenchContext& ctx) {
  ScenarioResult r("ingest");
  ServerFigures f = ingest(ctx, nullptr, r);
  if (r.ran) ctx.ingest_acks_per_s = f.saturated.acks_per_s();
  if (ctx.ceiling_acks_per_s > 0 && r.ran) {
    const double ratio = f.saturated.acks_per_s() / ctx.ceiling_acks_per_s;
    r.metrics["ratio_to_ceiling"] = ratio;
    r.row("ratio to ceiling", fixed(ratio * 100, 1) + " %");
    r.target("ingest >= 70% of ceiling", ratio * 100, 70, false, "%");
  }
  return r;
}

ScenarioResult run_ceiling_curve(BenchContext& ctx) {
  if (!ctx.keys) {
    ScenarioResult r("ceiling_curve");
    r.fail("no CURVE keys");
    return r;
  }
  ScenarioResult r = ceiling(ctx, "ceiling_curve", ctx.keys, &ctx.ceiling_curve_acks_per_s);
  ratio(r, ctx.ceiling_curve_acks_per_s, ctx.ceiling_acks_per_s, "ratio_to_plaintext_ceiling",
        "ratio to the plaintext ceiling");
  return r;
}

ScenarioResult run_ingest_curve(BenchContext& ctx) {
  ScenarioResult r("ingest_curve");
  if (!ctx.keys) {
    r.fail("no CURVE keys");
    return r;
  }
  ServerFigures f = ingest(ctx, ctx.keys, r);
  const double acks = f.saturated.acks_per_s();
  ratio(r, acks, ctx.ingest_acks_per_s, "ratio_to_plaintext_ingest",
        "ratio to plaintext ingest (same run)");
  ratio(r, acks, ctx.ceiling_curve_acks_per_s, "ratio_to_curve_ceiling",
        "ratio to the CURVE ceiling");
  return r;
}

}  // namespace roster::bench
