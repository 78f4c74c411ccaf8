// roster-broker's log lines as an operator routes them: --log-format json
// gives one valid JSON object per line, and text lines carry the syslog
// priority prefix when stderr is the journal (JOURNAL_STREAM), so that
// `journalctl -p warning` selects by level.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "support/agent_client.h"
#include "support/broker_process.h"
#include "support/log_lines.h"
#include "support/messages.h"

namespace roster::testing {
namespace {

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

TEST(BrokerLogFormat, JsonLinesAreValidJson) {
  auto broker = BrokerProcess::start({"--log-format", "json"});
  ASSERT_NE(broker, nullptr);
  AgentClient agent(broker->endpoints().agents);
  ASSERT_EQ(error_code(agent.join("n1", 1, 60'000)), std::nullopt);
  // Garbage on the agent channel: a warning line about it.
  RequestClient raw(broker->endpoints().agents);
  raw.send(std::string("\xff\"\n\x01 not msgpack", 15));
  ASSERT_TRUE(raw.receive().has_value());
  broker->process().signal(SIGTERM);
  ASSERT_EQ(broker->process().wait_exit(kReplyTimeout), 0);

  const std::string output = broker->process().output();
  bool started = false;
  bool joined = false;
  bool warned = false;
  for (const std::string& line : lines_of(output)) {
    nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
    ASSERT_TRUE(parsed.is_object()) << line;
    ASSERT_TRUE(parsed["ts"].is_string()) << line;
    EXPECT_TRUE(is_rfc3339_utc_ms(parsed["ts"].get<std::string>())) << line;
    EXPECT_EQ(parsed["logger"], "roster-broker");
    const std::string msg = parsed["msg"].get<std::string>();
    started |= parsed["level"] == "info" && has(msg, "roster-broker started:");
    joined |= parsed["level"] == "info" && has(msg, "node n1 inc 1 alive");
    warned |= parsed["level"] == "warning" && has(msg, "request refused (bad_request)");
  }
  EXPECT_TRUE(started) << output;
  EXPECT_TRUE(joined) << output;
  EXPECT_TRUE(warned) << output;
}

TEST(BrokerLogFormat, TextLinesUseRfc3339Timestamps) {
  auto broker = BrokerProcess::start({});
  ASSERT_NE(broker, nullptr);
  broker->process().signal(SIGTERM);
  ASSERT_EQ(broker->process().wait_exit(kReplyTimeout), 0);
  const auto lines = lines_of(broker->process().output());
  EXPECT_FALSE(lines.empty());
  for (const std::string& line : lines) {
    EXPECT_TRUE(starts_with_rfc3339_utc_ms(line)) << line;
    const std::string rest = line.substr(std::min<size_t>(line.size(), 24));
    EXPECT_TRUE(rest.rfind(" info ", 0) == 0 || rest.rfind(" warning ", 0) == 0) << line;
  }
}

TEST(BrokerLogFormat, TextLinesForTheJournalCarryTheSyslogPriority) {
  TempDir dir;
  const std::string log = dir.file("log");
  std::ofstream(log).close();
  struct stat status {};
  ASSERT_EQ(stat(log.c_str(), &status), 0);
  const std::string config = dir.file("broker.toml");
  std::ofstream(config) << "log-level = \"info\"\n";
  // The log file stands in for the journal stream (same device and inode).
  setenv("JOURNAL_STREAM",
         (std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino)).c_str(), 1);
  auto process =
      Process::start({bin("roster-broker"), "--agents", "tcp://127.0.0.1:*", "--publish",
                      "tcp://127.0.0.1:*", "--admin", "tcp://127.0.0.1:*", "--config", config},
                     log);
  unsetenv("JOURNAL_STREAM");
  ASSERT_NE(process, nullptr);
  ASSERT_TRUE(
      wait_until([&] { return has(process->output(), "roster-broker started"); }, kReplyTimeout))
      << process->output();
  // An invalid config file on SIGHUP: a warning.
  std::ofstream(config) << "log-level = \"loud\"\n";
  process->signal(SIGHUP);
  ASSERT_TRUE(
      wait_until([&] { return has(process->output(), "SIGHUP: cannot reload"); }, kReplyTimeout))
      << process->output();
  process->signal(SIGTERM);
  ASSERT_EQ(process->wait_exit(kReplyTimeout), 0);
  bool info = false;
  bool warning = false;
  for (const std::string& line : lines_of(process->output())) {
    ASSERT_EQ(line.front(), '<') << line;
    info |= line.rfind("<6>", 0) == 0 && has(line, "Z info roster-broker started");
    warning |= line.rfind("<4>", 0) == 0 && has(line, "Z warning SIGHUP: cannot reload");
  }
  EXPECT_TRUE(info) << process->output();
  EXPECT_TRUE(warning) << process->output();
}

}  // namespace
}  // namespace roster::testing
