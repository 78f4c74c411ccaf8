// Signals a running broker survives and handles: SIGHUP reloads the log
// level from the config file, SIGUSR1 and SIGUSR2 log a status line,
// SIGPIPE is ignored, and losing the reader of its stderr does not kill it.
// After each, the broker still serves and stops cleanly on SIGTERM.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "support/admin.h"
#include "support/agent_client.h"
#include "support/broker_process.h"
#include "support/messages.h"
#include "support/raw_sockets.h"

namespace roster::testing {
namespace {

using std::chrono::milliseconds;

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// Waits until the broker's log holds `needle`.
bool logged(BrokerProcess& broker, const std::string& needle) {
  return wait_until([&] { return has(broker.process().output(), needle); }, kReplyTimeout);
}

// The broker answers an agent and an admin client, then stops with 0.
// `show_log`: whether the process's log file can be read (not a FIFO).
void expect_serving_then_clean_stop(Process& process, const BrokerEndpoints& endpoints,
                                    bool show_log = true) {
  ASSERT_TRUE(process.running());
  AgentClient agent(endpoints.agents);
  EXPECT_EQ(error_code(agent.join("after-signal", 1, 5'000)), std::nullopt);
  EXPECT_EQ(error_code(agent.heartbeat("after-signal", 1)), std::nullopt);
  AdminClient admin(endpoints.admin);
  auto stats = admin.stats();
  ASSERT_TRUE(stats);
  EXPECT_GE(stats->nodes, 1u);
  process.signal(SIGTERM);
  auto status = process.wait_exit(std::chrono::seconds(10));
  ASSERT_TRUE(status) << "still running after SIGTERM";
  EXPECT_EQ(*status, 0) << (show_log ? process.output() : "");
}

void expect_status_line(int sig, const std::string& name) {
  auto broker = BrokerProcess::start();
  ASSERT_NE(broker, nullptr);
  AgentClient agent(broker->endpoints().agents);
  ASSERT_EQ(error_code(agent.join("n1", 1, 5'000)), std::nullopt);
  broker->process().signal(sig);
  ASSERT_TRUE(logged(*broker, name + ": status: ")) << broker->process().output();
  const std::string output = broker->process().output();
  EXPECT_TRUE(has(output, "nodes=1 (1 alive, 0 suspect, 0 dead, 0 left)")) << output;
  EXPECT_TRUE(has(output, "version=1")) << output;
  expect_serving_then_clean_stop(broker->process(), broker->endpoints());
}

TEST(SignalsTest, Sigusr1LogsAStatusLineAndKeepsServing) {
  expect_status_line(SIGUSR1, "SIGUSR1");
}

TEST(SignalsTest, Sigusr2LogsAStatusLineAndKeepsServing) {
  expect_status_line(SIGUSR2, "SIGUSR2");
}

TEST(SignalsTest, SigpipeIsIgnored) {
  auto broker = BrokerProcess::start();
  ASSERT_NE(broker, nullptr);
  for (int i = 0; i < 3; ++i) broker->process().signal(SIGPIPE);
  // A signal handled after the SIGPIPEs proves they were delivered first.
  broker->process().signal(SIGUSR1);
  ASSERT_TRUE(logged(*broker, "SIGUSR1: status: ")) << broker->process().output();
  expect_serving_then_clean_stop(broker->process(), broker->endpoints());
}

TEST(SignalsTest, SighupWithoutConfigFileReloadsNothing) {
  auto broker = BrokerProcess::start();
  ASSERT_NE(broker, nullptr);
  broker->process().signal(SIGHUP);
  ASSERT_TRUE(logged(*broker, "SIGHUP: reloading")) << broker->process().output();
  ASSERT_TRUE(logged(*broker, "SIGHUP: no --config file, nothing to reload"));
  expect_serving_then_clean_stop(broker->process(), broker->endpoints());
}

TEST(SignalsTest, SighupReloadsTheLogLevelFromTheConfigFile) {
  TempDir dir;
  const std::string config = dir.file("broker.toml");
  std::ofstream(config) << "log-level = \"info\"\n";
  auto broker = BrokerProcess::start({"--config", config});
  ASSERT_NE(broker, nullptr);
  AgentClient agent(broker->endpoints().agents);
  ASSERT_EQ(error_code(agent.join("before", 1, 5'000)), std::nullopt);
  ASSERT_TRUE(logged(*broker, "node before inc 1 alive"));

  // A file that does not parse changes nothing.
  std::ofstream(config) << "log-level = \"loud\"\n";
  broker->process().signal(SIGHUP);
  ASSERT_TRUE(logged(*broker, "SIGHUP: cannot reload " + config)) << broker->process().output();
  ASSERT_EQ(error_code(agent.join("still-info", 1, 5'000)), std::nullopt);
  ASSERT_TRUE(logged(*broker, "node still-info inc 1 alive"));

  // Log level warn: node changes (info) are no longer logged; other
  // settings wait for a restart, and the broker says so.
  std::ofstream(config) << "log-level = \"warn\"\ndead-after = \"9s\"\n";
  broker->process().signal(SIGHUP);
  ASSERT_TRUE(logged(*broker, "SIGHUP: log level info -> warn")) << broker->process().output();
  ASSERT_TRUE(logged(*broker, "take effect at the next restart")) << broker->process().output();
  ASSERT_EQ(error_code(agent.join("after", 1, 5'000)), std::nullopt);
  // A warn line after the join: the join's line would be before it.
  RequestClient raw(broker->endpoints().agents);
  raw.send("not msgpack");
  ASSERT_TRUE(raw.receive());
  ASSERT_TRUE(logged(*broker, "refused (bad_request)")) << broker->process().output();
  EXPECT_FALSE(has(broker->process().output(), "node after inc 1")) << broker->process().output();
  expect_serving_then_clean_stop(broker->process(), broker->endpoints());
}

TEST(SignalsTest, ClosedStderrPipeDoesNotKillTheBroker) {
  TempDir dir;
  const std::string fifo = dir.file("stderr");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // The reader first, so that the broker's side opens without blocking.
  int reader = open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  auto process = Process::start(
      {bin("roster-broker"), "--agents", "tcp://127.0.0.1:*", "--publish", "tcp://127.0.0.1:*",
       "--admin", "tcp://127.0.0.1:*", "--ready-file", dir.file("ready")},
      fifo);
  ASSERT_NE(process, nullptr);
  std::string seen;
  ASSERT_TRUE(wait_until(
      [&] {
        char buffer[4096];
        ssize_t n = read(reader, buffer, sizeof buffer);
        if (n > 0) seen.append(buffer, static_cast<size_t>(n));
        return has(seen, "roster-broker started");
      },
      kReplyTimeout))
      << seen;
  auto ready = broker::read_ready_file(dir.file("ready"));
  ASSERT_TRUE(ready.has_value());
  const BrokerEndpoints endpoints = *ready;

  // The reader goes away; every log line from now on fails with EPIPE.
  close(reader);
  AgentClient agent(endpoints.agents);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(error_code(agent.join("n" + std::to_string(i), 1, 5'000)), std::nullopt) << i;
  }
  RequestClient raw(endpoints.agents);
  raw.send("not msgpack");  // a warn line, flushed at once
  ASSERT_TRUE(raw.receive());
  process->signal(SIGUSR1);
  // Stopping logs and flushes more lines before the exit status is known.
  expect_serving_then_clean_stop(*process, endpoints, false);
}

}  // namespace
}  // namespace roster::testing
