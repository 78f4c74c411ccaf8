// Issue 14, item 4: a redundant pair of real roster-broker processes, 50
// roster-agent processes heartbeating both (--broker A --broker B) and two
// roster::Subscribers following the pair. Whatever happens
// to one broker (SIGKILL, a restart whose warm-up is interrupted by the
// other's death, a SIGSTOP of three leases) the subscribers keep a view,
// fail over within the staleness window and are told of no change a live
// node did not make; an operator removal while one broker is down holds.
#include <gtest/gtest.h>
#include <signal.h>

#include <array>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "e2e_support.h"
#include "pair_fleet.h"

namespace roster::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kNodes = 50;
constexpr uint64_t kLeaseMs = 1'000;
constexpr auto kLease = std::chrono::milliseconds(kLeaseMs);
// Also each broker's warm-up after a start: long enough to fail over into
// it on a loaded machine.
constexpr auto kMaxLease = std::chrono::milliseconds(kSlowdown == 1 ? 3'000 : 6'000);
// Beats of these brokers: the subscribers fail over after three silent
// ones. Longer than other e2e tests' (kBeatMs) so that a loaded 2-core
// machine, starving a broker or the test process for a second, does not
// make both brokers look silent in turn.
constexpr auto kBeat = std::chrono::milliseconds(400);
// The margin for scheduling on such a machine.
constexpr auto kSwitchSlack = std::chrono::milliseconds(500 * kSlowdown);

// roster-broker with `extra` args and this test's timers.
std::unique_ptr<BrokerProcess> start_pair_broker(const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = extra;
  const std::vector<std::string> timers = {
      "--min-lease",         "100ms",
      "--max-lease",         std::to_string(kMaxLease.count()) + "ms",
      "--dead-after",        "1s",
      "--forget-dead-after", "2s",
      "--beat-interval",     std::to_string(kBeat.count()) + "ms"};
  args.insert(args.end(), timers.begin(), timers.end());
  return BrokerProcess::start(args);
}

std::set<std::string> node_names() {
  std::set<std::string> names;
  for (int i = 0; i < kNodes; ++i) {
    names.insert((i < 10 ? "n-0" : "n-") + std::to_string(i));
  }
  return names;
}

bool has_node(const Snapshot& snapshot, const std::string& node) {
  for (const auto& record : snapshot.nodes) {
    if (record.node == node) return true;
  }
  return false;
}

std::string describe(const NodeChange& change) {
  std::ostringstream out;
  out << change.record.node << " " << (change.old ? to_string(change.old->state) : "-") << " -> "
      << to_string(change.record.state) << " (epoch " << change.epoch << ", version "
      << change.version << (change.from_resync ? ", resync" : ", delta") << ")";
  return out.str();
}

class RedundantPairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto& broker : brokers_) {
      broker = start_pair_broker();
      ASSERT_NE(broker, nullptr);
    }
    fleet_ = std::make_unique<PairFleet>(
        std::vector<std::string>{brokers_[0]->endpoints().agents, brokers_[1]->endpoints().agents},
        names_, kLeaseMs, "1s");
    for (auto& sub : subs_) {
      sub = RecordingSubscriber::start({brokers_[0]->endpoints(), brokers_[1]->endpoints()},
                                       kBeat.count());
      ASSERT_NE(sub, nullptr);
    }
    // Settled: both brokers complete with every node alive, the
    // subscribers in step with the first.
    for (auto& broker : brokers_) {
      ASSERT_TRUE(wait_until(
          [&] {
            auto s = admin_snapshot(broker->endpoints().admin);
            return s && s->complete && all_alive(s, names_);
          },
          eventually(kMaxLease), 50ms))
          << "a broker never settled";
    }
    for (auto& sub : subs_) {
      ASSERT_TRUE(in_step(*sub, 0, names_)) << "a subscriber never followed the first broker";
      EXPECT_EQ(sub->following().admin_endpoint, brokers_[0]->endpoints().admin);
    }
    for (size_t i = 0; i < subs_.size(); ++i) baseline_[i] = subs_[i]->changes().size();
  }

  // Waits until `sub` follows broker `b`, its view complete and equal to
  // that broker's snapshot, with exactly `alive` alive.
  bool in_step(const RecordingSubscriber& sub, int b, const std::set<std::string>& alive,
               std::chrono::milliseconds timeout = eventually(kMaxLease)) {
    return wait_in_step(
               brokers_[b]->endpoints().admin, sub,
               [&](const Snapshot& s) {
                 return s.complete && all_alive(s, alive) && sub.view().complete() &&
                        sub.following().admin_endpoint == brokers_[b]->endpoints().admin;
               },
               timeout)
        .has_value();
  }

  // The incarnation of `node` on broker `b` (0 if it does not hold it).
  uint64_t inc_of(int b, const std::string& node) {
    auto snapshot = admin_snapshot(brokers_[b]->endpoints().admin);
    if (snapshot) {
      for (const auto& record : snapshot->nodes) {
        if (record.node == node) return record.inc;
      }
    }
    return 0;
  }

  // Every node's incarnation on broker `b`.
  std::map<std::string, uint64_t> incs_on(int b) {
    std::map<std::string, uint64_t> incs;
    auto snapshot = admin_snapshot(brokers_[b]->endpoints().admin);
    if (snapshot) {
      for (const auto& record : snapshot->nodes) incs[record.node] = record.inc;
    }
    return incs;
  }

  void kill(int b) {
    brokers_[b]->process().signal(SIGKILL);
    ASSERT_TRUE(brokers_[b]->process().wait_exit(eventually(1s)).has_value());
  }

  void restart(int b) {
    const auto same = brokers_[b]->same_endpoint_args();
    brokers_[b] = start_pair_broker(same);

    ASSERT_NE(brokers_[b], nullptr);
  }

  // Waits until every subscriber counts `failovers` failovers; returns how
  // long each took from `since` (or a huge value on timeout).
  std::array<Clock::duration, 2> wait_failovers(uint64_t failovers, Clock::time_point since) {
    std::array<Clock::duration, 2> took{Clock::duration::max(), Clock::duration::max()};
    wait_until(
        [&] {
          bool all = true;
          for (size_t i = 0; i < subs_.size(); ++i) {
            if (took[i] != Clock::duration::max()) continue;
            if (subs_[i]->stats().failovers >= failovers) {
              took[i] = Clock::now() - since;
            } else {
              all = false;
            }
          }
          return all;
        },
        eventually(3 * kBeat), 5ms);
    return took;
  }

  // The changes subscriber `i` reported since the test settled.
  std::vector<NodeChange> changes_since_settled(size_t i) const {
    auto all = subs_[i]->changes();
    return std::vector<NodeChange>(all.begin() + static_cast<std::ptrdiff_t>(baseline_[i]),
                                   all.end());
  }

  // Not one change reported since the test settled, and never stale.
  void expect_no_change_reported() {
    for (size_t i = 0; i < subs_.size(); ++i) {
      for (const auto& change : changes_since_settled(i)) {
        ADD_FAILURE() << "subscriber " << i << " was told " << describe(change)
                      << " although every node ran throughout";
      }
      EXPECT_TRUE(subs_[i]->stale_events().empty()) << "subscriber " << i << " went stale";
    }
  }

  const std::set<std::string> names_ = node_names();
  std::array<std::unique_ptr<BrokerProcess>, 2> brokers_;
  std::unique_ptr<PairFleet> fleet_;
  std::array<std::unique_ptr<RecordingSubscriber>, 2> subs_;
  std::array<size_t, 2> baseline_{};
};

TEST_F(RedundantPairTest, KilledFollowedBrokerIsLeftWithinThreeBeatsAndNoChangeIsReported) {
  const auto killed_at = Clock::now();
  kill(0);
  const auto took = wait_failovers(1, killed_at);
  for (size_t i = 0; i < subs_.size(); ++i) {
    EXPECT_LE(took[i], 3 * kBeat + kSwitchSlack)
        << "subscriber " << i << " switched after "
        << std::chrono::duration_cast<std::chrono::milliseconds>(took[i]).count() << " ms";
    EXPECT_TRUE(in_step(*subs_[i], 1, names_)) << "subscriber " << i;
    EXPECT_EQ(subs_[i]->stats().failovers, 1u);
  }
  expect_no_change_reported();
  EXPECT_EQ(fleet_->running(), names_);
}

TEST_F(RedundantPairTest, OtherBrokerKilledDuringTheRestartedOnesWarmUpReportsNoChange) {
  kill(0);
  for (auto& sub : subs_) ASSERT_TRUE(in_step(*sub, 1, names_));
  restart(0);
  const auto restarted_at = Clock::now();
  const uint64_t new_epoch = admin_snapshot(brokers_[0]->endpoints().admin)->epoch;
  // Warming up, not every agent back yet: the subscribers fail over into
  // an incomplete snapshot.
  kill(1);
  const auto took = wait_failovers(2, Clock::now());
  for (size_t i = 0; i < subs_.size(); ++i) {
    EXPECT_NE(took[i], Clock::duration::max()) << "subscriber " << i << " did not fail over";
  }
  EXPECT_LT(Clock::now() - restarted_at, kMaxLease)
      << "the machine is too slow to fail over inside the warm-up";
  for (size_t i = 0; i < subs_.size(); ++i) {
    std::optional<ResyncRecord> into;
    EXPECT_TRUE(wait_until(
        [&] {
          for (const auto& resync : subs_[i]->resyncs()) {
            if (resync.reason == ResyncReason::kFailover && resync.epoch == new_epoch) {
              into = resync;
            }
          }
          return into.has_value();
        },
        eventually(1s), 10ms))
        << "subscriber " << i << " took no snapshot of the restarted broker";
    EXPECT_TRUE(into && !into->complete)
        << "subscriber " << i << " did not fail over into the warm-up (the machine is too slow?)";
  }
  // After the warm-up: complete, every node alive, the views equal.
  for (size_t i = 0; i < subs_.size(); ++i) {
    EXPECT_TRUE(in_step(*subs_[i], 0, names_)) << "subscriber " << i;
    EXPECT_EQ(subs_[i]->view().epoch(), new_epoch);
  }
  EXPECT_TRUE(view_matches(subs_[0]->view(), *admin_snapshot(brokers_[0]->endpoints().admin)) &&
              view_matches(subs_[1]->view(), *admin_snapshot(brokers_[0]->endpoints().admin)));
  expect_no_change_reported();
  EXPECT_EQ(fleet_->running(), names_);
}

TEST_F(RedundantPairTest, RemovalWhileOneBrokerIsDownHoldsOnBothOnceItIsBack) {
  const std::string gone = "n-07";
  const uint64_t gone_inc = inc_of(0, gone);
  kill(1);
  const std::string both = brokers_[0]->endpoints().admin + "," + brokers_[1]->endpoints().admin;
  testing::CommandResult removal = testing::run_command(
      {testing::bin("rosterctl"), "--admin", both, "--timeout", "1s", "--json", "remove", gone});
  EXPECT_EQ(removal.exit_status, 0) << removal.out << removal.err;
  EXPECT_NE(removal.err.find(brokers_[1]->endpoints().admin), std::string::npos)
      << "the unreachable broker is not named: " << removal.err;
  // Removed on the live broker at once.
  auto after = admin_snapshot(brokers_[0]->endpoints().admin);
  ASSERT_TRUE(after);
  EXPECT_FALSE(has_node(*after, gone));
  // Its agent is fenced: it exits 3 at its next heartbeat.
  EXPECT_TRUE(wait_until([&] { return fleet_->fenced(gone); }, eventually(kLease), 20ms))
      << fleet_->output_tail(gone);
  std::set<std::string> live = names_;
  live.erase(gone);
  for (auto& sub : subs_) {
    EXPECT_TRUE(in_step(*sub, 0, live));
    EXPECT_TRUE(sub->removal_of(gone, gone_inc).has_value());
  }

  // The down broker comes back and never shows the node, warming up or not.
  restart(1);
  bool seen = false;
  EXPECT_TRUE(wait_until(
      [&] {
        auto s = admin_snapshot(brokers_[1]->endpoints().admin);
        if (s && has_node(*s, gone)) seen = true;
        return s && s->complete && all_alive(s, live);
      },
      eventually(kMaxLease), 50ms));
  EXPECT_FALSE(seen) << gone << " showed up on the broker that was down";
  // Following that broker from now on brings nothing back either.
  kill(0);
  for (auto& sub : subs_) EXPECT_TRUE(in_step(*sub, 1, live));
  for (size_t i = 0; i < subs_.size(); ++i) {
    for (const auto& change : changes_since_settled(i)) {
      EXPECT_TRUE(change.record.node == gone && change.record.state == NodeState::kRemoved)
          << "subscriber " << i << " was told " << describe(change);
    }
    EXPECT_EQ(subs_[i]->states_of(gone).back(), NodeState::kRemoved);
  }
}

TEST_F(RedundantPairTest, PausedFollowedBrokerIsLeftAndDeclaresNoDeathWhenItResumes) {
  // A subscriber of the paused broker alone sees what it publishes.
  auto witness = RecordingSubscriber::start(brokers_[0]->endpoints(), kBeat.count());
  ASSERT_NE(witness, nullptr);
  ASSERT_TRUE(wait_in_step(
      brokers_[0]->endpoints().admin, *witness,
      [&](const Snapshot& s) { return s.complete && all_alive(s, names_); }, eventually(1s)));
  const size_t witness_baseline = witness->changes().size();
  const auto incs_before = incs_on(0);

  const auto stopped_at = Clock::now();
  brokers_[0]->process().signal(SIGSTOP);
  const auto took = wait_failovers(1, stopped_at);
  for (size_t i = 0; i < subs_.size(); ++i) {
    EXPECT_LE(took[i], 3 * kBeat + kSwitchSlack) << i;
    EXPECT_TRUE(in_step(*subs_[i], 1, names_)) << "subscriber " << i;
  }
  // Three leases stopped, the subscribers on the other broker meanwhile.
  const auto stopped_for = Clock::now() - stopped_at;
  if (stopped_for < 3 * kLease) {
    EXPECT_TRUE(holds_for(
        [&] {
          return subs_[0]->following().admin_endpoint == brokers_[1]->endpoints().admin &&
                 subs_[1]->following().admin_endpoint == brokers_[1]->endpoints().admin;
        },
        std::chrono::duration_cast<std::chrono::milliseconds>(3 * kLease - stopped_for)));
  }
  brokers_[0]->process().signal(SIGCONT);

  // The resumed broker extends every lease by the pause: nobody died.
  EXPECT_TRUE(wait_in_step(
      brokers_[0]->endpoints().admin, *witness,
      [&](const Snapshot& s) { return s.complete && all_alive(s, names_); }, eventually(kLease)));
  auto stats = admin_stats(brokers_[0]->endpoints().admin);
  ASSERT_TRUE(stats);
  EXPECT_GE(stats->counters["stalls"], 1u) << "the broker did not count the stall";
  // Sticky: the subscribers stay on the broker they follow.
  EXPECT_TRUE(holds_for(
      [&] {
        return subs_[0]->following().admin_endpoint == brokers_[1]->endpoints().admin &&
               subs_[1]->following().admin_endpoint == brokers_[1]->endpoints().admin;
      },
      5 * kBeat));
  auto witnessed = witness->changes();
  for (size_t i = witness_baseline; i < witnessed.size(); ++i) {
    EXPECT_EQ(witnessed[i].record.state, NodeState::kAlive)
        << "the paused broker declared " << describe(witnessed[i]);
  }
  expect_no_change_reported();
  EXPECT_EQ(incs_on(0), incs_before) << "an agent had to take a new incarnation";
  EXPECT_EQ(fleet_->running(), names_);
}

}  // namespace
}  // namespace roster::e2e
