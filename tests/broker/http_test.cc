// roster-broker --http against a real broker process: /metrics counts a
// joined node, /readyz waits for the end of the warm-up, /healthz stops
// answering while the process is stopped (SIGSTOP) and answers again after
// SIGCONT, and a port in use fails the start.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>

#include "support/admin.h"
#include "support/agent_client.h"
#include "support/broker_process.h"
#include "support/http_get.h"
#include "support/process.h"

namespace roster::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Generous for "eventually": tests also run under sanitizers on 2 cores.
constexpr milliseconds kEventually = seconds(20);

int status_of(const std::string& address, const std::string& path,
              milliseconds timeout = seconds(5)) {
  auto answer = http_get(address, path, timeout);
  return answer ? answer->status : 0;
}

TEST(BrokerHttp, ReadyFileNamesTheBoundPort) {
  auto broker = BrokerProcess::start({"--http", "127.0.0.1:0"});
  ASSERT_NE(broker, nullptr);
  const std::string& http = broker->endpoints().http;
  ASSERT_EQ(http.rfind("127.0.0.1:", 0), 0u) << http;
  EXPECT_NE(http, "127.0.0.1:0");
  EXPECT_EQ(status_of(http, "/healthz"), 200);
  EXPECT_EQ(status_of(http, "/no-such-path"), 404);
}

TEST(BrokerHttp, MetricsCountOneAliveNodeAfterAJoin) {
  auto broker = BrokerProcess::start({"--http", "127.0.0.1:0"});
  ASSERT_NE(broker, nullptr);
  const std::string http = broker->endpoints().http;
  AgentClient agent(broker->endpoints().agents);
  ASSERT_TRUE(as_ack(agent.join("node-1", 1, 60'000)).has_value());
  std::string metrics;
  EXPECT_TRUE(wait_until(
      [&] {
        auto answer = http_get(http, "/metrics");
        metrics = answer ? answer->body : "";
        return has_line_starting(metrics, "roster_nodes{state=\"alive\"} 1");
      },
      kEventually, milliseconds(20)))
      << metrics;
  EXPECT_TRUE(has_line_starting(metrics, "roster_joins_total 1")) << metrics;
  EXPECT_TRUE(
      has_line_starting(metrics, "roster_requests_total{channel=\"agent\",type=\"join\"} 1"))
      << metrics;
  EXPECT_TRUE(has_line_starting(metrics, "roster_build_info{")) << metrics;
  EXPECT_TRUE(has_line_starting(metrics, "roster_ack_latency_seconds_count 1")) << metrics;
}

// One count, two views: what `rosterctl stats` says is what /metrics says.
TEST(BrokerHttp, MetricsAndStatsAgree) {
  auto broker = BrokerProcess::start({"--http", "127.0.0.1:0"});
  ASSERT_NE(broker, nullptr);
  AgentClient agent(broker->endpoints().agents);
  ASSERT_TRUE(as_ack(agent.join("node-1", 1, 60'000)).has_value());
  ASSERT_TRUE(as_ack(agent.heartbeat("node-1", 1)).has_value());
  ASSERT_TRUE(as_ack(agent.leave("node-1", 1)).has_value());
  auto stats = admin_stats(broker->endpoints().admin);
  ASSERT_TRUE(stats.has_value());
  EXPECT_EQ(stats->counters["joins"], 1u);
  EXPECT_EQ(stats->counters["leaves"], 1u);
  std::string metrics;
  EXPECT_TRUE(wait_until(
      [&] {
        auto answer = http_get(broker->endpoints().http, "/metrics");
        metrics = answer ? answer->body : "";
        return has_line_starting(metrics, "roster_nodes{state=\"left\"} 1");
      },
      kEventually, milliseconds(20)))
      << metrics;
  EXPECT_TRUE(has_line_starting(metrics, "roster_joins_total 1")) << metrics;
  EXPECT_TRUE(has_line_starting(metrics, "roster_leaves_total 1")) << metrics;
  EXPECT_TRUE(
      has_line_starting(metrics, "roster_requests_total{channel=\"agent\",type=\"heartbeat\"} 1"))
      << metrics;
  EXPECT_TRUE(
      has_line_starting(metrics, "roster_requests_total{channel=\"admin\",type=\"stats\"} 1"))
      << metrics;
}

TEST(BrokerHttp, ReadyzIs503DuringWarmUpAnd200After) {
  // The warm-up lasts one max lease: long enough to look during it even on
  // a loaded machine, short enough to wait for its end.
  auto broker = BrokerProcess::start({"--http", "127.0.0.1:0", "--max-lease", "3s"});
  ASSERT_NE(broker, nullptr);
  const std::string http = broker->endpoints().http;
  EXPECT_EQ(status_of(http, "/readyz"), 503);
  EXPECT_EQ(status_of(http, "/healthz"), 200);
  EXPECT_TRUE(
      wait_until([&] { return status_of(http, "/readyz") == 200; }, kEventually, milliseconds(50)));
}

TEST(BrokerHttp, HealthzFailsWhileStoppedAndRecoversAfterCont) {
  auto broker = BrokerProcess::start({"--http", "127.0.0.1:0"});
  ASSERT_NE(broker, nullptr);
  const std::string http = broker->endpoints().http;
  ASSERT_EQ(status_of(http, "/healthz"), 200);
  broker->process().signal(SIGSTOP);
  // A load balancer's probe: one second, then it counts as a failure.
  EXPECT_FALSE(http_get(http, "/healthz", seconds(1)).has_value());
  broker->process().signal(SIGCONT);
  EXPECT_TRUE(wait_until([&] { return status_of(http, "/healthz", seconds(1)) == 200; },
                         kEventually, milliseconds(20)));
}

TEST(BrokerHttp, PortInUseFailsTheStart) {
  auto first = BrokerProcess::start({"--http", "127.0.0.1:0"});
  ASSERT_NE(first, nullptr);
  const std::string taken = first->endpoints().http;
  CommandResult second =
      run_command({bin("roster-broker"), "--agents", "tcp://127.0.0.1:*", "--publish",
                   "tcp://127.0.0.1:*", "--admin", "tcp://127.0.0.1:*", "--http", taken});
  EXPECT_EQ(second.exit_status, 1) << second.err;
  EXPECT_NE(second.err.find("--http " + taken), std::string::npos) << second.err;
}

TEST(BrokerHttp, MalformedAddressIsAUsageError) {
  CommandResult result = run_command({bin("roster-broker"), "--http", "localhost"});
  EXPECT_EQ(result.exit_status, 2) << result.err;
  EXPECT_NE(result.err.find("--http"), std::string::npos) << result.err;
  result = run_command({bin("roster-broker")}, seconds(20), {"ROSTER_BROKER_HTTP=127.0.0.1:99999"});
  EXPECT_EQ(result.exit_status, 2) << result.err;
}

}  // namespace
}  // namespace roster::testing
