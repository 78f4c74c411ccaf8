// View::apply(): the one ladder that says whether a delta continues a view
// (used by the broker's publisher and the subscriber), and the changes it
// reports when it does.
#include "roster/view.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/messages.h"

namespace roster {
namespace {

using testing::alive;
using testing::delta;
using testing::in_state;
using testing::removed;
using testing::snapshot;

// A view at epoch 1, version 5, holding a and b.
View view_at_5() {
  View view;
  view.reset(snapshot(1, 5, {alive("a"), alive("b")}));
  return view;
}

// Checks that `view` is still what view_at_5() made.
void expect_unchanged(const View& view) {
  EXPECT_EQ(view.epoch(), 1u);
  EXPECT_EQ(view.version(), 5u);
  ASSERT_EQ(view.nodes().size(), 2u);
  EXPECT_EQ(view.nodes().at("a"), alive("a"));
  EXPECT_EQ(view.nodes().at("b"), alive("b"));
}

TEST(ViewApply, DeltaBeforeAnySnapshotIsNoBase) {
  View view;
  std::vector<View::Change> changes;
  EXPECT_EQ(view.apply(delta(1, 0, 1, {alive("a")}), &changes), View::ApplyResult::kNoBase);
  EXPECT_FALSE(view.has_base());
  EXPECT_TRUE(view.nodes().empty());
  EXPECT_TRUE(changes.empty());
}

// A delta that view_at_5() must refuse, and the refusal.
struct RefusedDelta {
  const char* name;
  Delta delta;
  View::ApplyResult result;
};

TEST(ViewApply, RefusedDeltasChangeNothing) {
  const RefusedDelta cases[] = {
      {"another epoch", delta(2, 5, 6, {alive("c")}), View::ApplyResult::kEpoch},
      // Another epoch wins over every version check: the versions of two
      // lineages do not compare.
      {"another epoch, lower versions", delta(2, 0, 1, {alive("c")}), View::ApplyResult::kEpoch},
      {"at the version", delta(1, 4, 5, {removed("a")}), View::ApplyResult::kOld},
      {"below the version", delta(1, 2, 3, {alive("c")}), View::ApplyResult::kOld},
      // Old wins over a prev_version mismatch: it is already contained.
      {"below, prev_version off", delta(1, 1, 4, {alive("c")}), View::ApplyResult::kOld},
      {"does not follow on", delta(1, 6, 7, {alive("c")}), View::ApplyResult::kGap},
      {"starts below the version", delta(1, 4, 6, {alive("c")}), View::ApplyResult::kGap},
  };
  for (const RefusedDelta& c : cases) {
    SCOPED_TRACE(c.name);
    View view = view_at_5();
    std::vector<View::Change> changes;
    EXPECT_EQ(view.apply(c.delta, &changes), c.result);
    expect_unchanged(view);
    EXPECT_TRUE(changes.empty());
  }
}

TEST(ViewApply, AppliedDeltaReportsEachRecordWithTheOldOne) {
  View view = view_at_5();
  std::vector<View::Change> changes;
  const Delta d = delta(
      1, 5, 6,
      {in_state(alive("a"), NodeState::kSuspect), alive("c"), removed("b"), removed("never-held")});
  ASSERT_EQ(view.apply(d, &changes), View::ApplyResult::kApplied);
  EXPECT_EQ(view.version(), 6u);
  ASSERT_EQ(view.nodes().size(), 2u);
  EXPECT_EQ(view.nodes().at("a").state, NodeState::kSuspect);
  EXPECT_EQ(view.nodes().at("c"), alive("c"));

  ASSERT_EQ(changes.size(), 4u);
  EXPECT_EQ(changes[0].old, alive("a"));
  EXPECT_EQ(changes[0].record, d.changes[0]);
  EXPECT_FALSE(changes[1].old.has_value());  // c is new
  EXPECT_EQ(changes[1].record, alive("c"));
  EXPECT_EQ(changes[2].old, alive("b"));  // b left
  EXPECT_EQ(changes[2].record, removed("b"));
  // Reported, though it changed nothing: the view never held it.
  EXPECT_FALSE(changes[3].old.has_value());
  EXPECT_EQ(changes[3].record, removed("never-held"));
}

TEST(ViewApply, NodeNamedTwiceInOneDeltaSeesItsFirstRecordAsOld) {
  View view = view_at_5();
  std::vector<View::Change> changes;
  ASSERT_EQ(view.apply(delta(1, 5, 6, {alive("c"), alive("c", 2), removed("c", 2)}), &changes),
            View::ApplyResult::kApplied);
  ASSERT_EQ(changes.size(), 3u);
  EXPECT_FALSE(changes[0].old.has_value());
  EXPECT_EQ(changes[1].old, alive("c"));
  EXPECT_EQ(changes[2].old, alive("c", 2));
  EXPECT_EQ(view.nodes().count("c"), 0u);
}

TEST(ViewApply, AppliesWithoutReportingWhenNotAsked) {
  View view = view_at_5();
  ASSERT_EQ(view.apply(delta(1, 5, 6, {removed("a")})), View::ApplyResult::kApplied);
  EXPECT_EQ(view.version(), 6u);
  EXPECT_EQ(view.nodes().count("a"), 0u);
}

}  // namespace
}  // namespace roster
