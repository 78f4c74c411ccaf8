// A broker restart with agents running: the new broker has a new epoch, the
// agents rejoin it, its snapshots say complete: false during the warm-up
// (one max lease) and true after, and a controller (roster::Subscriber) is
// never told that a live node was removed, not even about a node missing
// from the new broker's first, incomplete snapshot.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <set>

#include "e2e_support.h"

namespace roster::e2e {
namespace {

using namespace std::chrono_literals;

constexpr auto kLease = 1s;
// Also the warm-up: long enough to see incomplete snapshots and to bring a
// late agent back inside it.
constexpr auto kMaxLease = std::chrono::milliseconds(4'000 * kSlowdown);

std::vector<std::string> timer_args() {
  return {"--min-lease",  "100ms", "--max-lease", std::to_string(kMaxLease.count()) + "ms",
          "--dead-after", "2s"};
}

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(BrokerRestartTest, AgentsRejoinTheNewEpochAndNoLiveNodeIsReportedRemoved) {
  auto broker = start_broker(timer_args());
  ASSERT_NE(broker, nullptr);
  const testing::BrokerEndpoints ep = broker->endpoints();
  const std::set<std::string> names = {"r-1", "r-2", "r-3", "late"};
  std::map<std::string, std::unique_ptr<Process>> agents;
  for (const auto& name : names) {
    agents[name] = start_agent(ep.agents, name, "1s");
    ASSERT_NE(agents[name], nullptr);
  }
  auto subscriber = RecordingSubscriber::start(ep, kBeatMs);
  ASSERT_NE(subscriber, nullptr);

  // Settled: every agent alive, the warm-up over, the subscriber in step.
  const auto before = wait_in_step(
      ep.admin, *subscriber,
      [&](const Snapshot& snapshot) { return snapshot.complete && all_alive(snapshot, names); },
      eventually(kMaxLease));
  ASSERT_TRUE(before) << "the first broker never settled";
  const uint64_t old_epoch = before->epoch;

  // "late" is frozen across the restart, so the new broker's first
  // snapshots lack it while the agent still lives.
  agents["late"]->signal(SIGSTOP);
  broker->process().signal(SIGKILL);
  ASSERT_TRUE(broker->process().wait_exit(eventually(1s)).has_value());
  auto restarted = start_broker(concat(broker->same_endpoint_args(), timer_args()));
  ASSERT_NE(restarted, nullptr);
  const auto restarted_at = std::chrono::steady_clock::now();

  // The subscriber moves to the new epoch while "late" is still missing.
  std::optional<Snapshot> warming;
  ASSERT_TRUE(wait_until(
      [&] {
        warming = admin_snapshot(ep.admin);
        return warming && warming->epoch != old_epoch &&
               subscriber->view().epoch() == warming->epoch && subscriber->synced();
      },
      eventually(kLease), 50ms));
  const uint64_t new_epoch = warming->epoch;
  EXPECT_NE(new_epoch, old_epoch);
  EXPECT_FALSE(warming->complete) << "a snapshot during the warm-up must say complete: false";
  const auto warm_up_left = kMaxLease - (std::chrono::steady_clock::now() - restarted_at);
  EXPECT_GT(warm_up_left, 0ms) << "the machine is too slow to observe the warm-up";

  // The agents that ran rejoin; "late" wakes up and rejoins too.
  agents["late"]->signal(SIGCONT);
  std::optional<Snapshot> rejoined;
  ASSERT_TRUE(wait_until(
      [&] {
        rejoined = admin_snapshot(ep.admin);
        return rejoined && all_alive(*rejoined, names);
      },
      eventually(kLease), 50ms))
      << "not every agent rejoined the new broker";
  EXPECT_EQ(rejoined->epoch, new_epoch);

  // Complete once one max lease has passed since the start, and from then on.
  std::optional<Snapshot> complete;
  ASSERT_TRUE(wait_until(
      [&] {
        complete = admin_snapshot(ep.admin);
        return complete && complete->complete;
      },
      eventually(kMaxLease), 50ms));
  EXPECT_GE(std::chrono::steady_clock::now() - restarted_at, kMaxLease - 100ms)
      << "the warm-up ended before one max lease";
  EXPECT_TRUE(wait_until(
      [&] {
        complete = admin_snapshot(ep.admin);
        return complete && complete->complete && all_alive(*complete, names) &&
               view_matches(subscriber->view(), *complete);
      },
      eventually(1s), 50ms))
      << "the subscriber's view never matched the new broker's";
  EXPECT_TRUE(subscriber->view().complete());

  // The subscriber resynced on the epoch change...
  bool epoch_resync = false;
  for (const auto& resync : subscriber->resyncs()) {
    if (resync.reason == ResyncReason::kEpochChange && resync.epoch == new_epoch) {
      epoch_resync = true;
    }
  }
  EXPECT_TRUE(epoch_resync);
  // ...and was never told that a live node was removed, dead or suspect:
  // a node missing from the new broker's incomplete (warm-up) snapshot is
  // not gone (docs/PROTOCOL.md, "Following the state", item 8 "Warm-up").
  for (const auto& change : subscriber->changes()) {
    EXPECT_EQ(change.record.state, NodeState::kAlive)
        << "the subscriber was told " << change.record.node << " is "
        << to_string(change.record.state) << " (epoch " << change.epoch << ", version "
        << change.version
        << (change.from_resync ? ", found missing from a resync snapshot" : ", from a delta")
        << ") although its agent ran throughout";
  }
  for (const auto& name : names) {
    EXPECT_TRUE(agents[name]->running()) << name << " exited:\n" << agents[name]->output();
  }
}

}  // namespace
}  // namespace roster::e2e
