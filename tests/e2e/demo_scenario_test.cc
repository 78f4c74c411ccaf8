// The demo's scenario (scripts/demo.sh) as a test, with real processes: a
// broker, three roster-agent processes, `rosterctl watch --json` and a
// roster::Subscriber. A node leaves (SIGTERM), one crashes (SIGKILL), the
// operator removes the third (its agent exits 3 and stays gone) and a new
// node joins. Each step is asserted through `rosterctl --json` and the
// subscriber, and at the end every observer holds the broker's view.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <sstream>

#include "e2e_support.h"

namespace roster::e2e {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kLeaseMs = 1'000;
constexpr uint64_t kDeadAfterMs = 2'000;
constexpr uint64_t kForgetDeadMs = 1'500;
constexpr uint64_t kForgetLeftMs = 1'500;
// Scheduling and tick slack on top of a timer, for wall-clock bounds.
constexpr uint64_t kSlackMs = 1'500 * kSlowdown;

std::vector<std::string> broker_args() {
  return {"--max-lease",         "2s",     "--dead-after",        "2s",
          "--forget-dead-after", "1500ms", "--forget-left-after", "1500ms"};
}

// One `rosterctl watch --json` line: a change of one node.
struct WatchedChange {
  std::string node;
  std::string new_state;
  uint64_t version = 0;
};

std::vector<WatchedChange> parse_watch_output(const std::string& output) {
  std::vector<WatchedChange> changes;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    auto json = nlohmann::json::parse(line, nullptr, false);
    if (json.is_discarded() || !json.is_object()) {
      ADD_FAILURE() << "rosterctl watch --json printed a line that is not a JSON object: " << line;
      continue;
    }
    if (json.value("event", "") != "change") continue;
    changes.push_back({json.at("node").get<std::string>(), json.at("new_state").get<std::string>(),
                       json.at("version").get<uint64_t>()});
  }
  return changes;
}

std::string join_states(const std::vector<WatchedChange>& changes, const std::string& node) {
  std::string out;
  for (const auto& c : changes) {
    if (c.node != node) continue;
    if (!out.empty()) out += ",";
    out += c.new_state;
  }
  return out;
}

class DemoScenarioTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_ = start_broker(broker_args());
    ASSERT_NE(broker_, nullptr);
    subscriber_ = RecordingSubscriber::start(ep(), kBeatMs);
    ASSERT_NE(subscriber_, nullptr);
    ASSERT_TRUE(wait_until([&] { return subscriber_->synced(); }, eventually(1s)));
  }

  const testing::BrokerEndpoints& ep() const { return broker_->endpoints(); }

  std::unique_ptr<Process> agent(const std::string& node) {
    auto process = start_agent(ep().agents, node, "1s");
    EXPECT_NE(process, nullptr);
    return process;
  }

  bool state_is(const std::string& node, const std::string& state) {
    return ctl_node_state(ep(), node) == state;
  }

  // Waits until rosterctl reports `state` for `node`.
  void expect_state(const std::string& node, const std::string& state,
                    std::chrono::milliseconds within) {
    EXPECT_TRUE(wait_until([&] { return state_is(node, state); }, within, 50ms))
        << node << " never reached " << state << " (now " << ctl_node_state(ep(), node) << ")";
  }

  // The node's incarnation as rosterctl reports it.
  uint64_t inc_of(const std::string& node) {
    CtlJson reply = rosterctl_json(ep(), {"node", node});
    EXPECT_EQ(reply.exit_status, 0) << reply.err;
    return reply.json.is_object() ? reply.json.value("inc", uint64_t{0}) : 0;
  }

  std::unique_ptr<BrokerProcess> broker_;
  std::unique_ptr<RecordingSubscriber> subscriber_;
};

TEST_F(DemoScenarioTest, LeaveCrashRemoveAndJoinAreSeenByEveryObserver) {
  auto watch =
      Process::start({testing::bin("rosterctl"), "--admin", ep().admin, "--state", ep().publish,
                      "--json", "watch", "--beat-interval", std::to_string(kBeatMs) + "ms"});
  ASSERT_NE(watch, nullptr);

  std::map<std::string, std::unique_ptr<Process>> agents;
  for (const char* node : {"node-a", "node-b", "node-c"}) agents[node] = agent(node);
  for (const char* node : {"node-a", "node-b", "node-c"})
    expect_state(node, "alive", eventually(1s));
  const uint64_t inc_a = inc_of("node-a");
  const uint64_t inc_b = inc_of("node-b");
  const uint64_t inc_c = inc_of("node-c");

  {
    SCOPED_TRACE("step 1: node-a leaves (SIGTERM)");
    const uint64_t left_at = unix_ms();
    agents["node-a"]->signal(SIGTERM);
    EXPECT_EQ(agents["node-a"]->wait_exit(eventually(1s)), 0) << agents["node-a"]->output();
    expect_state("node-a", "left", eventually(1s));
    expect_state("node-a", "absent", eventually(std::chrono::milliseconds(kForgetLeftMs)));
    ASSERT_TRUE(wait_until([&] { return subscriber_->removal_of("node-a", inc_a).has_value(); },
                           eventually(1s)));
    EXPECT_EQ(describe(subscriber_->states_of("node-a")), "alive,left,removed");
    const NodeChange removal = *subscriber_->removal_of("node-a", inc_a);
    EXPECT_LE(removal.time_ms, left_at + kForgetLeftMs + kSlackMs)
        << "forgotten later than --forget-left-after allows";
    EXPECT_GE(removal.time_ms + 100, left_at + kForgetLeftMs) << "forgotten too early";
  }
  {
    SCOPED_TRACE("step 2: node-b crashes (SIGKILL)");
    const uint64_t killed_at = unix_ms();
    agents["node-b"]->signal(SIGKILL);
    EXPECT_EQ(agents["node-b"]->wait_exit(eventually(1s)), 128 + SIGKILL);
    expect_state("node-b", "dead", eventually(std::chrono::milliseconds(kLeaseMs + kDeadAfterMs)));
    expect_state("node-b", "absent", eventually(std::chrono::milliseconds(kForgetDeadMs)));
    ASSERT_TRUE(wait_until([&] { return subscriber_->removal_of("node-b", inc_b).has_value(); },
                           eventually(1s)));
    EXPECT_EQ(describe(subscriber_->states_of("node-b")), "alive,suspect,dead,removed");
    const NodeChange removal = *subscriber_->removal_of("node-b", inc_b);
    EXPECT_LE(removal.time_ms, killed_at + kLeaseMs + kDeadAfterMs + kForgetDeadMs + kSlackMs)
        << "forgotten later than lease + --dead-after + --forget-dead-after allow";
  }
  {
    SCOPED_TRACE("step 3: the operator removes node-c");
    CtlJson removed = rosterctl_json(ep(), {"remove", "node-c"});
    ASSERT_EQ(removed.exit_status, 0) << removed.err;
    EXPECT_EQ(removed.json.value("node", ""), "node-c");
    EXPECT_EQ(removed.json.value("inc", uint64_t{0}), inc_c);
    const uint64_t version = removed.json.value("version", uint64_t{0});
    // The agent hears `removed` on its next heartbeat and exits 3.
    EXPECT_EQ(agents["node-c"]->wait_exit(eventually(std::chrono::milliseconds(kLeaseMs))), 3)
        << agents["node-c"]->output();
    ASSERT_TRUE(wait_until([&] { return subscriber_->removal_of("node-c", inc_c).has_value(); },
                           eventually(1s)));
    EXPECT_EQ(subscriber_->removal_of("node-c", inc_c)->version, version);
    EXPECT_EQ(describe(subscriber_->states_of("node-c")), "alive,removed");
    // It stays gone: nothing of node-c comes back for two leases.
    EXPECT_TRUE(holds_for([&] { return state_is("node-c", "absent"); },
                          std::chrono::milliseconds(2 * kLeaseMs)));
    CtlJson again = rosterctl_json(ep(), {"remove", "node-c"});
    EXPECT_EQ(again.exit_status, 1);
    EXPECT_NE(again.err.find("unknown_node"), std::string::npos) << again.err;
  }
  {
    SCOPED_TRACE("step 4: node-d joins");
    agents["node-d"] = agent("node-d");
    expect_state("node-d", "alive", eventually(1s));
    EXPECT_EQ(describe(subscriber_->states_of("node-d")), "alive");
  }

  // Every observer holds the broker's view: one node, node-d, alive.
  auto snapshot = admin_snapshot(ep().admin);
  ASSERT_TRUE(snapshot);
  ASSERT_EQ(snapshot->nodes.size(), 1u);
  EXPECT_EQ(snapshot->nodes[0].node, "node-d");
  EXPECT_TRUE(
      wait_until([&] { return view_matches(subscriber_->view(), *snapshot); }, eventually(1s)));
  CtlJson members = rosterctl_json(ep(), {"members"});
  ASSERT_EQ(members.exit_status, 0) << members.err;
  EXPECT_EQ(members.json.value("version", uint64_t{0}), snapshot->version);
  ASSERT_EQ(members.json["nodes"].size(), 1u);
  EXPECT_EQ(members.json["nodes"][0]["node"], "node-d");
  EXPECT_EQ(members.json["nodes"][0]["state"], "alive");

  // The watcher printed the same story, one JSON object per line.
  ASSERT_TRUE(wait_until(
      [&] { return join_states(parse_watch_output(watch->output()), "node-d") == "alive"; },
      eventually(1s)));
  watch->signal(SIGTERM);
  EXPECT_EQ(watch->wait_exit(eventually(1s)), 0);
  const auto watched = parse_watch_output(watch->output());
  EXPECT_EQ(join_states(watched, "node-a"), "alive,left,removed");
  EXPECT_EQ(join_states(watched, "node-b"), "alive,suspect,dead,removed");
  EXPECT_EQ(join_states(watched, "node-c"), "alive,removed");
  EXPECT_EQ(join_states(watched, "node-d"), "alive");
  for (size_t i = 1; i < watched.size(); ++i) {
    EXPECT_LE(watched[i - 1].version, watched[i].version) << "watch lines out of version order";
  }
}

}  // namespace
}  // namespace roster::e2e
