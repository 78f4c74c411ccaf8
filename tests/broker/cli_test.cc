// roster-broker as a command: --help, exit status 2 with one clear line for
// every kind of bad flag, exit status 1 for start failures that may pass
// (an endpoint in use, a ready file that cannot be written), config files,
// the ready file, and shutdown on SIGTERM/SIGINT.
#include <gtest/gtest.h>
#include <signal.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "support/admin.h"
#include "support/agent_client.h"
#include "support/broker_process.h"
#include "support/messages.h"
#include "support/raw_sockets.h"
#include "support/version_output.h"

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

// Exit status `status` and exactly one line on stderr that mentions `needle`.
void expect_start_error(const CommandResult& result, int status, const std::string& needle) {
  EXPECT_EQ(result.exit_status, status) << result.err;
  EXPECT_NE(result.err.find(needle), std::string::npos) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
  EXPECT_EQ(result.err.find("terminate called"), std::string::npos) << result.err;
}

// A bad command line: exit status 2, one line.
void expect_usage_error(const CommandResult& result, const std::string& needle) {
  expect_start_error(result, 2, needle);
}

// A start failure that may pass: exit status 1, one line.
void expect_transient_error(const CommandResult& result, const std::string& needle) {
  expect_start_error(result, 1, needle);
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

// --version: one line on stdout, the name, project(VERSION) and the git
// revision when built from a checkout; exit 0.
TEST(CliTest, VersionPrintsNameVersionAndRevision) {
  expect_version_output(broker({"--version"}), "roster-broker");
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
  expect_usage_error(broker({"--agents", "tcp://127.0.0.1:*", "--publish", "udp://127.0.0.1:5"}),
                     "--publish");
  expect_usage_error(broker({"--agents", "tcp://127.0.0.1:*", "--publish", "tcp://127.0.0.1:*",
                             "--admin", "tcp://127.0.0.1:notaport"}),
                     "--admin");
}

TEST(CliTest, EndpointInUseExitsWithStatus1) {
  auto first = BrokerProcess::start();
  ASSERT_NE(first, nullptr);
  const BrokerEndpoints& used = first->endpoints();
  expect_transient_error(broker({"--agents", used.agents, "--publish", "tcp://127.0.0.1:*",
                                 "--admin", "tcp://127.0.0.1:*"}),
                         "cannot bind --agents " + used.agents + ": Address already in use");
  expect_transient_error(broker({"--agents", "tcp://127.0.0.1:*", "--publish", used.publish,
                                 "--admin", "tcp://127.0.0.1:*"}),
                         "cannot bind --publish " + used.publish + ": Address already in use");
  expect_transient_error(broker({"--agents", "tcp://127.0.0.1:*", "--publish", "tcp://127.0.0.1:*",
                                 "--admin", used.admin}),
                         "cannot bind --admin " + used.admin + ": Address already in use");
}

TEST(CliTest, AddressNotOnThisHostExitsWithStatus1) {
  // 192.0.2.0/24 is reserved for documentation: no host has it.
  expect_transient_error(broker({"--agents", "tcp://192.0.2.1:7400", "--publish",
                                 "tcp://127.0.0.1:*", "--admin", "tcp://127.0.0.1:*"}),
                         "--agents tcp://192.0.2.1:7400");
  // An interface that does not exist (yet).
  expect_transient_error(broker({"--agents", "tcp://127.0.0.1:*", "--publish",
                                 "tcp://no-such-if0:7401", "--admin", "tcp://127.0.0.1:*"}),
                         "--publish");
}

// The ready file's directory after a failed start: nothing but `keep`.
void expect_only(const TempDir& dir, const std::vector<std::string>& keep) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, keep);
}

TEST(CliTest, ReadyFileInAMissingDirectoryExitsWithStatus1) {
  TempDir dir;
  const std::string ready = dir.file("missing/ready");
  expect_transient_error(broker({"--agents", "tcp://127.0.0.1:*", "--publish", "tcp://127.0.0.1:*",
                                 "--admin", "tcp://127.0.0.1:*", "--ready-file", ready}),
                         "cannot write --ready-file " + ready + ".tmp: No such file or directory");
  expect_only(dir, {});
}

TEST(CliTest, ReadyFileOnAFullDiskExitsWithStatus1AndLeavesNoTempFile) {
  if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no writable /dev/full";
  TempDir dir;
  const std::string ready = dir.file("ready");
  // Writing the temp file writes to /dev/full: ENOSPC, as on a full disk.
  ASSERT_EQ(symlink("/dev/full", (ready + ".tmp").c_str()), 0);
  expect_transient_error(broker({"--agents", "tcp://127.0.0.1:*", "--publish", "tcp://127.0.0.1:*",
                                 "--admin", "tcp://127.0.0.1:*", "--ready-file", ready}),
                         "cannot write --ready-file " + ready + ".tmp: No space left on device");
  expect_only(dir, {});
}

TEST(CliTest, ReadyFileThatCannotBeRenamedExitsWithStatus1AndLeavesNoTempFile) {
  TempDir dir;
  const std::string ready = dir.file("ready");
  // A non-empty directory where the file should go: rename() fails.
  std::filesystem::create_directories(ready + "/occupied");
  expect_transient_error(broker({"--agents", "tcp://127.0.0.1:*", "--publish", "tcp://127.0.0.1:*",
                                 "--admin", "tcp://127.0.0.1:*", "--ready-file", ready}),
                         "cannot rename " + ready + ".tmp to " + ready);
  expect_only(dir, {"ready"});
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
  auto ack = as_ack(agent.join("n1", 1, 1));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->lease_ms, 300u);
  ack = as_ack(agent.join("n2", 1, 60'000));
  ASSERT_TRUE(ack);
  EXPECT_EQ(ack->lease_ms, 2'000u);
  // A flag given on the command line wins over the file.
  auto flagged =
      BrokerProcess::start({"--config", dir.file("broker.toml"), "--min-lease", "400ms"});
  ASSERT_NE(flagged, nullptr);
  AgentClient other(flagged->endpoints().agents);
  ack = as_ack(other.join("n1", 1, 1));
  ASSERT_TRUE(ack);
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
  ASSERT_TRUE(broker->process().wait_for_output("roster-broker started", std::chrono::seconds(10),
                                                &output));
  for (const std::string& text :
       {broker->endpoints().agents, broker->endpoints().publish, broker->endpoints().admin,
        std::string("dead_after=7s"), std::string("snapshot_interval=30s"),
        std::string("stall_threshold=1s")}) {
    EXPECT_NE(output.find(text), std::string::npos) << text << " in " << output;
  }
}

}  // namespace
}  // namespace roster::testing
