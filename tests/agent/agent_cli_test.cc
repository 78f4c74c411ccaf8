// roster-agent's command line and exit statuses (docs/OPERATIONS.md, "Agent").
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>

#include "roster_build_version.h"
#include "support/fake_agent_channel.h"
#include "support/process.h"

namespace roster::testing {
namespace {

using std::chrono::seconds;

CommandResult agent(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {bin("roster-agent")};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, seconds(20));
}

TEST(AgentCli, HelpExitsZeroAndDocumentsTheExitStatuses) {
  auto result = agent({"--help"});
  EXPECT_EQ(result.exit_status, 0);
  EXPECT_NE(result.out.find("--broker"), std::string::npos);
  EXPECT_NE(result.out.find("3 removed"), std::string::npos) << result.out;
}

// --version: one line on stdout, the name, project(VERSION) and the git
// revision when built from a checkout; exit 0, without the required --broker.
TEST(AgentCli, VersionPrintsNameVersionAndRevision) {
  auto result = agent({"--version"});
  EXPECT_EQ(result.exit_status, 0) << result.err;
  EXPECT_EQ(result.out.rfind(std::string("roster-agent ") + kVersion, 0), 0u) << result.out;
  EXPECT_EQ(result.out, version_text("roster-agent") + "\n");
  EXPECT_EQ(result.err, "");
}

// Each invalid command line exits 2 with a message naming the problem.
struct UsageCase {
  std::vector<std::string> args;
  std::string message;
};

class AgentCliUsage : public ::testing::TestWithParam<UsageCase> {};

TEST_P(AgentCliUsage, ExitsTwoWithAClearMessage) {
  auto result = agent(GetParam().args);
  EXPECT_EQ(result.exit_status, 2) << result.err;
  EXPECT_NE(result.err.find(GetParam().message), std::string::npos) << result.err;
}

INSTANTIATE_TEST_SUITE_P(
    Flags, AgentCliUsage,
    ::testing::Values(
        UsageCase{{}, "--broker is required"},
        UsageCase{{"--broker", "tcp://127.0.0.1:1", "--lease", "soon"}, "not a duration"},
        UsageCase{{"--broker", "tcp://127.0.0.1:1", "--interval", "-1s"}, "not a duration"},
        UsageCase{{"--broker", "tcp://127.0.0.1:1", "--lease", "1s", "--interval", "2s"},
                  "shorter than the lease"},
        UsageCase{{"--broker", "tcp://127.0.0.1:1", "--label", "novalue"}, "key=value"},
        UsageCase{{"--broker", "tcp://127.0.0.1:1", "--label", "=v"}, "key=value"},
        UsageCase{{"--broker", "tcp://127.0.0.1:1", "--node-id", "no spaces"}, "node id"},
        UsageCase{{"--broker", "localhost:7400"}, "transport://address"},
        UsageCase{{"--broker", "tcp://127.0.0.1:1", "--log-level", "loud"}, "--log-level"},
        UsageCase{{"--broker", "tcp://127.0.0.1:1", "--bogus"}, "--bogus"}));

TEST(AgentCli, RefusedJoinExitsOne) {
  FakeAgentChannel broker;
  auto process =
      Process::start({bin("roster-agent"), "--broker", broker.endpoint(), "--node-id", "refused"});
  ASSERT_NE(process, nullptr);
  auto join = broker.next_of<JoinRequest>(seconds(10));
  ASSERT_TRUE(join.has_value()) << process->output();
  broker.refuse(*join, ErrorCode::kBadRequest);
  EXPECT_EQ(process->wait_exit(seconds(10)), 1) << process->output();
  EXPECT_NE(process->output().find("bad_request"), std::string::npos) << process->output();
}

TEST(AgentCli, LabelsAndAddressReachTheBroker) {
  FakeAgentChannel broker;
  auto process = Process::start({bin("roster-agent"), "--broker", broker.endpoint(), "--node-id",
                                 "web-1", "--addr", "10.0.0.7:80", "--label", "zone=a", "--label",
                                 "role=web=frontend", "--lease", "2s"});
  ASSERT_NE(process, nullptr);
  auto join = broker.next_of<JoinRequest>(seconds(10));
  ASSERT_TRUE(join.has_value()) << process->output();
  const auto& request = std::get<JoinRequest>(join->request);
  EXPECT_EQ(request.node, "web-1");
  EXPECT_EQ(request.addr, "10.0.0.7:80");
  EXPECT_EQ(request.lease_ms, 2000u);
  EXPECT_EQ(request.labels, (Labels{{"zone", "a"}, {"role", "web=frontend"}}));
  broker.ack(*join);
  process->signal(SIGTERM);
  auto leave = broker.next_of<LeaveRequest>(seconds(10));
  ASSERT_TRUE(leave.has_value()) << process->output();
  broker.ack(*leave);
  EXPECT_EQ(process->wait_exit(seconds(10)), 0) << process->output();
}

TEST(AgentCli, SigtermWithoutAnAckStillExitsZeroAfterTheLeaveTimeout) {
  FakeAgentChannel broker;
  auto process = Process::start({bin("roster-agent"), "--broker", broker.endpoint(), "--node-id",
                                 "hurried", "--leave-timeout", "200ms"});
  ASSERT_NE(process, nullptr);
  auto join = broker.next_of<JoinRequest>(seconds(10));
  ASSERT_TRUE(join.has_value());
  broker.ack(*join);
  process->signal(SIGTERM);
  ASSERT_TRUE(broker.next_of<LeaveRequest>(seconds(10)).has_value());
  EXPECT_EQ(process->wait_exit(seconds(10)), 0) << process->output();
}

}  // namespace
}  // namespace roster::testing
