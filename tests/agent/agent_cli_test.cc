// roster-agent's command line and exit statuses (docs/OPERATIONS.md, "Agent").
#include <gtest/gtest.h>
#include <signal.h>

#include <stdlib.h>

#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support/fake_agent_channel.h"
#include "support/log_lines.h"
#include "support/notify_socket.h"
#include "support/process.h"
#include "support/scoped_env.h"
#include "support/version_output.h"

namespace roster::testing {
namespace {

using std::chrono::seconds;

CommandResult agent(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {bin("roster-agent")};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, seconds(20));
}

// Starts roster-agent against `broker` as `node_id`, with the flags `extra`.
std::unique_ptr<Process> start_agent(FakeAgentChannel& broker, const std::string& node_id,
                                     const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {bin("roster-agent"), "--broker", broker.endpoint(), "--node-id",
                                   node_id};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return Process::start(argv);
}

// The join `broker` receives from `agent` within 10 s; nullopt after a
// test failure showing the agent's output if none came.
std::optional<FakeAgentChannel::Received> next_join(FakeAgentChannel& broker, Process& agent) {
  auto join = broker.next_of<JoinRequest>(seconds(10));
  if (!join) ADD_FAILURE() << "no join from roster-agent:\n" << agent.output();
  return join;
}

TEST(AgentCli, HelpExitsZeroAndDocumentsTheExitStatuses) {
  auto result = agent({"--help"});
  EXPECT_EQ(result.exit_status, 0);
  EXPECT_NE(result.out.find("--broker"), std::string::npos);
  EXPECT_NE(result.out.find("3 removed"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("4 another agent holds this node id"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("--dead-after"), std::string::npos) << result.out;
}

// --version: one line on stdout, the name, project(VERSION) and the git
// revision when built from a checkout; exit 0, without the required --broker.
TEST(AgentCli, VersionPrintsNameVersionAndRevision) {
  expect_version_output(agent({"--version"}), "roster-agent");
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
        UsageCase{{"--broker", "tcp://127.0.0.1:1", "--bogus"}, "--bogus"},
        UsageCase{{"--broker", "tcp://127.0.0.1:1", "--lease", "30s1m"}, "not a duration"},
        UsageCase{{"--broker", "tcp://127.0.0.1:1", "--log-format", "xml"}, "--log-format"},
        UsageCase{{"--broker", "tcp://127.0.0.1:1", "--broker-mode", "some"}, "--broker-mode"},
        UsageCase{{"--broker", "tcp://127.0.0.1:1", "--broker", "tcp://127.0.0.1:1"},
                  "listed twice"},
        UsageCase{{"--broker", "tcp://127.0.0.1:1", "--dead-after", "soon"}, "not a duration"},
        UsageCase{{"--broker", "tcp://127.0.0.1:1", "--config", "/nonexistent/agent.toml"},
                  "/nonexistent/agent.toml"}));

TEST(AgentCli, HelpNamesDurationsOnceAndTheEnvironmentVariables) {
  auto result = agent({"--help"});
  EXPECT_EQ(result.exit_status, 0);
  EXPECT_EQ(result.out.find("DURATION:DURATION"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("TEXT:DURATION"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("--lease DURATION=3s"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("ROSTER_AGENT_NODE_ID"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("--config FILE"), std::string::npos) << result.out;
}

TEST(AgentCli, InvalidEnvironmentValueExitsTwo) {
  auto result = run_command({bin("roster-agent"), "--broker", "tcp://127.0.0.1:1"}, seconds(20),
                            {"ROSTER_AGENT_LEASE=soon"});
  EXPECT_EQ(result.exit_status, 2) << result.err;
  EXPECT_NE(result.err.find("not a duration"), std::string::npos) << result.err;
}

// Acks the join it expects, then sends SIGTERM and acks the leave.
void join_and_leave(FakeAgentChannel& broker, Process& process, const JoinRequest& expected) {
  auto join = broker.next_of<JoinRequest>(seconds(10));
  ASSERT_TRUE(join.has_value()) << process.output();
  const auto& request = std::get<JoinRequest>(join->request);
  EXPECT_EQ(request.node, expected.node);
  EXPECT_EQ(request.addr, expected.addr);
  EXPECT_EQ(request.lease_ms, expected.lease_ms);
  EXPECT_EQ(request.labels, expected.labels);
  broker.ack(*join);
  process.signal(SIGTERM);
  auto leave = broker.next_of<LeaveRequest>(seconds(10));
  ASSERT_TRUE(leave.has_value()) << process.output();
  broker.ack(*leave);
  EXPECT_EQ(process.wait_exit(seconds(10)), 0) << process.output();
}

TEST(AgentCli, FlagsComeFromTheEnvironment) {
  FakeAgentChannel broker;
  std::unique_ptr<Process> process;
  {
    // Two endpoints separated by a comma; the first one answers.
    ScopedEnv brokers("ROSTER_AGENT_BROKER", broker.endpoint() + ",tcp://127.0.0.1:1");
    ScopedEnv node("ROSTER_AGENT_NODE_ID", "env-node");
    ScopedEnv addr("ROSTER_AGENT_ADDR", "10.0.0.9:80");
    ScopedEnv label("ROSTER_AGENT_LABEL", "zone=b");
    ScopedEnv lease("ROSTER_AGENT_LEASE", "1m30s");
    ScopedEnv interval("ROSTER_AGENT_INTERVAL", "1s");
    ScopedEnv leave_timeout("ROSTER_AGENT_LEAVE_TIMEOUT", "2s");
    ScopedEnv log_level("ROSTER_AGENT_LOG_LEVEL", "debug");
    process = Process::start({bin("roster-agent")});
  }
  ASSERT_NE(process, nullptr);
  JoinRequest expected;
  expected.node = "env-node";
  expected.addr = "10.0.0.9:80";
  expected.lease_ms = 90'000;
  expected.labels = Labels{{"zone", "b"}};
  join_and_leave(broker, *process, expected);
  EXPECT_NE(process->output().find("tcp://127.0.0.1:1"), std::string::npos) << process->output();
}

TEST(AgentCli, FlagsComeFromAConfigFileAndTheCommandLineWins) {
  FakeAgentChannel broker;
  TempDir dir;
  {
    std::ofstream config(dir.file("agent.toml"));
    config << "# roster-agent settings\n"
           << "broker = [\"" << broker.endpoint() << "\"]\n"
           << "node-id = \"from-file\"\n"
           << "addr = \"10.0.0.8:80\"\n"
           << "label = [\"zone=c\", \"role=db\"]\n"
           << "lease = \"1m1s\"\n";
  }
  std::unique_ptr<Process> process;
  {
    ScopedEnv addr("ROSTER_AGENT_ADDR", "10.0.0.9:80");  // the file wins
    process = Process::start({bin("roster-agent"), "--config", dir.file("agent.toml"), "--node-id",
                              "from-command-line"});
  }
  ASSERT_NE(process, nullptr);
  JoinRequest expected;
  expected.node = "from-command-line";
  expected.addr = "10.0.0.8:80";
  expected.lease_ms = 61'000;
  expected.labels = Labels{{"zone", "c"}, {"role", "db"}};
  join_and_leave(broker, *process, expected);
}

TEST(AgentCli, ConfigFileComesFromTheEnvironment) {
  FakeAgentChannel broker;
  TempDir dir;
  {
    std::ofstream config(dir.file("agent.toml"));
    config << "broker = \"" << broker.endpoint() << "\"\nnode-id = \"env-config\"\n";
  }
  std::unique_ptr<Process> process;
  {
    ScopedEnv config("ROSTER_AGENT_CONFIG", dir.file("agent.toml"));
    process = Process::start({bin("roster-agent")});
  }
  ASSERT_NE(process, nullptr);
  JoinRequest expected;
  expected.node = "env-config";
  expected.lease_ms = 3'000;
  join_and_leave(broker, *process, expected);
}

TEST(AgentCli, RefusedJoinExitsOne) {
  FakeAgentChannel broker;
  auto process = start_agent(broker, "refused");
  ASSERT_NE(process, nullptr);
  auto join = next_join(broker, *process);
  ASSERT_TRUE(join.has_value());
  broker.refuse(*join, ErrorCode::kBadRequest);
  EXPECT_EQ(process->wait_exit(seconds(10)), 1) << process->output();
  EXPECT_NE(process->output().find("bad_request"), std::string::npos) << process->output();
}

TEST(AgentCli, LabelsAndAddressReachTheBroker) {
  FakeAgentChannel broker;
  auto process = start_agent(broker, "web-1",
                             {"--addr", "10.0.0.7:80", "--label", "zone=a", "--label",
                              "role=web=frontend", "--lease", "2s"});
  ASSERT_NE(process, nullptr);
  auto join = next_join(broker, *process);
  ASSERT_TRUE(join.has_value());
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
  auto process = start_agent(broker, "hurried", {"--leave-timeout", "200ms"});
  ASSERT_NE(process, nullptr);
  auto join = next_join(broker, *process);
  ASSERT_TRUE(join.has_value());
  broker.ack(*join);
  process->signal(SIGTERM);
  ASSERT_TRUE(broker.next_of<LeaveRequest>(seconds(10)).has_value());
  EXPECT_EQ(process->wait_exit(seconds(10)), 0) << process->output();
}

// Under systemd (a datagram socket stands in for NOTIFY_SOCKET): READY=1
// at start, STATUS= on each change of state, WATCHDOG=1 at half
// WATCHDOG_USEC, STOPPING=1 on SIGTERM.
TEST(AgentCli, NotifiesSystemd) {
#ifndef ROSTER_HAVE_SYSTEMD
  GTEST_SKIP() << "built without libsystemd (Debian: libsystemd-dev)";
#endif
  FakeAgentChannel broker;
  NotifySocket socket;
  std::unique_ptr<Process> process;
  {
    ScopedEnv notify("NOTIFY_SOCKET", socket.path());
    ScopedEnv watchdog("WATCHDOG_USEC", "400000");
    process = Process::start(
        {bin("roster-agent"), "--broker", broker.endpoint(), "--node-id", "notified"});
  }
  ASSERT_NE(process, nullptr);
  const std::string ready = socket.wait_for_line("READY=1", seconds(10));
  EXPECT_NE(ready.find("STATUS=joining " + broker.endpoint()), std::string::npos) << ready;
  auto join = broker.next_of<JoinRequest>(seconds(10));
  ASSERT_TRUE(join.has_value()) << process->output();
  broker.ack(*join);
  const std::string joined = socket.wait_for(
      [](const std::string& m) { return m.rfind("STATUS=joined", 0) == 0; }, seconds(10));
  EXPECT_FALSE(joined.empty()) << process->output();
  EXPECT_TRUE(wait_until([&] { return socket.count_line("WATCHDOG=1") >= 3; }, seconds(10)))
      << socket.count_line("WATCHDOG=1");
  process->signal(SIGTERM);
  auto leave = broker.next_of<LeaveRequest>(seconds(10));
  ASSERT_TRUE(leave.has_value()) << process->output();
  broker.ack(*leave);
  EXPECT_EQ(process->wait_exit(seconds(10)), 0) << process->output();
  EXPECT_FALSE(socket.wait_for_line("STOPPING=1", seconds(10)).empty());
}

TEST(AgentCli, SendsNothingOutsideSystemd) {
  FakeAgentChannel broker;
  NotifySocket socket;
  std::unique_ptr<Process> process;
  {
    ScopedEnv watchdog("WATCHDOG_USEC", "200000");
    process = Process::start(
        {bin("roster-agent"), "--broker", broker.endpoint(), "--node-id", "unnotified"});
  }
  ASSERT_NE(process, nullptr);
  JoinRequest expected;
  expected.node = "unnotified";
  expected.lease_ms = 3'000;
  join_and_leave(broker, *process, expected);
  EXPECT_TRUE(socket.messages().empty());
}

TEST(AgentCli, JsonLogLinesAreValidJson) {
  FakeAgentChannel broker;
  auto process = start_agent(broker, "json-node", {"--log-format", "json"});
  ASSERT_NE(process, nullptr);
  auto join = next_join(broker, *process);
  ASSERT_TRUE(join.has_value());
  // Hostile messages are covered by service_log_format_test.
  broker.refuse(*join, ErrorCode::kBadRequest);
  EXPECT_EQ(process->wait_exit(seconds(10)), 1) << process->output();
  bool refused = false;
  for (const std::string& line : lines_of(process->output())) {
    nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(parsed.is_object()) << line;
    EXPECT_TRUE(is_rfc3339_utc_ms(parsed["ts"].get<std::string>())) << line;
    EXPECT_EQ(parsed["logger"], "roster-agent");
    const std::string msg = parsed["msg"].get<std::string>();
    refused |= parsed["level"] == "error" && msg.find("bad_request") != std::string::npos;
  }
  EXPECT_TRUE(refused) << process->output();
}

TEST(AgentCli, TextLogLinesForTheJournalCarryTheSyslogPriority) {
  FakeAgentChannel broker;
  TempDir dir;
  const std::string log = dir.file("log");
  std::ofstream(log).close();
  struct stat status {};
  ASSERT_EQ(stat(log.c_str(), &status), 0);
  std::unique_ptr<Process> process;
  {
    ScopedEnv journal("JOURNAL_STREAM",
                      std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino));
    process = Process::start(
        {bin("roster-agent"), "--broker", broker.endpoint(), "--node-id", "journaled"}, log);
  }
  ASSERT_NE(process, nullptr);
  JoinRequest expected;
  expected.node = "journaled";
  expected.lease_ms = 3'000;
  join_and_leave(broker, *process, expected);
  const auto lines = lines_of(process->output());
  EXPECT_FALSE(lines.empty());
  for (const std::string& line : lines) {
    EXPECT_EQ(line.rfind("<6>", 0), 0u) << line;
    EXPECT_TRUE(starts_with_rfc3339_utc_ms(std::string_view(line).substr(3))) << line;
    EXPECT_EQ(line.find(" info ", 3), 27u) << line;
  }
}

}  // namespace
}  // namespace roster::testing
