// The tombstones of the membership core (membership_tombstones.h): kinds
// kept apart, the highest of each, expiry and the cap. Simulated time.
#include "membership_tombstones.h"

#include <gtest/gtest.h>

namespace roster::internal {
namespace {

TEST(Tombstones, RecordsTheHighestForgottenIncarnationAndItsKind) {
  Tombstones t(1'000, 10);
  t.add("a", 3, Forgotten::kLeft, 0);
  const Tombstone* a = t.find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->forgotten, 3u);
  EXPECT_EQ(a->forgotten_kind, Forgotten::kLeft);
  EXPECT_EQ(a->removed, std::nullopt);
  EXPECT_EQ(a->highest(), 3u);
  // A lower incarnation is covered: the record stays.
  t.add("a", 2, Forgotten::kDead, 1);
  EXPECT_EQ(t.find("a")->forgotten, 3u);
  EXPECT_EQ(t.find("a")->forgotten_kind, Forgotten::kLeft);
  t.add("a", 4, Forgotten::kDead, 2);
  EXPECT_EQ(t.find("a")->forgotten, 4u);
  EXPECT_EQ(t.find("a")->forgotten_kind, Forgotten::kDead);
  EXPECT_EQ(t.size(), 1u);
}

TEST(Tombstones, ALaterForgetKeepsAnEarlierRemoval) {
  Tombstones t(1'000, 10);
  t.add("a", 3, Forgotten::kRemoved, 0);
  t.add("a", 7, Forgotten::kDead, 1);
  const Tombstone* a = t.find("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->removed, 3u);
  EXPECT_EQ(a->forgotten, 7u);
  EXPECT_EQ(a->highest(), 7u);
  t.add("a", 2, Forgotten::kRemoved, 2);
  EXPECT_EQ(t.find("a")->removed, 3u);
  t.add("a", 9, Forgotten::kRemoved, 3);
  EXPECT_EQ(t.find("a")->removed, 9u);
  EXPECT_EQ(t.find("a")->highest(), 9u);
}

TEST(Tombstones, ExpireTtlAfterTheLatestUpdate) {
  Tombstones t(1'000, 10);
  t.add("a", 1, Forgotten::kRemoved, 0);
  t.add("b", 1, Forgotten::kDead, 500);
  t.add("a", 2, Forgotten::kLeft, 600);  // refreshes a: now the newest
  EXPECT_EQ(t.next_expiry(), 1'500);
  EXPECT_EQ(t.expire(1'499), 0u);
  EXPECT_EQ(t.expire(1'500), 1u);
  EXPECT_EQ(t.find("b"), nullptr);
  ASSERT_NE(t.find("a"), nullptr);
  EXPECT_EQ(t.find("a")->removed, 1u);
  EXPECT_EQ(t.expire(1'600), 1u);
  EXPECT_EQ(t.find("a"), nullptr);
  EXPECT_EQ(t.next_expiry(), std::nullopt);
}

TEST(Tombstones, TheOldestIsEvictedAtTheCap) {
  Tombstones t(1'000, 2);
  EXPECT_EQ(t.add("a", 1, Forgotten::kDead, 0), 0u);
  EXPECT_EQ(t.add("b", 1, Forgotten::kLeft, 1), 0u);
  EXPECT_EQ(t.add("c", 1, Forgotten::kRemoved, 2), 1u);
  EXPECT_EQ(t.size(), 2u);
  EXPECT_EQ(t.find("a"), nullptr);
  EXPECT_NE(t.find("c"), nullptr);
}

TEST(Tombstones, ZeroCapKeepsNothing) {
  Tombstones t(1'000, 0);
  EXPECT_EQ(t.add("a", 1, Forgotten::kRemoved, 0), 0u);
  EXPECT_EQ(t.find("a"), nullptr);
  EXPECT_EQ(t.size(), 0u);
}

}  // namespace
}  // namespace roster::internal
