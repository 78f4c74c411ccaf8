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
