// parse_options() without a process: defaults, durations, combinations.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <optional>

#include "options.h"
#include "support/process.h"
#include "support/scoped_env.h"

namespace roster::broker {
namespace {

using roster::testing::ScopedEnv;

ParseResult parse(std::vector<const char*> args) {
  args.insert(args.begin(), "roster-broker");
  return parse_options(static_cast<int>(args.size()), args.data());
}

// The options parsed from `args`; nullopt after a test failure showing
// what parsing printed if it ended the program instead.
std::optional<BrokerOptions> options_from(std::vector<const char*> args) {
  auto result = parse(std::move(args));
  if (auto* options = std::get_if<BrokerOptions>(&result)) return std::move(*options);
  ADD_FAILURE() << "no options: " << std::get<ParseExit>(result).text;
  return std::nullopt;
}

// What parsing `args` prints when it ends the program instead of giving
// options; a test failure if it gave options or exits other than `status`.
std::string exit_text(std::vector<const char*> args, int status) {
  std::string line;
  for (const char* arg : args) line += std::string(" ") + arg;
  auto result = parse(std::move(args));
  const auto* exit = std::get_if<ParseExit>(&result);
  if (exit == nullptr) {
    ADD_FAILURE() << "options parsed from" << line << "; expected exit " << status;
    return "";
  }
  EXPECT_EQ(exit->exit_status, status) << "from" << line << ": " << exit->text;
  return exit->text;
}

TEST(OptionsTest, DefaultsMatchTheBrief) {
  auto o = options_from({});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->agents_endpoint, "tcp://*:7400");
  EXPECT_EQ(o->publish_endpoint, "tcp://*:7401");
  EXPECT_EQ(o->admin_endpoint, "tcp://127.0.0.1:7402");
  EXPECT_EQ(o->publish_interval_ms, 0u);
  EXPECT_EQ(o->snapshot_interval_ms, 30'000u);
  EXPECT_EQ(o->beat_interval_ms, 1'000u);
  EXPECT_EQ(o->log_level, "info");
  EXPECT_EQ(o->log_format, "text");
  EXPECT_TRUE(o->ready_file.empty());
  MembershipOptions defaults;
  EXPECT_EQ(o->membership.min_lease_ms, defaults.min_lease_ms);
  EXPECT_EQ(o->membership.max_lease_ms, defaults.max_lease_ms);
  EXPECT_EQ(o->membership.stall_threshold_ms, defaults.stall_threshold_ms);
}

TEST(OptionsTest, DurationsTakeUnits) {
  auto o = options_from(
      {"--min-lease",         "250ms", "--max-lease",         "1.5s", "--dead-after",        "2m",
       "--forget-dead-after", "1h",    "--forget-left-after", "750",  "--tombstone-ttl",     "10m",
       "--stall-threshold",   "3s",    "--publish-interval",  "20ms", "--snapshot-interval", "0",
       "--beat-interval",     "500ms", "--max-tombstones",    "42"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->membership.min_lease_ms, 250u);
  EXPECT_EQ(o->membership.max_lease_ms, 1'500u);
  EXPECT_EQ(o->membership.dead_after_ms, 120'000u);
  EXPECT_EQ(o->membership.forget_dead_after_ms, 3'600'000u);
  EXPECT_EQ(o->membership.forget_left_after_ms, 750u);
  EXPECT_EQ(o->membership.tombstone_ttl_ms, 600'000u);
  EXPECT_EQ(o->membership.stall_threshold_ms, 3'000u);
  EXPECT_EQ(o->membership.max_tombstones, 42u);
  EXPECT_EQ(o->publish_interval_ms, 20u);
  EXPECT_EQ(o->snapshot_interval_ms, 0u);
  EXPECT_EQ(o->beat_interval_ms, 500u);
}

TEST(OptionsTest, DurationsTakeCompoundValues) {
  auto o = options_from({"--max-lease", "1m30s", "--forget-dead-after", "1h2m3s500ms"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->membership.max_lease_ms, 90'000u);
  EXPECT_EQ(o->membership.forget_dead_after_ms, 3'723'500u);
}

TEST(OptionsTest, EveryOptionComesFromTheEnvironment) {
  ScopedEnv agents("ROSTER_BROKER_AGENTS", "tcp://127.0.0.1:9400");
  ScopedEnv publish("ROSTER_BROKER_PUBLISH", "tcp://127.0.0.1:9401");
  ScopedEnv admin("ROSTER_BROKER_ADMIN", "tcp://127.0.0.1:9402");
  ScopedEnv min_lease("ROSTER_BROKER_MIN_LEASE", "300ms");
  ScopedEnv max_lease("ROSTER_BROKER_MAX_LEASE", "1m30s");
  ScopedEnv dead_after("ROSTER_BROKER_DEAD_AFTER", "7s");
  ScopedEnv forget_dead("ROSTER_BROKER_FORGET_DEAD_AFTER", "8s");
  ScopedEnv forget_left("ROSTER_BROKER_FORGET_LEFT_AFTER", "9s");
  ScopedEnv ttl("ROSTER_BROKER_TOMBSTONE_TTL", "11m");
  ScopedEnv tombstones("ROSTER_BROKER_MAX_TOMBSTONES", "12");
  ScopedEnv nodes("ROSTER_BROKER_MAX_NODES", "13");
  ScopedEnv record("ROSTER_BROKER_MAX_RECORD_BYTES", "14");
  ScopedEnv stall("ROSTER_BROKER_STALL_THRESHOLD", "15s");
  ScopedEnv publish_interval("ROSTER_BROKER_PUBLISH_INTERVAL", "16ms");
  ScopedEnv snapshot_interval("ROSTER_BROKER_SNAPSHOT_INTERVAL", "17s");
  ScopedEnv beat_interval("ROSTER_BROKER_BEAT_INTERVAL", "18ms");
  ScopedEnv log_level("ROSTER_BROKER_LOG_LEVEL", "debug");
  ScopedEnv ready_file("ROSTER_BROKER_READY_FILE", "/run/x/ready");
  ScopedEnv log_format("ROSTER_BROKER_LOG_FORMAT", "json");
  auto o = options_from({});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->agents_endpoint, "tcp://127.0.0.1:9400");
  EXPECT_EQ(o->publish_endpoint, "tcp://127.0.0.1:9401");
  EXPECT_EQ(o->admin_endpoint, "tcp://127.0.0.1:9402");
  EXPECT_EQ(o->membership.min_lease_ms, 300u);
  EXPECT_EQ(o->membership.max_lease_ms, 90'000u);
  EXPECT_EQ(o->membership.dead_after_ms, 7'000u);
  EXPECT_EQ(o->membership.forget_dead_after_ms, 8'000u);
  EXPECT_EQ(o->membership.forget_left_after_ms, 9'000u);
  EXPECT_EQ(o->membership.tombstone_ttl_ms, 660'000u);
  EXPECT_EQ(o->membership.max_tombstones, 12u);
  EXPECT_EQ(o->membership.max_nodes, 13u);
  EXPECT_EQ(o->membership.max_record_bytes, 14u);
  EXPECT_EQ(o->membership.stall_threshold_ms, 15'000u);
  EXPECT_EQ(o->publish_interval_ms, 16u);
  EXPECT_EQ(o->snapshot_interval_ms, 17'000u);
  EXPECT_EQ(o->beat_interval_ms, 18u);
  EXPECT_EQ(o->log_level, "debug");
  EXPECT_EQ(o->ready_file, "/run/x/ready");
  EXPECT_EQ(o->log_format, "json");
}

TEST(OptionsTest, RosterctlVariablesAreNotTheBrokers) {
  // rosterctl connects to $ROSTER_ADMIN; the broker must not bind it.
  ScopedEnv admin("ROSTER_ADMIN", "tcp://10.9.9.9:7402");
  ScopedEnv state("ROSTER_STATE", "tcp://10.9.9.9:7401");
  ScopedEnv agent_lease("ROSTER_AGENT_LEASE", "bogus");
  auto o = options_from({});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->admin_endpoint, "tcp://127.0.0.1:7402");
  EXPECT_EQ(o->publish_endpoint, "tcp://*:7401");
}

TEST(OptionsTest, CommandLineWinsOverConfigFileWhichWinsOverEnvironment) {
  testing::TempDir dir;
  {
    std::ofstream config(dir.file("broker.toml"));
    config << "dead-after = \"20s\"\nbeat-interval = \"2s\"\n";
  }
  ScopedEnv dead_after("ROSTER_BROKER_DEAD_AFTER", "7s");
  ScopedEnv beat_interval("ROSTER_BROKER_BEAT_INTERVAL", "3s");
  ScopedEnv min_lease("ROSTER_BROKER_MIN_LEASE", "400ms");
  const std::string path = dir.file("broker.toml");
  auto o = options_from({"--config", path.c_str(), "--beat-interval", "4s"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->beat_interval_ms, 4'000u);           // command line
  EXPECT_EQ(o->membership.dead_after_ms, 20'000u);  // config file
  EXPECT_EQ(o->membership.min_lease_ms, 400u);      // environment
}

TEST(OptionsTest, ConfigFileComesFromTheEnvironment) {
  testing::TempDir dir;
  {
    std::ofstream config(dir.file("broker.toml"));
    config << "dead-after = \"21s\"\n";
  }
  ScopedEnv config("ROSTER_BROKER_CONFIG", dir.file("broker.toml"));
  auto o = options_from({});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->membership.dead_after_ms, 21'000u);
  // SIGHUP reloads it (reload.h).
  EXPECT_EQ(o->config_file, dir.file("broker.toml"));
}

TEST(OptionsTest, MissingConfigFileFromTheEnvironmentIsExitTwo) {
  ScopedEnv config("ROSTER_BROKER_CONFIG", "/nonexistent/roster.toml");
  const std::string text = exit_text({}, 2);
  EXPECT_NE(text.find("/nonexistent/roster.toml"), std::string::npos) << text;
}

TEST(OptionsTest, InvalidEnvironmentValueIsExitTwoNamingTheVariable) {
  ScopedEnv dead_after("ROSTER_BROKER_DEAD_AFTER", "whenever");
  const std::string text = exit_text({}, 2);
  EXPECT_NE(text.find("whenever"), std::string::npos) << text;
}

TEST(OptionsTest, HelpNamesDurationsOnceAndTheEnvironmentVariables) {
  auto result = parse({"--help"});
  const std::string& text = std::get<ParseExit>(result).text;
  EXPECT_EQ(text.find("DURATION:DURATION"), std::string::npos) << text;
  EXPECT_NE(text.find("--max-lease DURATION=1m"), std::string::npos) << text;
  EXPECT_NE(text.find("ROSTER_BROKER_MAX_LEASE"), std::string::npos) << text;
}

TEST(OptionsTest, HelpIsExitZero) {
  EXPECT_NE(exit_text({"--help"}, 0).find("--snapshot-interval"), std::string::npos);
}

TEST(OptionsTest, ErrorsAreExitTwoWithOneLine) {
  for (std::vector<const char*> args : {std::vector<const char*>{"--min-lease", "fast"},
                                        {"--stall-threshold", "0"},
                                        {"--max-tombstones", "0"},
                                        {"--min-lease", "0"},
                                        {"--unknown"},
                                        {"positional"},
                                        {"--max-lease", "100ms", "--min-lease", "200ms"},
                                        {"--agents", ""},
                                        {"--log-format", "xml"}}) {
    const std::string text = exit_text(args, 2);
    EXPECT_EQ(text.find('\n'), std::string::npos) << text;
    EXPECT_EQ(text.rfind("roster-broker: ", 0), 0u) << text;
  }
}

TEST(OptionsTest, CapacityDefaultsKeepTheLargestSnapshotWithinTheClientLimit) {
  auto o = options_from({});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->membership.max_nodes, 200'000u);
  EXPECT_EQ(o->membership.max_record_bytes, 2'048u);
  EXPECT_LE(max_snapshot_bytes(o->membership.max_nodes, o->membership.max_record_bytes),
            kMaxStateBodyBytes);
}

TEST(OptionsTest, CapacityFlagsAreParsed) {
  auto o = options_from({"--max-nodes", "1000000", "--max-record-bytes", "256"});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->membership.max_nodes, 1'000'000u);
  EXPECT_EQ(o->membership.max_record_bytes, 256u);
}

TEST(OptionsTest, SnapshotSendBufferDefaultsTo64KiBAndTakesZeroForTheKernelsSizing) {
  auto defaults = options_from({});
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->snapshot_send_buffer_bytes, 64u * 1024);
  auto set = options_from({"--snapshot-send-buffer", "1048576"});
  ASSERT_TRUE(set);
  EXPECT_EQ(set->snapshot_send_buffer_bytes, 1'048'576u);
  auto kernel = options_from({"--snapshot-send-buffer", "0"});
  ASSERT_TRUE(kernel);
  EXPECT_EQ(kernel->snapshot_send_buffer_bytes, 0u);
  EXPECT_NE(describe(*set).find("snapshot_send_buffer=1048576"), std::string::npos);
}

TEST(OptionsTest, SnapshotSendBufferOutsideItsRangeIsExitTwo) {
  for (const char* bytes : {"4096", "65535", "67108865", "-1", "lots"}) {
    const std::string text = exit_text({"--snapshot-send-buffer", bytes}, 2);
    EXPECT_NE(text.find("--snapshot-send-buffer"), std::string::npos) << bytes << ": " << text;
  }
}

TEST(OptionsTest, CapacityOverTheSnapshotLimitIsExitTwo) {
  for (std::vector<const char*> args :
       {std::vector<const char*>{"--max-nodes", "1000000"},
        {"--max-record-bytes", "10624"},
        {"--max-nodes", "18446744073709551615", "--max-record-bytes", "1"},
        {"--max-nodes", "0"},
        {"--max-record-bytes", "0"},
        {"--max-nodes", "-1"}}) {
    const std::string text = exit_text(args, 2);
    EXPECT_NE(text.find(args[0]), std::string::npos) << text;
    EXPECT_EQ(text.find('\n'), std::string::npos) << text;
  }
  // The message gives the product and the limit.
  auto result = parse({"--max-nodes", "1000000"});
  const std::string& text = std::get<ParseExit>(result).text;
  EXPECT_NE(text.find("2304000256"), std::string::npos) << text;
  EXPECT_NE(text.find("536870912"), std::string::npos) << text;
}

TEST(OptionsTest, DescribeNamesEverySetting) {
  auto o = options_from({"--dead-after", "7s"});
  ASSERT_TRUE(o);
  std::string line = describe(*o);
  for (const char* key :
       {"agents=", "publish=", "admin=", "min_lease=", "max_lease=", "dead_after=7s",
        "forget_dead_after=", "forget_left_after=", "tombstone_ttl=", "max_tombstones=",
        "stall_threshold=", "publish_interval=", "snapshot_interval=", "beat_interval=",
        "max_nodes=", "max_record_bytes=", "log_level=", "log_format=text"}) {
    EXPECT_NE(line.find(key), std::string::npos) << key;
  }
}

TEST(OptionsTest, LocalEndpointsAreLoopbackIpcAndInproc) {
  for (const char* local :
       {"tcp://127.0.0.1:7402", "tcp://127.1.2.3:1", "tcp://localhost:7402", "tcp://[::1]:7402",
        "tcp://lo:7402", "ipc:///run/roster/admin", "inproc://admin", "ws://127.0.0.1:80/admin"}) {
    EXPECT_TRUE(is_local_endpoint(local)) << local;
  }
  for (const char* remote :
       {"tcp://*:7402", "tcp://0.0.0.0:7402", "tcp://10.0.0.1:7402", "tcp://[::]:7402",
        "tcp://eth0:7402", "tcp://example.org:7402", "tcp://127.0.0.1.example.org:1",
        "tcp://127.0.0:1", "pgm://x", "garbage"}) {
    EXPECT_FALSE(is_local_endpoint(remote)) << remote;
  }
}

TEST(OptionsTest, AdminOffLoopbackNeedsCurveOrInsecureAdmin) {
  const std::string text = exit_text({"--admin", "tcp://*:7402"}, 2);
  EXPECT_NE(text.find("--insecure-admin"), std::string::npos) << text;
  auto insecure = options_from({"--admin", "tcp://*:7402", "--insecure-admin"});
  ASSERT_TRUE(insecure);
  EXPECT_TRUE(insecure->insecure_admin);
  auto curve = options_from({"--admin", "tcp://*:7402", "--curve-secret", "b_secret",
                             "--agent-keys", "a", "--admin-keys", "o", "--subscriber-keys", "any"});
  ASSERT_TRUE(curve);
  EXPECT_EQ(curve->curve_secret, "b_secret");
  EXPECT_EQ(curve->subscriber_keys, "any");
}

TEST(OptionsTest, CurveSettingsGoTogether) {
  EXPECT_NE(exit_text({"--agent-keys", "a"}, 2).find("need --curve-secret"), std::string::npos);
  EXPECT_NE(exit_text({"--curve-secret", "b_secret", "--agent-keys", "a"}, 2)
                .find("--curve-secret needs --agent-keys DIR, --admin-keys DIR"),
            std::string::npos);
}

TEST(OptionsTest, CurveSettingsComeFromTheEnvironment) {
  ScopedEnv secret("ROSTER_BROKER_CURVE_SECRET", "/etc/roster/broker_secret");
  ScopedEnv agents("ROSTER_BROKER_AGENT_KEYS", "/etc/roster/agents");
  ScopedEnv admin("ROSTER_BROKER_ADMIN_KEYS", "/etc/roster/admins");
  ScopedEnv subscribers("ROSTER_BROKER_SUBSCRIBER_KEYS", "any");
  auto o = options_from({});
  ASSERT_TRUE(o);
  EXPECT_EQ(o->curve_secret, "/etc/roster/broker_secret");
  EXPECT_EQ(o->agent_keys, "/etc/roster/agents");
  EXPECT_EQ(o->admin_keys, "/etc/roster/admins");
  EXPECT_EQ(o->subscriber_keys, "any");
}

}  // namespace
}  // namespace roster::broker
