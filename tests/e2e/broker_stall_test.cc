// A stalled broker (SIGSTOP for three leases, then SIGCONT) must not declare
// its cluster dead: when it resumes, it extends every lease by the stall
// before expiring anything. Observed by a roster::Subscriber, which also
// reports the view stale during the stall and fresh after it.
//
// The roster-agent processes keep sending during the stall, and what they
// queued reaches the broker as soon as it resumes, renewing their leases.
// One more node, "quiet", sends nothing during the stall and resumes a
// moment after the broker (as an agent on the same paused host would): only
// the stall protection keeps it from expiring.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "e2e_support.h"
#include "sim_fleet.h"

namespace roster::e2e {
namespace {

using namespace std::chrono_literals;

constexpr auto kLease = 1s;
constexpr auto kDeadAfter = 1s;

TEST(BrokerStallTest, APausedBrokerDeclaresNoNodeDead) {
  auto broker = start_broker({"--min-lease", "100ms", "--max-lease", "1s", "--dead-after", "1s",
                              "--forget-dead-after", "10s"});
  ASSERT_NE(broker, nullptr);
  const testing::BrokerEndpoints ep = broker->endpoints();
  const std::set<std::string> names = {"s-1", "s-2", "s-3", "s-4", "quiet"};
  std::map<std::string, std::unique_ptr<Process>> agents;
  for (const auto& name : {"s-1", "s-2", "s-3", "s-4"}) {
    agents[name] = start_agent(ep.agents, name, "1s");
    ASSERT_NE(agents[name], nullptr);
  }
  // "quiet" heartbeats from a thread of its own while not paused.
  SimFleet quiet(ep.agents, 1'000);
  quiet.start("quiet");
  std::atomic<bool> quiet_paused{false};
  std::atomic<bool> quiet_stop{false};
  std::thread quiet_thread([&] {
    while (!quiet_stop) {
      if (quiet_paused) {
        std::this_thread::sleep_for(10ms);
      } else {
        quiet.pump(20ms);
      }
    }
  });
  struct Joiner {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Joiner() {
      stop = true;
      thread.join();
    }
  } joiner{quiet_stop, quiet_thread};
  auto subscriber = RecordingSubscriber::start(ep, kBeatMs);
  ASSERT_NE(subscriber, nullptr);
  ASSERT_TRUE(wait_in_step(
      ep.admin, *subscriber, [&](const Snapshot& snapshot) { return all_alive(snapshot, names); },
      eventually(kLease)));

  // The pause itself is the scenario: three leases of a frozen broker.
  quiet_paused = true;
  broker->process().signal(SIGSTOP);
  std::this_thread::sleep_for(3 * kLease);
  EXPECT_TRUE(subscriber->stale()) << "the subscriber did not notice the silent broker";
  broker->process().signal(SIGCONT);
  std::this_thread::sleep_for(kLease / 4);
  quiet_paused = false;

  // Long enough after the resume for a lease plus dead-after to run out if
  // the broker had not extended the leases: every node stays alive.
  ASSERT_TRUE(wait_until([&] { return all_alive(admin_snapshot(ep.admin), names); },
                         eventually(kLease), 50ms));
  EXPECT_TRUE(holds_for([&] { return all_alive(admin_snapshot(ep.admin), names); },
                        kLease + kDeadAfter + 1s, 100ms))
      << "a node left the alive state after the stall";
  EXPECT_TRUE(wait_until(
      [&] {
        auto snapshot = admin_snapshot(ep.admin);
        return snapshot && view_matches(subscriber->view(), *snapshot);
      },
      eventually(1s), 50ms));

  for (const auto& change : subscriber->changes()) {
    EXPECT_EQ(change.record.state, NodeState::kAlive)
        << change.record.node << " was declared " << to_string(change.record.state) << " (version "
        << change.version << ")";
  }
  const std::vector<bool> stale = subscriber->stale_events();
  ASSERT_GE(stale.size(), 2u) << "expected stale then fresh";
  EXPECT_TRUE(stale[stale.size() - 2]);
  EXPECT_FALSE(stale.back());

  auto stats = admin_stats(ep.admin);
  ASSERT_TRUE(stats);
  EXPECT_GE(stats->counters["stalls"], 1u) << "the broker did not count the stall";
  EXPECT_GE(stats->counters["stalled_ms"], 2'000u);
  for (auto& [name, agent] : agents) {
    EXPECT_TRUE(agent->running()) << name << " exited:\n" << agent->output();
  }
}

}  // namespace
}  // namespace roster::e2e
