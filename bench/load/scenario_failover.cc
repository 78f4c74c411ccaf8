// failover: the time a controller is without a broker when the one it
// follows dies. Two brokers hold the same nodes (joined on both with one
// incarnation, as agents in --broker-mode all do); a roster::Subscriber
// follows the pair. The followed broker is killed (SIGKILL) again and
// again; the figure is the time from the kill to the subscriber synced on
// the other broker's snapshot. The killed broker is restarted on the same
// endpoints and the nodes rejoin it before the next kill, so the next
// failover goes into a warming-up broker. The subscriber must report no
// change of any node throughout.
#include <signal.h>

#include <array>
#include <atomic>

#include "agent_channel.h"
#include "latency_stats.h"
#include "roster/clock.h"
#include "roster/subscriber.h"
#include "scenario.h"
#include "support/admin.h"
#include "support/process.h"

namespace roster::bench {

namespace {

// One broker of the pair on `endpoints` (ephemeral ports when empty).
bool start_member(const BenchContext& ctx, const std::string& name,
                  const testing::BrokerEndpoints* endpoints, ServerProcess* broker,
                  ScenarioResult* r) {
  const std::string any = "tcp://127.0.0.1:*";
  std::vector<std::string> argv = {ctx.config.broker_path,
                                   "--agents",
                                   endpoints ? endpoints->agents : any,
                                   "--publish",
                                   endpoints ? endpoints->publish : any,
                                   "--admin",
                                   endpoints ? endpoints->admin : any,
                                   "--log-level",
                                   "warn",
                                   "--beat-interval",
                                   "100ms"};
  std::string error;
  if (!start_server(argv, ctx.config.work_dir, name, std::chrono::seconds(15), broker, &error)) {
    r->fail(error);
    return false;
  }
  return true;
}

}  // namespace

ScenarioResult run_failover(BenchContext& ctx) {
  using Clock = std::chrono::steady_clock;
  const BenchConfig& config = ctx.config;
  ScenarioResult r("failover");
  std::array<ServerProcess, 2> brokers;
  for (size_t b = 0; b < brokers.size(); ++b) {
    const std::string name = "broker-failover-" + std::to_string(b);
    if (!start_member(ctx, name, nullptr, &brokers[b], &r)) return r;
  }
  const std::vector<std::string> ids = node_names("fo-", config.failover_nodes);
  const uint64_t inc = static_cast<uint64_t>(unix_now_ms());
  // A lease far longer than the run: no heartbeats needed.
  auto join_all = [&](const ServerProcess& broker) {
    AgentChannel channel(ctx.zmq, broker.endpoints.agents);
    std::vector<uint64_t> granted;
    return join_nodes(channel, ids, inc, 60'000, &granted, &r);
  };
  for (const auto& broker : brokers) {
    if (!join_all(broker)) return r;
  }

  std::atomic<uint64_t> changes{0};
  SubscriberOptions options;
  for (const auto& broker : brokers) {
    options.brokers.push_back({broker.endpoints.publish, broker.endpoints.admin});
  }
  options.beat_interval_ms = 100;
  options.snapshot_timeout_ms = 500;
  SubscriberCallbacks callbacks;
  callbacks.on_change = [&](const NodeChange&) { ++changes; };
  std::string error;
  auto subscriber = Subscriber::create(options, callbacks, &error);
  if (!subscriber || !subscriber->start()) {
    r.fail("cannot start the subscriber: " + error);
    return r;
  }
  // Synced, and the first snapshot's nodes reported (callbacks run after
  // the view is updated).
  if (!testing::wait_until(
          [&] {
            return subscriber->synced() && subscriber->view().nodes().size() == ids.size() &&
                   changes >= ids.size();
          },
          std::chrono::seconds(10))) {
    r.fail("the subscriber never synced");
    return r;
  }
  const uint64_t initial_changes = changes;

  LatencySamples failover;
  for (size_t kill = 0; kill < config.failover_kills; ++kill) {
    const size_t followed = subscriber->stats().broker_index;
    const size_t other = 1 - followed;
    auto target = testing::admin_snapshot(brokers[other].endpoints.admin);
    if (!target) {
      r.fail("the other broker does not answer");
      return r;
    }
    const uint64_t failovers = subscriber->stats().failovers;
    const auto killed_at = Clock::now();
    brokers[followed].process->signal(SIGKILL);
    const bool moved = testing::wait_until(
        [&] {
          return subscriber->stats().failovers > failovers && subscriber->synced() &&
                 subscriber->view().epoch() == target->epoch;
        },
        std::chrono::seconds(10), std::chrono::milliseconds(1));
    const auto moved_at = Clock::now();
    if (!moved) {
      r.fail("the subscriber did not fail over within 10 s");
      return r;
    }
    failover.add_us(
        std::chrono::duration_cast<std::chrono::microseconds>(moved_at - killed_at).count());
    brokers[followed].process->wait_exit(std::chrono::seconds(5));
    const testing::BrokerEndpoints same = brokers[followed].endpoints;
    const std::string name =
        "broker-failover-" + std::to_string(followed) + "-" + std::to_string(kill);
    if (!start_member(ctx, name, &same, &brokers[followed], &r)) return r;
    if (!join_all(brokers[followed])) return r;
  }

  r.metrics["nodes"] = ids.size();
  r.metrics["kills"] = config.failover_kills;
  r.metrics["beat_interval_ms"] = options.beat_interval_ms;
  r.metrics["failover"] = failover.summary();
  const uint64_t changes_after_sync = changes - initial_changes;
  r.metrics["changes_reported"] = changes_after_sync;
  r.row("kills (" + std::to_string(ids.size()) + " nodes, 100 ms beats)",
        std::to_string(config.failover_kills));
  r.row("kill -> synced on the other broker",
        quantiles_text(failover.summary(), {"p50", "p99", "max"}));
  r.row("node changes reported across the kills", std::to_string(changes_after_sync));
  if (changes_after_sync > 0) {
    r.fail(std::to_string(changes_after_sync) + " node changes reported by failovers");
  }
  subscriber->stop();
  for (auto& broker : brokers) broker.process->stop(std::chrono::seconds(5));
  return r;
}

}  // namespace roster::bench
