// Log lines (service/log_format.h): one RFC 3339 timestamp format, text
// lines with the journal's priority prefix, JSON lines that stay valid JSON
// whatever the message holds.
#include "log_format.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "roster/utf8.h"
#include "support/log_lines.h"

namespace roster::service {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

// 2026-12-01T03:04:05.123Z
const system_clock::time_point kTime = system_clock::time_point(milliseconds(1'796'094'245'123));

TEST(LogFormat, TimestampsAreRfc3339InUtcWithMilliseconds) {
  EXPECT_EQ(rfc3339_utc(kTime), "2026-12-01T03:04:05.123Z");
  EXPECT_EQ(rfc3339_utc(system_clock::time_point(milliseconds(0))), "1970-01-01T00:00:00.000Z");
  EXPECT_TRUE(testing::is_rfc3339_utc_ms(rfc3339_utc(system_clock::now())));
}

TEST(LogFormat, TextLine) {
  EXPECT_EQ(format_log_line(LogFormat::kText, false, spdlog::level::info, kTime, "roster-broker",
                            "node n1 inc 1 alive (version 2)"),
            "2026-12-01T03:04:05.123Z info node n1 inc 1 alive (version 2)\n");
  EXPECT_EQ(format_log_line(LogFormat::kText, false, spdlog::level::warn, kTime, "x", "m"),
            "2026-12-01T03:04:05.123Z warning m\n");
}

TEST(LogFormat, TextLinesForTheJournalCarryTheSyslogPriority) {
  struct Case {
    spdlog::level::level_enum level;
    const char* prefix;
  };
  for (Case c : {Case{spdlog::level::trace, "<7>"}, Case{spdlog::level::debug, "<7>"},
                 Case{spdlog::level::info, "<6>"}, Case{spdlog::level::warn, "<4>"},
                 Case{spdlog::level::err, "<3>"}, Case{spdlog::level::critical, "<2>"}}) {
    std::string line = format_log_line(LogFormat::kText, true, c.level, kTime, "x", "m");
    EXPECT_EQ(line.rfind(std::string(c.prefix) + "2026-12-01T03:04:05.123Z ", 0), 0u) << line;
  }
}

TEST(LogFormat, JsonLine) {
  std::string line =
      format_log_line(LogFormat::kJson, true, spdlog::level::err, kTime, "roster-agent", "boom");
  EXPECT_EQ(line,
            "{\"ts\":\"2026-12-01T03:04:05.123Z\",\"level\":\"error\",\"logger\":\"roster-agent\","
            "\"msg\":\"boom\"}\n");
}

TEST(LogFormat, JsonLinesStayValidWhateverTheMessageHolds) {
  const std::string hostile[] = {
      "quote \" backslash \\ slash /",
      "new\nline\r\ttab",
      std::string("nul \0 byte", 10),
      "controls \x01\x1b[31m\x7f",
      "invalid utf-8 \xff\xfe \xc3 \xe2\x82 end",
      "surrogate \xed\xa0\x80",
      "fine \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80",
      "{\"injected\":true}",
  };
  for (const std::string& message : hostile) {
    std::string line = format_log_line(LogFormat::kJson, false, spdlog::level::warn, kTime,
                                       "roster-broker", message);
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
    nlohmann::json parsed = nlohmann::json::parse(line.substr(0, line.size() - 1));
    ASSERT_TRUE(parsed.is_object()) << line;
    EXPECT_EQ(parsed.size(), 4u);
    EXPECT_EQ(parsed["ts"], "2026-12-01T03:04:05.123Z");
    EXPECT_EQ(parsed["level"], "warning");
    EXPECT_EQ(parsed["logger"], "roster-broker");
    EXPECT_EQ(parsed["msg"].get<std::string>(), replace_invalid_utf8(message)) << line;
  }
}

TEST(LogFormat, ParsesFormatNames) {
  EXPECT_EQ(parse_log_format("text"), LogFormat::kText);
  EXPECT_EQ(parse_log_format("json"), LogFormat::kJson);
  EXPECT_EQ(parse_log_format("JSON"), std::nullopt);
  EXPECT_EQ(parse_log_format(""), std::nullopt);
}

TEST(LogFormat, StderrIsTheJournalOnlyWhenJournalStreamNamesIt) {
  unsetenv("JOURNAL_STREAM");
  EXPECT_FALSE(stderr_is_journal());
  struct stat status {};
  ASSERT_EQ(fstat(2, &status), 0);
  const std::string mine = std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino);
  setenv("JOURNAL_STREAM", mine.c_str(), 1);
  EXPECT_TRUE(stderr_is_journal());
  // A stderr redirected elsewhere by a child of the service is not.
  const std::string other = std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino + 1);
  setenv("JOURNAL_STREAM", other.c_str(), 1);
  EXPECT_FALSE(stderr_is_journal());
  setenv("JOURNAL_STREAM", "garbage", 1);
  EXPECT_FALSE(stderr_is_journal());
  unsetenv("JOURNAL_STREAM");
}

}  // namespace
}  // namespace roster::service
