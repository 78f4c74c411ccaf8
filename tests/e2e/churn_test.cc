// Churn: 200 agents randomly killed, restarted and leaving for 30 seconds
// against one broker. Most agents are simulated on the test's thread
// (SimFleet: one DEALER each), some are roster::Agent instances in this
// process, some are roster-agent processes. Afterwards:
// - three independent subscribers (one from the start, one with a tiny
//   receive high-water mark so it keeps losing deltas, one that joins in the
//   middle of the churn) hold exactly the broker's admin snapshot;
// - every departed node was forgotten within its timers (lease + dead-after
//   + forget-dead-after after a crash, forget-left-after after a leave),
//   and the broker holds exactly the agents that run, all alive;
// - the broker's memory (VmRSS) does not grow from one churn round to the
//   next (later rounds stay within 10% + 2 MiB of the second).
// Sanitizer builds (ROSTER_E2E_SANITIZED) run fewer agents for less time.
#include <gtest/gtest.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>
#include <map>
#include <random>
#include <set>

#include "e2e_support.h"
#include "roster/agent.h"
#include "sim_fleet.h"
#include "support/proc_info.h"

namespace roster::e2e {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// How much churn one run makes: the sanitized build runs a smaller fleet
// for fewer rounds, so it stays within CI's time.
struct ChurnSize {
  int agents;                  // simulated agents in the fleet
  int process_agents;          // real roster-agent processes among them
  int library_agents;          // in-process roster::Agent instances
  int rounds;                  // rounds of churn, kRoundLength each
  int min_departures_checked;  // departures the test must see forgotten
};
#ifdef ROSTER_E2E_SANITIZED
constexpr ChurnSize kSize{60, 4, 4, 3, 8};
#else
constexpr ChurnSize kSize{200, 10, 10, 6, 50};
#endif
constexpr int kAgents = kSize.agents;
constexpr int kProcessAgents = kSize.process_agents;
constexpr int kLibraryAgents = kSize.library_agents;
constexpr int kRounds = kSize.rounds;
constexpr int kMinDeparturesChecked = kSize.min_departures_checked;
constexpr auto kRoundLength = 5s;  // kRounds * kRoundLength of churn

constexpr uint64_t kLeaseMs = 1'000;
constexpr uint64_t kDeadAfterMs = 1'000;
constexpr uint64_t kForgetDeadMs = 1'000;
constexpr uint64_t kForgetLeftMs = 1'000;
// How late a forget may be on a loaded machine (tick, scheduling, publish).
constexpr uint64_t kSlackMs = 2'000 * kSlowdown;
// Memory: a later round may exceed the baseline round (the second) by this
// much. Measured on the 2-core dev machine: about 18.4 MiB after round two,
// growing ever more slowly to 20.1 MiB after round six (20.9 MiB after
// round fourteen): allocator and socket buffers settling, not a leak.
constexpr double kRssGrowthFactor = 1.10;
constexpr long kRssNoiseKb = 2 * 1024;

std::vector<std::string> broker_args() {
  return {"--min-lease",         "100ms", "--max-lease",         "1s", "--dead-after",    "1s",
          "--forget-dead-after", "1s",    "--forget-left-after", "1s", "--tombstone-ttl", "3s"};
}

enum class Kind { kSim, kLibrary, kProcess };

// One agent of the churn and what the test knows about it.
struct Member {
  std::string name;
  Kind kind = Kind::kSim;
  bool up = false;
  Clock::time_point changed_at;
  std::chrono::milliseconds downtime{0};
  std::unique_ptr<Agent> library;
  std::unique_ptr<Process> process;
};

// A node that stopped: it must be forgotten within `bound_ms` of `at_ms`
// unless it comes back first.
struct Departure {
  std::string node;
  uint64_t at_ms = 0;
  uint64_t bound_ms = 0;
  bool crash = false;
  std::optional<uint64_t> back_at_ms;  // restarted before being forgotten
};

class ChurnTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The in-process agents log every join and stop; only problems matter.
    spdlog::set_level(spdlog::level::warn);
    broker_ = start_broker(broker_args());
    ASSERT_NE(broker_, nullptr);
    fleet_ = std::make_unique<SimFleet>(ep().agents, kLeaseMs);
    for (int i = 0; i < kAgents; ++i) {
      auto member = std::make_unique<Member>();
      char name[32];
      std::snprintf(name, sizeof(name), "churn-%03d", i);
      member->name = name;
      member->kind = i < kProcessAgents                    ? Kind::kProcess
                     : i < kProcessAgents + kLibraryAgents ? Kind::kLibrary
                                                           : Kind::kSim;
      members_.push_back(std::move(member));
    }
  }

  void TearDown() override {
    for (auto& member : members_) {
      if (member->library) member->library->stop(false);
    }
  }

  const testing::BrokerEndpoints& ep() const { return broker_->endpoints(); }

  void bring_up(Member& m) {
    switch (m.kind) {
      case Kind::kSim:
        fleet_->start(m.name);
        break;
      case Kind::kLibrary: {
        if (m.library) m.library->stop(false);
        AgentConfig config;
        config.brokers = {ep().agents};
        config.node_id = m.name;
        config.addr = "127.0.0.1:3";
        config.labels = {{"kind", "library"}};
        config.lease_ms = kLeaseMs;
        m.library = std::make_unique<Agent>(config);
        ASSERT_EQ(m.library->start(), std::nullopt);
        break;
      }
      case Kind::kProcess:
        if (m.process) {
          m.process->signal(SIGKILL);
          retire(std::move(m.process), false);
        }
        m.process = start_agent(ep().agents, m.name, "1s");
        ASSERT_NE(m.process, nullptr);
        break;
    }
    if (!m.up) {
      for (auto& d : departures_) {
        if (d.node == m.name && !d.back_at_ms) d.back_at_ms = unix_ms();
      }
    }
    m.up = true;
    m.changed_at = Clock::now();
  }

  // Keeps a stopped process until the end, to check how it exited.
  void retire(std::unique_ptr<Process> process, bool left) {
    retired_.push_back({std::move(process), left});
  }

  // Whether the broker (as the first subscriber sees it) holds `m` alive:
  // only then is its departure a departure the broker must forget.
  bool known_alive(const Member& m) {
    View view = subscribers_.front()->view();
    auto it = view.nodes().find(m.name);
    return it != view.nodes().end() && it->second.state == NodeState::kAlive;
  }

  void take_down(Member& m, bool crash) {
    const bool known = known_alive(m);
    const uint64_t at = unix_ms();
    switch (m.kind) {
      case Kind::kSim:
        crash ? fleet_->kill(m.name) : fleet_->leave(m.name);
        break;
      case Kind::kLibrary:
        m.library->stop(!crash);
        m.library.reset();
        break;
      case Kind::kProcess:
        m.process->signal(crash ? SIGKILL : SIGTERM);
        retire(std::move(m.process), !crash);
        break;
    }
    m.up = false;
    m.changed_at = Clock::now();
    std::uniform_int_distribution<int> downtime_ms(200, 5'000);
    m.downtime = std::chrono::milliseconds(downtime_ms(random_));
    if (known) {
      const uint64_t bound = crash ? kLeaseMs + kDeadAfterMs + kForgetDeadMs : kForgetLeftMs;
      departures_.push_back({m.name, at, bound, crash, std::nullopt});
    }
    ++(crash ? crashes_ : leaves_);
  }

  // One step of churn: restart members whose downtime is over, then act on
  // one random member that has been up long enough to have joined.
  void churn_step() {
    const auto now = Clock::now();
    for (auto& m : members_) {
      if (!m->up && now - m->changed_at >= m->downtime) bring_up(*m);
    }
    std::uniform_int_distribution<size_t> pick(0, members_.size() - 1);
    Member& m = *members_[pick(random_)];
    const auto min_uptime = m.kind == Kind::kProcess ? 1500ms : 500ms;
    if (!m.up || now - m.changed_at < min_uptime) return;
    std::uniform_int_distribution<int> action(0, 9);
    const int a = action(random_);
    if (a < 4) {
      take_down(m, /*crash=*/true);
    } else if (a < 7) {
      take_down(m, /*crash=*/false);
    } else {
      bring_up(m);  // a restart: a new incarnation replaces the old one
      ++restarts_;
    }
  }

  void pump_for(std::chrono::milliseconds duration) {
    const auto end = Clock::now() + duration;
    while (Clock::now() < end) fleet_->pump(20ms);
  }

  std::unique_ptr<BrokerProcess> broker_;
  std::unique_ptr<SimFleet> fleet_;
  std::vector<std::unique_ptr<Member>> members_;
  std::vector<std::unique_ptr<RecordingSubscriber>> subscribers_;
  std::vector<Departure> departures_;
  std::vector<std::pair<std::unique_ptr<Process>, bool>> retired_;
  std::mt19937 random_{20261127};
  int crashes_ = 0;
  int leaves_ = 0;
  int restarts_ = 0;
};

TEST_F(ChurnTest, SubscribersMatchTheBrokerEveryDepartureIsForgottenAndMemoryIsFlat) {
  subscribers_.push_back(RecordingSubscriber::start(ep(), kBeatMs));
  subscribers_.push_back(RecordingSubscriber::start(ep(), kBeatMs, /*receive_hwm=*/1));
  ASSERT_NE(subscribers_[0], nullptr);
  ASSERT_NE(subscribers_[1], nullptr);

  for (auto& m : members_) bring_up(*m);
  // Everyone joined before the churn starts.
  ASSERT_TRUE(wait_until(
      [&] {
        fleet_->pump(20ms);
        auto snapshot = admin_snapshot(ep().admin);
        return snapshot && snapshot->nodes.size() == members_.size();
      },
      eventually(3s), 1ms));

  std::vector<long> rss_kb;
  for (int round = 0; round < kRounds; ++round) {
    if (round == 1) {
      subscribers_.push_back(RecordingSubscriber::start(ep(), kBeatMs));
      ASSERT_NE(subscribers_.back(), nullptr);
    }
    const auto end = Clock::now() + kRoundLength;
    while (Clock::now() < end) {
      churn_step();
      fleet_->pump(20ms);
    }
    rss_kb.push_back(static_cast<long>(testing::rss_kib(broker_->process().pid())));
    ASSERT_TRUE(broker_->process().running()) << broker_->process().output();
  }
  std::cout << "churn: " << crashes_ << " crashes, " << leaves_ << " leaves, " << restarts_
            << " restarts, " << departures_.size() << " departures tracked; broker VmRSS per round"
            << " (KiB):";
  for (long kb : rss_kb) std::cout << " " << kb;
  std::cout << std::endl;

  // Let every timer run out: down members stay down, the rest heartbeat.
  pump_for(std::chrono::milliseconds(kLeaseMs + kDeadAfterMs + kForgetDeadMs + kSlackMs));

  // The broker holds exactly the running members, all alive.
  std::set<std::string> running;
  for (auto& m : members_) {
    if (m->up) running.insert(m->name);
  }
  std::optional<Snapshot> snapshot;
  bool converged = false;
  const auto deadline = Clock::now() + eventually(3s);
  while (!converged && Clock::now() < deadline) {
    fleet_->pump(50ms);
    snapshot = admin_snapshot(ep().admin);
    if (!snapshot) continue;
    std::set<std::string> alive;
    for (const auto& r : snapshot->nodes) {
      if (r.state == NodeState::kAlive) alive.insert(r.node);
    }
    converged = alive == running && snapshot->nodes.size() == running.size() &&
                std::all_of(subscribers_.begin(), subscribers_.end(),
                            [&](const auto& s) { return view_matches(s->view(), *snapshot); });
  }
  ASSERT_TRUE(snapshot);
  EXPECT_TRUE(converged) << "the broker holds " << snapshot->nodes.size() << " nodes, "
                         << running.size() << " agents run";
  for (size_t i = 0; i < subscribers_.size(); ++i) {
    EXPECT_TRUE(view_matches(subscribers_[i]->view(), *snapshot))
        << "subscriber " << i << " differs from the admin snapshot (view version "
        << subscribers_[i]->view().version() << ", snapshot " << snapshot->version << ")";
  }
  std::map<std::string, const NodeRecord*> by_name;
  for (const auto& r : snapshot->nodes) by_name[r.node] = &r;
  for (const auto& [name, inc] : fleet_->running()) {
    ASSERT_TRUE(by_name.count(name)) << name;
    EXPECT_EQ(by_name[name]->inc, inc) << name << " holds another incarnation";
  }
  for (auto& m : members_) {
    if (m->kind == Kind::kLibrary && m->up) {
      EXPECT_EQ(by_name[m->name]->inc, m->library->status().incarnation) << m->name;
    }
  }

  // Every departure that was not followed by a restart in time was
  // forgotten, within its timers.
  const auto changes = subscribers_[0]->changes();
  int checked = 0;
  for (const auto& d : departures_) {
    const uint64_t limit = d.at_ms + d.bound_ms + kSlackMs;
    if (d.back_at_ms && *d.back_at_ms <= limit) continue;
    ++checked;
    std::optional<uint64_t> removed_at;
    for (const auto& c : changes) {
      if (c.record.node == d.node && c.record.state == NodeState::kRemoved &&
          c.time_ms + 50 >= d.at_ms) {
        removed_at = c.time_ms;
        break;
      }
    }
    ASSERT_TRUE(removed_at) << d.node << " (" << (d.crash ? "crash" : "leave") << " at " << d.at_ms
                            << ") was never forgotten";
    EXPECT_LE(*removed_at, limit) << d.node << " (" << (d.crash ? "crash" : "leave")
                                  << ") forgotten " << (*removed_at - d.at_ms)
                                  << " ms after departing; timers allow " << d.bound_ms << " ms";
  }
  std::cout << "churn: " << checked << " departures checked for forgetting" << std::endl;
  EXPECT_GE(checked, kMinDeparturesChecked) << "too few departures to say anything";

  // The simulated agents were never refused as removed or malformed.
  EXPECT_EQ(fleet_->errors().count(ErrorCode::kRemoved), 0u);
  EXPECT_EQ(fleet_->errors().count(ErrorCode::kBadRequest), 0u);
  // roster-agent processes that were told to leave exited 0.
  for (auto& [process, left] : retired_) {
    auto status = process->wait_exit(eventually(1s));
    if (left) {
      EXPECT_EQ(status, 0) << process->output();
    }
  }

  // Memory: later rounds do not grow past the second round (the first
  // includes the start-up allocations). Under AddressSanitizer freed memory
  // stays in its quarantine (up to 256 MiB) by design, so RSS grows with
  // every free and says nothing about the broker: printed above, not checked.
#ifndef ROSTER_E2E_SANITIZED
  ASSERT_GE(rss_kb.size(), 3u);
  const long baseline = rss_kb[1];
  for (size_t i = 2; i < rss_kb.size(); ++i) {
    EXPECT_LE(rss_kb[i], static_cast<long>(baseline * kRssGrowthFactor) + kRssNoiseKb)
        << "broker VmRSS grew from " << baseline << " KiB (round 2) to " << rss_kb[i]
        << " KiB (round " << i + 1 << ")";
  }
#endif
}

}  // namespace
}  // namespace roster::e2e
