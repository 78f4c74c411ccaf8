// DuplicateClaims: naming both peers of two agents that claim one node id.
#include "duplicate_claims.h"

#include <gtest/gtest.h>

namespace roster::broker {
namespace {

using Peer = DuplicateClaims::Peer;

TEST(DuplicateClaims, HolderHeardAfterARefusalNamesBothPeersOnce) {
  DuplicateClaims claims;
  EXPECT_TRUE(claims.empty());
  claims.refused("web-1", Peer{"10.0.0.2", "00aa", 5}, 9, 1'000);
  EXPECT_TRUE(claims.contested("web-1"));
  EXPECT_FALSE(claims.contested("web-2"));
  auto line = claims.accepted("web-1", 9, Peer{"10.0.0.1", "00bb", 9}, 1'100);
  ASSERT_TRUE(line.has_value());
  for (const char* part : {"web-1", "10.0.0.1", "00bb", "inc 9", "10.0.0.2", "00aa", "inc 5"}) {
    EXPECT_NE(line->find(part), std::string::npos) << part << " in " << *line;
  }
  EXPECT_FALSE(claims.accepted("web-1", 9, Peer{"10.0.0.1", "00bb", 9}, 1'200).has_value());
  EXPECT_TRUE(claims.empty());
}

TEST(DuplicateClaims, OnlyTheHoldersIncarnationAnswersAContest) {
  DuplicateClaims claims;
  claims.refused("web-1", Peer{"", "00aa", 5}, 9, 1'000);
  EXPECT_FALSE(claims.accepted("web-1", 10, Peer{"", "00cc", 10}, 1'100).has_value());
  EXPECT_TRUE(claims.accepted("web-1", 9, Peer{"", "00bb", 9}, 1'200).has_value());
}

TEST(DuplicateClaims, ACrashedPredecessorNeverHeardIsForgottenAfterTheTtl) {
  DuplicateClaims claims;
  claims.refused("web-1", Peer{"", "00aa", 5}, 9, 1'000);
  EXPECT_FALSE(
      claims.accepted("web-1", 9, Peer{"", "00bb", 9}, 1'000 + DuplicateClaims::kContestTtlMs)
          .has_value());
  EXPECT_TRUE(claims.empty());
}

TEST(DuplicateClaims, TheTableIsBounded) {
  DuplicateClaims claims;
  for (size_t i = 0; i < DuplicateClaims::kMaxContested + 10; ++i) {
    claims.refused("n" + std::to_string(i), Peer{"", "00aa", 1}, 2, 1'000);
  }
  EXPECT_FALSE(claims.contested("n" + std::to_string(DuplicateClaims::kMaxContested)));
  // Once the old ones are past the ttl, new contests fit again.
  claims.refused("late", Peer{"", "00aa", 1}, 2, 1'000 + DuplicateClaims::kContestTtlMs);
  EXPECT_TRUE(claims.contested("late"));
}

}  // namespace
}  // namespace roster::broker
