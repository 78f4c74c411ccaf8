// roster-agent --http against a real broker (also with --http): the
// agent's /healthz and /metrics, and the broker's node count as an
// operator would check it with curl.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "support/broker_process.h"
#include "support/http_get.h"
#include "support/process.h"

namespace roster::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Generous for "eventually": tests also run under sanitizers on 2 cores.
constexpr milliseconds kEventually = seconds(20);
constexpr char kServing[] = "serving /healthz and /metrics on http://";

// The agent's HOST:PORT, read from its log once it serves; empty if it
// does not within kEventually.
std::string agent_http_address(const Process& agent) {
  std::string output;
  if (!agent.wait_for_output(kServing, kEventually, &output)) return {};
  const size_t start = output.find(kServing) + sizeof(kServing) - 1;
  return output.substr(start, output.find_first_of(" \n", start) - start);
}

// Waits until GET `path` answers 200 with a line starting with `prefix`;
// the last body seen goes to *body.
bool wait_for_line(const std::string& address, const std::string& path, const std::string& prefix,
                   std::string* body) {
  return wait_until(
      [&] {
        auto answer = http_get(address, path);
        *body = answer ? answer->body : "";
        return answer && answer->status == 200 && has_line_starting(*body, prefix);
      },
      kEventually, milliseconds(20));
}

TEST(AgentHttp, HealthAndMetricsOfAJoinedAgent) {
  auto broker = BrokerProcess::start({"--http", "127.0.0.1:0"});
  ASSERT_NE(broker, nullptr);
  auto agent = Process::start({bin("roster-agent"), "--broker", broker->endpoints().agents,
                               "--node-id", "node-1", "--lease", "1s", "--http", "127.0.0.1:0"});
  ASSERT_NE(agent, nullptr);
  const std::string address = agent_http_address(*agent);
  ASSERT_FALSE(address.empty()) << agent->output_tail();

  std::string body;
  EXPECT_TRUE(wait_for_line(address, "/metrics", "roster_agent_broker_link_up 1", &body)) << body;
  // A heartbeat every lease/3: the first ack comes within a second.
  EXPECT_TRUE(wait_until(
      [&] {
        auto answer = http_get(address, "/metrics");
        body = answer ? answer->body : "";
        return has_line_starting(body, "roster_agent_heartbeats_acked_total ") &&
               !has_line_starting(body, "roster_agent_heartbeats_acked_total 0");
      },
      kEventually, milliseconds(20)))
      << body;
  EXPECT_FALSE(has_line_starting(body, "roster_agent_heartbeats_sent_total 0")) << body;
  EXPECT_TRUE(has_line_starting(body, "roster_agent_phase{phase=\"joined\"} 1")) << body;
  auto health = http_get(address, "/healthz");
  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok: joined\n");
  // The broker counts it, as `curl .../metrics | grep` would.
  EXPECT_TRUE(
      wait_for_line(broker->endpoints().http, "/metrics", "roster_nodes{state=\"alive\"} 1", &body))
      << body;
}

TEST(AgentHttp, LosingTheBrokerCountsAFailoverAndStaysHealthy) {
  auto broker = BrokerProcess::start();
  ASSERT_NE(broker, nullptr);
  auto agent = Process::start({bin("roster-agent"), "--broker", broker->endpoints().agents,
                               "--node-id", "node-1", "--lease", "1s", "--http", "127.0.0.1:0"});
  ASSERT_NE(agent, nullptr);
  const std::string address = agent_http_address(*agent);
  ASSERT_FALSE(address.empty()) << agent->output_tail();
  std::string body;
  ASSERT_TRUE(wait_for_line(address, "/metrics", "roster_agent_broker_link_up 1", &body)) << body;

  broker->process().stop(seconds(5));
  EXPECT_TRUE(wait_for_line(address, "/metrics", "roster_agent_failovers_total 1", &body)) << body;
  EXPECT_TRUE(has_line_starting(body, "roster_agent_broker_link_up 0")) << body;
  // Still running (waiting to reconnect): healthy.
  auto health = http_get(address, "/healthz");
  ASSERT_TRUE(health.has_value());
  EXPECT_EQ(health->status, 200) << health->body;
}

}  // namespace
}  // namespace roster::testing
