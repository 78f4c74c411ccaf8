// RateLimitedLog: a burst per kind per window, counted suppression.
#include <gtest/gtest.h>

#include "rate_limited_log.h"

namespace roster::broker {
namespace {

TEST(RateLimitedLogTest, LetsABurstThroughPerKindPerWindow) {
  RateLimitedLog log(3, 1'000);
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += log.allow("bad_request", 10'000) ? 1 : 0;
  EXPECT_EQ(allowed, 3);
  EXPECT_EQ(log.suppressed(), 97u);
  // Another kind has its own budget.
  EXPECT_TRUE(log.allow("unknown_node", 10'000));
}

TEST(RateLimitedLogTest, ANewWindowAllowsAgain) {
  RateLimitedLog log(1, 1'000);
  EXPECT_TRUE(log.allow("k", 0));
  EXPECT_FALSE(log.allow("k", 999));
  EXPECT_TRUE(log.allow("k", 1'000));
  EXPECT_FALSE(log.allow("k", 1'500));
  log.flush(2'000);  // closes the window with its summary
  EXPECT_TRUE(log.allow("k", 2'001));
  EXPECT_EQ(log.suppressed(), 2u);
}

}  // namespace
}  // namespace roster::broker
