// roster-broker as a command: --help, exit status 2 with one clear line for
// every kind of bad flag, config files, the ready file, and shutdown on
// SIGTERM/SIGINT.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <map>

#include "broker_client.h"
#include "support/broker_process.h"

namespace roster::testing {
namespace {

using std::chrono::milliseconds;

#ifdef ROSTER_TEST_SANITIZED
constexpr milliseconds kStopLimit{3'000};
#else
constexpr milliseconds kStopLimit{1'000};
#endif

CommandResult broker(std::vector<std::string> args) {
  args.insert(args.begin(), bin("roster-broker"));
  return run_command(args);
}

// Exit status 2 and exactly one line on stderr that mentions `needle`.
void expect_usage_error(const CommandResult& result, const std::string& needle) {
  EXPECT_EQ(result.exit_status, 2) << result.err;
  EXPECT_NE(result.err.find(needle), std::string::npos) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_EQ(result.err.find("terminate called"), std::string::npos) << result.err;
}

TEST(CliTest, HelpDocumentsEveryOptionAndDefault) {
  auto result = broker({"--help"});
  EXPECT_EQ(result.exit_status, 0);
  for (const char* text : {"--agents",
                           "tcp://*:7400",
                           "--publish",
                           "tcp://*:7401",
                           "--admin",
                           "tcp://127.0.0.1:7402",
                           "--min-lease",
                           "--max-lease",
                           "--dead-after",
                           "--forget-dead-after",
                           "--forget-left-after",
                           "--tombstone-ttl",
                           "--max-tombstones",
                           "--max-nodes",
                           "=200000",
                           "--max-record-bytes",
                           "=2048",
                           "--stall-threshold",
                           "--publish-interval",
                           "--snapshot-interval",
                           "=30s",
                           "--beat-interval",
                           "=1s",
                           "--log-level",
                           "--config",
                           "--ready-file"}) {
    EXPECT_NE(result.out.find(text), std::string::npos) << text;
  }
}

TEST(CliTest, BadFlagsExitWithStatus2AndOneLine) {
  expect_usage_error(broker({"--no-such-flag"}), "--no-such-flag");
  expect_usage_error(broker({"--min-lease", "soon"}), "invalid duration 'soon'");
  expect_usage_error(broker({"--dead-after", "-3s"}), "invalid duration");
  expect_usage_error(broker({"--max-tombstones", "many"}), "--max-tombstones");
  expect_usage_error(broker({"--log-level", "loud"}), "--log-level");
  expect_usage_error(broker({"--min-lease", "5s", "--max-lease", "1s"}), "--min-lease");
  expect_usage_error(broker({"--beat-interval", "0"}), "--beat-interval");
  expect_usage_error(broker({"--config", "/nonexistent/roster.toml"}), "/nonexistent/roster.toml");
}

TEST(CliTest, BadEndpointsExitWithStatus2AndOneLine) {
  expect_usage_error(broker({"--agents", "nonsense"}), "--agents");
  expect_usage_error(broker({"--agents", "tcp://127.0.0.1:*", "--publish", "bogus://x"}),
                     "--publish");
  expect_usage_error(broker({"--agents", "tcp://127.0.0.1:*", "--publish", "tcp://127.0.0.1:*",
                             "--admin", "tcp://999.1.1.1:1"}),
                     "--admin");
}

TEST(CliTest, EndpointInUseExitsWithStatus2) {
  auto first = BrokerProcess::start();
  ASSERT_NE(first, nullptr);
  auto result = broker({"--agents", first->endpoints().agents, "--publish", "tcp://127.0.0.1:*",
                        "--admin", "tcp://127.0.0.1:*"});
  expect_usage_error(result, first->endpoints().agents);
}

TEST(CliTest, ReadyFileHasResolvedEndpointsAndPid) {
  TempDir dir;
  auto process = Process::start({bin("roster-broker"), "--agents", "tcp://127.0.0.1:*", "--publish",
                                 "ipc://" + dir.file("pub"), "--admin", "tcp://127.0.0.1:*",
                                 "--ready-file", dir.file("ready")});
  ASSERT_NE(process, nullptr);
  std::map<std::string, std::string> kv;
  ASSERT_TRUE(wait_until(
      [&] {
        std::ifstream in(dir.file("ready"));
        std::string line;
        kv.clear();
        while (std::getline(in, line)) {
          auto eq = line.find('=');
          if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
        }
        return kv.count("pid") > 0;
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(kv["pid"], std::to_string(process->pid()));
  EXPECT_EQ(kv["publish"], "ipc://" + dir.file("pub"));
  EXPECT_EQ(kv["agents"].rfind("tcp://127.0.0.1:", 0), 0u) << kv["agents"];
  EXPECT_EQ(kv["agents"].find('*'), std::string::npos) << kv["agents"];
  EXPECT_EQ(kv["admin"].find('*'), std::string::npos) << kv["admin"];
  EXPECT_EQ(kv.size(), 4u);
  // The resolved endpoints work.
  AgentClient agent(kv["agents"]);
  EXPECT_EQ(error_code(agent.join("n1", 1, 1'000)), std::nullopt);
}

TEST(CliTest, ConfigFileSetsOptions) {
  TempDir dir;
  {
    std::ofstream config(dir.file("broker.toml"));
    config << "# roster-broker settings\n"
              "min-lease = \"300ms\"\n"
              "max-lease = \"2s\"\n"
              "log-level = \"warn\"\n";
  }
  auto broker = BrokerProcess::start({"--config", dir.file("broker.toml")});
  ASSERT_NE(broker, nullptr);
  AgentClient agent(broker->endpoints().agents);
  auto reply = agent.join("n1", 1, 1);
  ASSERT_TRUE(reply);
  auto* ack = std::get_if<Ack>(&*reply);
  ASSERT_NE(ack, nullptr) << describe(*reply);
  EXPECT_EQ(ack->lease_ms, 300u);
  reply = agent.join("n2", 1, 60'000);
  ASSERT_TRUE(reply);
  ack = std::get_if<Ack>(&*reply);
  ASSERT_NE(ack, nullptr) << describe(*reply);
  EXPECT_EQ(ack->lease_ms, 2'000u);
  // A flag given on the command line wins over the file.
  auto flagged =
      BrokerProcess::start({"--config", dir.file("broker.toml"), "--min-lease", "400ms"});
  ASSERT_NE(flagged, nullptr);
  AgentClient other(flagged->endpoints().agents);
  reply = other.join("n1", 1, 1);
  ASSERT_TRUE(reply);
  ack = std::get_if<Ack>(&*reply);
  ASSERT_NE(ack, nullptr) << describe(*reply);
  EXPECT_EQ(ack->lease_ms, 400u);
}

TEST(CliTest, ConfigFileErrorsExitWithStatus2) {
  TempDir dir;
  {
    std::ofstream config(dir.file("unknown.toml"));
    config << "min-lease = \"300ms\"\nno-such-option = 1\n";
  }
  expect_usage_error(broker({"--config", dir.file("unknown.toml")}), "no-such-option");
  {
    std::ofstream config(dir.file("bad.toml"));
    config << "dead-after = \"whenever\"\n";
  }
  expect_usage_error(broker({"--config", dir.file("bad.toml")}), "invalid duration");
}

void expect_clean_stop(int sig) {
  auto broker = BrokerProcess::start();
  ASSERT_NE(broker, nullptr);
  AgentClient agent(broker->endpoints().agents);
  ASSERT_EQ(error_code(agent.join("n1", 1, 1'000)), std::nullopt);
  auto sent = std::chrono::steady_clock::now();
  broker->process().signal(sig);
  auto status = broker->process().wait_exit(std::chrono::seconds(10));
  auto took = std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - sent);
  ASSERT_TRUE(status) << "still running after 10 s";
  EXPECT_EQ(*status, 0) << broker->process().output();
  EXPECT_LT(took, kStopLimit);
  EXPECT_NE(broker->process().output().find("roster-broker stopped"), std::string::npos);
}

TEST(CliTest, SigtermStopsCleanlyAndQuickly) {
  expect_clean_stop(SIGTERM);
}
TEST(CliTest, SigintStopsCleanlyAndQuickly) {
  expect_clean_stop(SIGINT);
}

TEST(CliTest, StartupLineNamesEveryEndpointAndSetting) {
  auto broker = BrokerProcess::start({"--dead-after", "7s"});
  ASSERT_NE(broker, nullptr);
  std::string output;
  ASSERT_TRUE(wait_until(
      [&] {
        output = broker->process().output();
        return output.find("roster-broker started") != std::string::npos;
      },
      std::chrono::seconds(10)));
  for (const std::string& text :
       {broker->endpoints().agents, broker->endpoints().publish, broker->endpoints().admin,
        std::string("dead_after=7s"), std::string("snapshot_interval=30s"),
        std::string("stall_threshold=1s")}) {
    EXPECT_NE(output.find(text), std::string::npos) << text << " in " << output;
  }
}

}  // namespace
}  // namespace roster::testing
