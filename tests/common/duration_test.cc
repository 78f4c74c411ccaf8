#include "roster/duration.h"

#include <gtest/gtest.h>

namespace roster {
namespace {

TEST(Duration, ParsesUnits) {
  EXPECT_EQ(parse_duration_ms("250ms"), 250u);
  EXPECT_EQ(parse_duration_ms("3s"), 3000u);
  EXPECT_EQ(parse_duration_ms("1.5s"), 1500u);
  EXPECT_EQ(parse_duration_ms("5m"), 300000u);
  EXPECT_EQ(parse_duration_ms("2h"), 7200000u);
  EXPECT_EQ(parse_duration_ms("42"), 42u);
  EXPECT_EQ(parse_duration_ms("0"), 0u);
}

TEST(Duration, RejectsMalformed) {
  for (const char* bad : {"", "ms", "-1s", "3x", "1.2.3s", ".", "s3", "3 s", "1e9h"}) {
    EXPECT_FALSE(parse_duration_ms(bad).has_value()) << bad;
  }
}

TEST(Duration, ParsesCompoundValues) {
  EXPECT_EQ(parse_duration_ms("1m30s"), 90'000u);
  EXPECT_EQ(parse_duration_ms("1h2m3s500ms"), 3'723'500u);
  EXPECT_EQ(parse_duration_ms("2h30m"), 9'000'000u);
  EXPECT_EQ(parse_duration_ms("1s250ms"), 1'250u);
  EXPECT_EQ(parse_duration_ms("1m1.5s"), 61'500u);
  EXPECT_EQ(parse_duration_ms("1min30s"), 90'000u);
  EXPECT_EQ(parse_duration_ms("0h0m0s"), 0u);
}

TEST(Duration, RejectsMalformedCompoundValues) {
  for (const char* bad : {"30s1m", "1m1m", "1m30", "1m 30s", "1m-30s", "1ms1s", "1h2x", "m30s",
                          "1m30s.", "1s1min", "1e9h1m"}) {
    EXPECT_FALSE(parse_duration_ms(bad).has_value()) << bad;
  }
}

TEST(Duration, FormatsShortestExactUnit) {
  EXPECT_EQ(format_duration_ms(250), "250ms");
  EXPECT_EQ(format_duration_ms(3000), "3s");
  EXPECT_EQ(format_duration_ms(300000), "5m");
  EXPECT_EQ(format_duration_ms(7200000), "2h");
  EXPECT_EQ(format_duration_ms(1500), "1500ms");
  EXPECT_EQ(format_duration_ms(0), "0ms");
}

}  // namespace
}  // namespace roster
