// parse_options() without a process: defaults, durations, combinations.
#include <gtest/gtest.h>

#include "options.h"

namespace roster::broker {
namespace {

ParseResult parse(std::vector<const char*> args) {
  args.insert(args.begin(), "roster-broker");
  return parse_options(static_cast<int>(args.size()), args.data());
}

TEST(OptionsTest, DefaultsMatchTheBrief) {
  auto result = parse({});
  auto* o = std::get_if<BrokerOptions>(&result);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->agents_endpoint, "tcp://*:7400");
  EXPECT_EQ(o->publish_endpoint, "tcp://*:7401");
  EXPECT_EQ(o->admin_endpoint, "tcp://127.0.0.1:7402");
  EXPECT_EQ(o->publish_interval_ms, 0u);
  EXPECT_EQ(o->snapshot_interval_ms, 30'000u);
  EXPECT_EQ(o->beat_interval_ms, 1'000u);
  EXPECT_EQ(o->log_level, "info");
  EXPECT_TRUE(o->ready_file.empty());
  MembershipOptions defaults;
  EXPECT_EQ(o->membership.min_lease_ms, defaults.min_lease_ms);
  EXPECT_EQ(o->membership.max_lease_ms, defaults.max_lease_ms);
  EXPECT_EQ(o->membership.stall_threshold_ms, defaults.stall_threshold_ms);
}

TEST(OptionsTest, DurationsTakeUnits) {
  auto result = parse(
      {"--min-lease",         "250ms", "--max-lease",         "1.5s", "--dead-after",        "2m",
       "--forget-dead-after", "1h",    "--forget-left-after", "750",  "--tombstone-ttl",     "10m",
       "--stall-threshold",   "3s",    "--publish-interval",  "20ms", "--snapshot-interval", "0",
       "--beat-interval",     "500ms", "--max-tombstones",    "42"});
  auto* o = std::get_if<BrokerOptions>(&result);
  ASSERT_NE(o, nullptr) << std::get<ParseExit>(result).text;
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

TEST(OptionsTest, HelpIsExitZero) {
  auto result = parse({"--help"});
  auto* exit = std::get_if<ParseExit>(&result);
  ASSERT_NE(exit, nullptr);
  EXPECT_EQ(exit->exit_status, 0);
  EXPECT_NE(exit->text.find("--snapshot-interval"), std::string::npos);
}

TEST(OptionsTest, ErrorsAreExitTwoWithOneLine) {
  for (std::vector<const char*> args : {std::vector<const char*>{"--min-lease", "fast"},
                                        {"--stall-threshold", "0"},
                                        {"--max-tombstones", "0"},
                                        {"--min-lease", "0"},
                                        {"--unknown"},
                                        {"positional"},
                                        {"--max-lease", "100ms", "--min-lease", "200ms"},
                                        {"--agents", ""}}) {
    auto result = parse(args);
    auto* exit = std::get_if<ParseExit>(&result);
    ASSERT_NE(exit, nullptr) << args[0];
    EXPECT_EQ(exit->exit_status, 2) << args[0];
    EXPECT_EQ(exit->text.find('\n'), std::string::npos) << exit->text;
    EXPECT_EQ(exit->text.rfind("roster-broker: ", 0), 0u) << exit->text;
  }
}

TEST(OptionsTest, CapacityDefaultsKeepTheLargestSnapshotWithinTheClientLimit) {
  auto result = parse({});
  auto* o = std::get_if<BrokerOptions>(&result);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->membership.max_nodes, 200'000u);
  EXPECT_EQ(o->membership.max_record_bytes, 2'048u);
  EXPECT_LE(max_snapshot_bytes(o->membership.max_nodes, o->membership.max_record_bytes),
            kMaxStateBodyBytes);
}

TEST(OptionsTest, CapacityFlagsAreParsed) {
  auto result = parse({"--max-nodes", "1000000", "--max-record-bytes", "256"});
  auto* o = std::get_if<BrokerOptions>(&result);
  ASSERT_NE(o, nullptr) << std::get<ParseExit>(result).text;
  EXPECT_EQ(o->membership.max_nodes, 1'000'000u);
  EXPECT_EQ(o->membership.max_record_bytes, 256u);
}

TEST(OptionsTest, CapacityOverTheSnapshotLimitIsExitTwo) {
  for (std::vector<const char*> args :
       {std::vector<const char*>{"--max-nodes", "1000000"},
        {"--max-record-bytes", "10624"},
        {"--max-nodes", "18446744073709551615", "--max-record-bytes", "1"},
        {"--max-nodes", "0"},
        {"--max-record-bytes", "0"},
        {"--max-nodes", "-1"}}) {
    auto result = parse(args);
    auto* exit = std::get_if<ParseExit>(&result);
    ASSERT_NE(exit, nullptr) << args[0] << " " << args[1];
    EXPECT_EQ(exit->exit_status, 2);
    EXPECT_NE(exit->text.find(args[0]), std::string::npos) << exit->text;
    EXPECT_EQ(exit->text.find('\n'), std::string::npos) << exit->text;
  }
  // The message gives the product and the limit.
  auto result = parse({"--max-nodes", "1000000"});
  const std::string& text = std::get<ParseExit>(result).text;
  EXPECT_NE(text.find("2304000256"), std::string::npos) << text;
  EXPECT_NE(text.find("536870912"), std::string::npos) << text;
}

TEST(OptionsTest, DescribeNamesEverySetting) {
  auto result = parse({"--dead-after", "7s"});
  auto* o = std::get_if<BrokerOptions>(&result);
  ASSERT_NE(o, nullptr);
  std::string line = describe(*o);
  for (const char* key :
       {"agents=", "publish=", "admin=", "min_lease=", "max_lease=", "dead_after=7s",
        "forget_dead_after=", "forget_left_after=", "tombstone_ttl=", "max_tombstones=",
        "stall_threshold=", "publish_interval=", "snapshot_interval=", "beat_interval=",
        "max_nodes=", "max_record_bytes=", "log_level="}) {
    EXPECT_NE(line.find(key), std::string::npos) << key;
  }
}

}  // namespace
}  // namespace roster::broker
