// snapshot: with many nodes tracked, the broker publishes a full snapshot
// every `snapshot_interval` and a client asks the admin channel for one
// every `admin_snapshot_every`, while simulated nodes heartbeat at a fixed
// rate. Figures: how long a snapshot takes to reach a client (admin round
// trip; published: arrival minus the snapshot's time_ms), and ack latency
// meanwhile. The two snapshot clients stand in for controllers on other
// hosts: they run at nice 19, so that on a shared 2-core machine the copies
// of 10 MiB they receive take CPU from the broker and the load generator
// only when those leave some.
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <variant>

#include "admin_client.h"
#include "latency_stats.h"
#include "load_generator.h"
#include "roster/clock.h"
#include "roster/codec.h"
#include "scenario.h"
#include "support/low_priority.h"
#include "support/state_watcher.h"

namespace roster::bench {

namespace {

// Asks for a snapshot every `every` until stopped, in its own thread at
// nice 19 (with the I/O thread of its ZeroMQ context, which inherits it).
class SnapshotRequester {
 public:
  SnapshotRequester(std::string endpoint, std::chrono::milliseconds every)
      : thread_(&SnapshotRequester::loop, this, std::move(endpoint), every) {}
  ~SnapshotRequester() { stop(); }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // REQUIRES: stop() was called.
  const LatencySamples& round_trips() const { return round_trips_; }
  const std::string& last_body() const { return last_body_; }
  const std::string& error() const { return error_; }

 private:
  void loop(std::string endpoint, std::chrono::milliseconds every) {
    testing::lower_this_thread_priority();  // before the client creates its context
    ctl::AdminClient admin(std::move(endpoint));
    auto next = std::chrono::steady_clock::now();
    while (!stop_) {
      if (std::chrono::steady_clock::now() < next) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        continue;
      }
      next += every;
      const auto sent = std::chrono::steady_clock::now();
      auto exchanged = admin.exchange(encode(AdminRequest{SnapshotQuery{}}), 30'000);
      if (!exchanged.body) {
        error_ = exchanged.error;
        return;
      }
      round_trips_.add_us(std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::steady_clock::now() - sent)
                              .count());
      last_body_ = std::move(*exchanged.body);
    }
  }

  std::atomic<bool> stop_{false};
  LatencySamples round_trips_;
  std::string last_body_;
  std::string error_;
  std::thread thread_;
};

}  // namespace

ScenarioResult run_snapshot(BenchContext& ctx) {
  const BenchConfig& config = ctx.config;
  ScenarioResult r("snapshot");
  ServerProcess broker;
  const std::string interval = std::to_string(config.snapshot_interval.count()) + "ms";
  if (!start_broker(ctx, {"--max-lease", "10m", "--snapshot-interval", interval}, &broker, &r))
    return r;
  const size_t n = config.snapshot_nodes;
  LoadGenerator gen(ctx.zmq, broker.endpoints.agents, config.ingest_connections, "snap-", n,
                    static_cast<uint64_t>(unix_now_ms()));
  RunPlan plan;
  plan.window = config.ingest_window;
  plan.kind = RequestKind::kJoin;
  plan.one_pass = true;
  RunOutcome joined = gen.run(plan);
  if (!joined.clean()) {
    r.fail("joins: " + joined.first_error);
    return r;
  }
  auto watcher = watch_state(broker,
                             {{std::string(kTopicSnapshot)},
                              /*keep_raw_snapshots=*/true,
                              /*low_priority=*/true},
                             &r);
  if (!watcher) return r;
  watcher->take_snapshots();  // the ones from before the load

  plan.kind = RequestKind::kHeartbeat;
  plan.one_pass = false;
  plan.rate_per_s = config.snapshot_rate;
  plan.duration = config.snapshot_for;
  plan.record_latency = true;
  SnapshotRequester requester(broker.endpoints.admin, config.admin_snapshot_every);
  RunOutcome beats = gen.run(plan);
  requester.stop();
  auto published = watcher->take_snapshots();

  if (!beats.clean()) r.fail("heartbeats: " + beats.first_error);
  if (!requester.error().empty()) r.fail("admin snapshot: " + requester.error());
  size_t admin_nodes = 0;
  size_t admin_bytes = requester.last_body().size();
  if (!requester.last_body().empty()) {
    auto reply = decode_admin_reply(requester.last_body());
    if (!reply.ok() || !std::holds_alternative<Snapshot>(reply.value())) {
      r.fail("admin snapshot reply is not a snapshot");
    } else {
      admin_nodes = std::get<Snapshot>(reply.value()).nodes.size();
    }
  }
  if (r.ran && admin_nodes != n) {
    r.fail("admin snapshot holds " + std::to_string(admin_nodes) + " nodes, expected " +
           std::to_string(n));
  }
  // time_ms is when the version's snapshot was built: an unchanged version
  // reuses it, so this age grows while heartbeats leave the view unchanged.
  LatencySamples publish_age;
  std::set<uint64_t> published_versions;
  size_t published_bytes = 0;
  // Arrivals of the same bytes share their body: decoded once.
  const std::string* decoded_body = nullptr;
  Snapshot snapshot;
  for (const auto& arrival : published) {
    if (arrival.body.get() != decoded_body) {
      auto decoded = decode_snapshot(*arrival.body);
      if (!decoded.ok()) {
        r.fail("undecodable published snapshot: " + decoded.error().message);
        break;
      }
      snapshot = std::move(decoded).value();
      decoded_body = arrival.body.get();
    }
    published_bytes = arrival.body->size();
    published_versions.insert(snapshot.version);
    publish_age.add_us((arrival.received_unix_ms - static_cast<int64_t>(snapshot.time_ms)) * 1000);
  }
  r.metrics["nodes"] = n;
  r.metrics["heartbeat_rate_per_s"] = config.snapshot_rate;
  r.metrics["heartbeats"] = beats.to_json();
  r.metrics["admin_snapshot_round_trip"] = requester.round_trips().summary();
  r.metrics["admin_snapshot_bytes"] = admin_bytes;
  r.metrics["published_snapshots"] = published.size();
  r.metrics["published_snapshot_bytes"] = published_bytes;
  r.metrics["published_snapshot_versions"] = published_versions.size();
  r.metrics["published_snapshot_age"] = publish_age.summary();
  r.row("snapshot size (" + std::to_string(n) + " nodes)",
        fixed(static_cast<double>(admin_bytes) / (1024.0 * 1024.0), 1) + " MiB");
  r.row("admin snapshot round trip (" + std::to_string(requester.round_trips().count()) + ")",
        quantiles_text(requester.round_trips().summary(), {"p50", "max"}));
  r.row("published snapshots: versions; age since built at arrival (" +
            std::to_string(published.size()) + ")",
        std::to_string(published_versions.size()) + "; " +
            quantiles_text(publish_age.summary(), {"p50", "max"}));
  r.row("ack latency meanwhile (" + fixed(config.snapshot_rate, 0) + "/s)",
        quantiles_text(beats.latency.summary(), {"p50", "p99", "max"}));
  if (published.empty()) r.fail("no snapshot published during the run");
  if (!beats.latency.empty()) {
    r.target("ack p99 during snapshots", beats.latency.quantile_ms(0.99), 2, true, "ms");
  }
  r.metrics["broker_exit_status"] = broker.process->stop(std::chrono::seconds(5));
  return r;
}

}  // namespace roster::bench
