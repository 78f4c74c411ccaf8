// The state channel: snapshots for late subscribers (fast), periodic
// snapshots, beats, the warm-up flag, and the admin snapshot agreeing with
// the view a subscriber builds from a snapshot plus deltas.
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>

#include "roster/codec.h"
#include "roster/view.h"
#include "support/admin.h"
#include "support/agent_client.h"
#include "support/broker_process.h"
#include "support/messages.h"
#include "support/raw_sockets.h"

namespace roster::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

#ifdef ROSTER_TEST_SANITIZED
// Sanitizers slow the broker and the test 2-5x.
constexpr milliseconds kLateSnapshotLimit{1'000};
#else
constexpr milliseconds kLateSnapshotLimit{200};
#endif

Snapshot decoded_snapshot(const StateMessage& message) {
  auto decoded = decode_snapshot(message.body);
  EXPECT_TRUE(decoded.ok()) << decoded.error().message;
  return decoded.ok() ? decoded.value() : Snapshot{};
}

void join_nodes(const std::string& endpoint, int count) {
  AgentClient agent(endpoint);
  for (int i = 0; i < count; ++i) {
    ASSERT_EQ(error_code(agent.join("node-" + std::to_string(i), 1, 60'000, "10.0.0.1:80",
                                    {{"zone", "a"}})),
              std::nullopt);
  }
}

TEST(StateChannelTest, LateSubscribersGetASnapshotWithin200ms) {
  auto broker = BrokerProcess::start();
  ASSERT_NE(broker, nullptr);
  join_nodes(broker->endpoints().agents, 50);
  // Several late subscribers, back to back: all but the first also wait
  // out the broker's 50 ms rate limit between such snapshots. The median
  // must be under the limit, and every one under five times it, so that a
  // single scheduling hiccup on a loaded CI machine does not fail the build.
  std::vector<milliseconds> latencies;
  for (int i = 0; i < 5; ++i) {
    auto subscribed = steady_clock::now();
    StateReader late(broker->endpoints().publish);
    auto message = late.next_on(kTopicSnapshot);
    ASSERT_TRUE(message);
    latencies.push_back(std::chrono::duration_cast<milliseconds>(message->received - subscribed));
    Snapshot snapshot = decoded_snapshot(*message);
    EXPECT_EQ(snapshot.nodes.size(), 50u);
    EXPECT_FALSE(snapshot.complete);  // warming up for --max-lease (1m)
  }
  std::string all;
  for (auto latency : latencies) all += std::to_string(latency.count()) + " ms ";
  std::cout << "late subscriber snapshot latencies: " << all << std::endl;
  for (auto latency : latencies) EXPECT_LT(latency, 5 * kLateSnapshotLimit) << all;
  std::sort(latencies.begin(), latencies.end());
  EXPECT_LT(latencies[latencies.size() / 2], kLateSnapshotLimit) << all;
}

TEST(StateChannelTest, EveryPrefixCoveringSnapshotsTriggersOne) {
  auto broker = BrokerProcess::start();
  ASSERT_NE(broker, nullptr);
  for (const std::string prefix : {"", "roster.", "roster.snap", "roster.snapshot"}) {
    StateReader watcher(broker->endpoints().publish, prefix);
    auto message = watcher.next_on(kTopicSnapshot);
    ASSERT_TRUE(message) << "prefix '" << prefix << "'";
  }
}

TEST(StateChannelTest, BeatsComeEveryBeatInterval) {
  auto broker = BrokerProcess::start({"--beat-interval", "100ms"});
  ASSERT_NE(broker, nullptr);
  join_nodes(broker->endpoints().agents, 1);
  StateReader watcher(broker->endpoints().publish, std::string(kTopicBeat));
  std::vector<Beat> beats;
  for (int i = 0; i < 3; ++i) {
    auto message = watcher.next_on(kTopicBeat);
    ASSERT_TRUE(message);
    auto beat = decode_beat(message->body);
    ASSERT_TRUE(beat.ok()) << beat.error().message;
    beats.push_back(beat.value());
  }
  AdminClient admin(broker->endpoints().admin);
  auto stats = admin.stats();
  ASSERT_TRUE(stats);
  for (const Beat& beat : beats) {
    EXPECT_EQ(beat.epoch, stats->epoch);
    EXPECT_EQ(beat.version, 1u);
  }
  EXPECT_LT(beats[0].time_ms, beats[2].time_ms);
}

TEST(StateChannelTest, SnapshotsComeEverySnapshotInterval) {
  auto broker = BrokerProcess::start({"--snapshot-interval", "100ms"});
  ASSERT_NE(broker, nullptr);
  StateReader watcher(broker->endpoints().publish, std::string(kTopicSnapshot));
  // Nothing changes: every snapshot is the one built for version 0, with
  // its build time (PROTOCOL.md, roster.snapshot).
  std::optional<Snapshot> first;
  for (int i = 0; i < 4; ++i) {
    auto message = watcher.next_on(kTopicSnapshot);
    ASSERT_TRUE(message);
    Snapshot snapshot = decoded_snapshot(*message);
    if (!first) first = snapshot;
    EXPECT_EQ(snapshot, *first);
  }
}

TEST(StateChannelTest, SnapshotsBecomeCompleteAfterOneMaxLease) {
  auto broker = BrokerProcess::start({"--min-lease", "100ms", "--max-lease", "1s"});
  ASSERT_NE(broker, nullptr);
  StateReader watcher(broker->endpoints().publish, std::string(kTopicSnapshot));
  AdminClient admin(broker->endpoints().admin);
  auto first = admin.snapshot();
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->complete);
  // The end of the warm-up triggers a snapshot on the state channel.
  bool complete = false;
  auto deadline = steady_clock::now() + std::chrono::seconds(20);
  while (!complete && steady_clock::now() < deadline) {
    auto message = watcher.next_on(kTopicSnapshot);
    ASSERT_TRUE(message);
    complete = decoded_snapshot(*message).complete;
  }
  EXPECT_TRUE(complete);
  auto later = admin.snapshot();
  ASSERT_TRUE(later);
  EXPECT_TRUE(later->complete);
}

TEST(StateChannelTest, AdminSnapshotEqualsTheViewFromSnapshotPlusDeltas) {
  auto broker = BrokerProcess::start(
      {"--min-lease", "100ms", "--dead-after", "100ms", "--forget-left-after", "200ms"});
  ASSERT_NE(broker, nullptr);
  // Clone pattern: subscribe first, then take the admin snapshot, then
  // apply only the deltas above it.
  StateReader watcher(broker->endpoints().publish, std::string(kTopicDelta));
  join_nodes(broker->endpoints().agents, 20);
  AdminClient admin(broker->endpoints().admin);
  auto base = admin.snapshot();
  ASSERT_TRUE(base);
  View view;
  view.reset(*base);

  AgentClient agent(broker->endpoints().agents);
  for (int i = 0; i < 5; ++i) {
    // seq above the join's, or the leave is acked but not applied.
    LeaveRequest leave;
    leave.node = "node-" + std::to_string(i);
    leave.inc = 1;
    leave.seq = 1'000;
    ASSERT_EQ(error_code(agent.call(leave)), std::nullopt);
  }
  for (int i = 5; i < 8; ++i) {
    ASSERT_TRUE(admin.call(RemoveCommand{"node-" + std::to_string(i), std::nullopt}));
  }
  ASSERT_EQ(error_code(agent.join("short-lease", 1, 100)), std::nullopt);
  ASSERT_EQ(error_code(agent.join("node-10", 2, 60'000, "10.0.0.2:80", {{"zone", "b"}})),
            std::nullopt);

  // Wait until the short-lease node is dead and the left nodes are gone.
  std::optional<Snapshot> target;
  bool settled = wait_until(
      [&] {
        target = admin.snapshot();
        if (!target) return true;
        bool dead = false;
        size_t left = 0;
        for (const auto& r : target->nodes) {
          if (r.node == "short-lease" && r.state == NodeState::kDead) dead = true;
          if (r.state == NodeState::kLeft) ++left;
        }
        return dead && left == 0;
      },
      std::chrono::seconds(20), milliseconds(20));
  ASSERT_TRUE(settled);
  ASSERT_TRUE(target);

  while (view.version() < target->version) {
    auto message = watcher.next_on(kTopicDelta);
    ASSERT_TRUE(message) << "view stuck at " << view.version() << " < " << target->version;
    auto delta = decode_delta(message->body);
    ASSERT_TRUE(delta.ok()) << delta.error().message;
    auto result = view.apply(delta.value());
    ASSERT_TRUE(result == View::ApplyResult::kApplied || result == View::ApplyResult::kOld)
        << "delta " << delta.value().version << " after " << view.version();
  }
  Snapshot built = view.to_snapshot(target->time_ms);
  EXPECT_EQ(built.epoch, target->epoch);
  EXPECT_EQ(built.version, target->version);
  EXPECT_EQ(built.nodes, target->nodes);
  EXPECT_EQ(target->nodes.size(), 20u - 5 - 3 + 1);
}

TEST(StateChannelTest, PublishIntervalCoalescesDeltas) {
  auto broker = BrokerProcess::start({"--publish-interval", "500ms"});
  ASSERT_NE(broker, nullptr);
  StateReader watcher(broker->endpoints().publish);
  ASSERT_TRUE(watcher.next_on(kTopicSnapshot));
  constexpr int kJoins = 10;
  join_nodes(broker->endpoints().agents, kJoins);
  int deltas = 0;
  size_t changes = 0;
  uint64_t version = 0;
  while (changes < kJoins) {
    auto message = watcher.next_on(kTopicDelta);
    ASSERT_TRUE(message);
    auto delta = decode_delta(message->body);
    ASSERT_TRUE(delta.ok());
    EXPECT_EQ(delta.value().prev_version, version);
    version = delta.value().version;
    changes += delta.value().changes.size();
    ++deltas;
  }
  EXPECT_EQ(changes, static_cast<size_t>(kJoins));
  EXPECT_LT(deltas, kJoins);
}

}  // namespace
}  // namespace roster::testing
