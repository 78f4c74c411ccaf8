// PackedLabels (membership_labels.h): a node's labels packed in one block
// unpack to the same map and compare equal only to that map.
#include "membership_labels.h"

#include <gtest/gtest.h>

#include <string>

namespace roster::internal {
namespace {

TEST(PackedLabels, EmptyByDefaultAndEqualToNoLabels) {
  PackedLabels p;
  EXPECT_TRUE(p.empty());
  EXPECT_TRUE(p.unpack().empty());
  EXPECT_TRUE(p.equals(Labels{}));
  EXPECT_FALSE(p.equals(Labels{{"a", "b"}}));
}

TEST(PackedLabels, RoundTripsLabels) {
  const Labels labels{
      {"zone", "a"}, {"role", "db=primary"}, {"", ""}, {"k", std::string(300, 'v')}};
  PackedLabels p;
  p.assign(labels);
  EXPECT_FALSE(p.empty());
  EXPECT_EQ(p.unpack(), labels);
  EXPECT_TRUE(p.equals(labels));
}

TEST(PackedLabels, EqualsOnlyTheSameLabels) {
  PackedLabels p;
  p.assign(Labels{{"zone", "a"}, {"role", "db"}});
  EXPECT_FALSE(p.equals(Labels{{"zone", "a"}}));
  EXPECT_FALSE(p.equals(Labels{{"zone", "a"}, {"role", "dc"}}));
  EXPECT_FALSE(p.equals(Labels{{"zone", "a"}, {"rolf", "db"}}));
  EXPECT_FALSE(p.equals(Labels{{"zone", "a"}, {"role", "db"}, {"x", ""}}));
  EXPECT_FALSE(p.equals(Labels{{"zone", "a"}, {"role", "d"}}));
  EXPECT_TRUE(p.equals(Labels{{"role", "db"}, {"zone", "a"}}));
}

TEST(PackedLabels, AssigningNoLabelsOrClearingEmptiesIt) {
  PackedLabels p;
  p.assign(Labels{{"zone", "a"}});
  p.assign(Labels{});
  EXPECT_TRUE(p.empty());
  p.assign(Labels{{"zone", "b"}});
  EXPECT_EQ(p.unpack(), (Labels{{"zone", "b"}}));
  p.clear();
  EXPECT_TRUE(p.empty());
}

}  // namespace
}  // namespace roster::internal
