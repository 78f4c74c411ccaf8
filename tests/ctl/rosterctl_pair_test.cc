// rosterctl with two brokers (a redundant pair): --admin A,B and --state
// A,B. Reads come from the first broker that answers, remove goes to
// every broker and reports each, stats --all shows both.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "support/admin.h"
#include "support/agent_client.h"
#include "support/broker_process.h"
#include "support/process.h"

namespace roster {
namespace {

using nlohmann::json;
using testing::admin_snapshot;
using testing::AgentClient;
using testing::bin;
using testing::BrokerProcess;
using testing::CommandResult;
using testing::run_command;
using namespace std::chrono_literals;

constexpr uint64_t kLongLeaseMs = 60'000;

class RosterctlPairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (auto& broker : brokers_) {
      broker = BrokerProcess::start({"--beat-interval", "100ms"});
      ASSERT_NE(broker, nullptr);
    }
    // The same node, same incarnation, on both: what an agent heartbeating
    // both brokers does.
    for (auto& broker : brokers_) {
      AgentClient agent(broker->endpoints().agents);
      ASSERT_TRUE(agent.join("web-1", 7, kLongLeaseMs, "10.0.0.1:80"));
      ASSERT_TRUE(agent.join("db-1", 3, kLongLeaseMs));
    }
  }

  std::string admins() const {
    return brokers_[0]->endpoints().admin + "," + brokers_[1]->endpoints().admin;
  }

  // rosterctl --admin A,B --timeout 1s `args`.
  CommandResult ctl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {bin("rosterctl"), "--admin", admins(), "--timeout", "1s"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv);
  }

  void kill(int i) {
    brokers_[i]->process().signal(SIGKILL);
    ASSERT_TRUE(brokers_[i]->process().wait_exit(10s).has_value());
  }

  std::unique_ptr<BrokerProcess> brokers_[2];
};

TEST_F(RosterctlPairTest, RemoveReportsEveryBrokerAndRemovesOnBoth) {
  CommandResult r = ctl({"remove", "web-1"});
  EXPECT_EQ(r.exit_status, 0) << r.out << r.err;
  for (auto& broker : brokers_) {
    EXPECT_NE(r.out.find(broker->endpoints().admin + ": removed web-1 (inc 7)"), std::string::npos)
        << r.out;
    auto snapshot = admin_snapshot(broker->endpoints().admin);
    ASSERT_TRUE(snapshot);
    for (const auto& record : snapshot->nodes) EXPECT_NE(record.node, "web-1");
  }
}

TEST_F(RosterctlPairTest, RemoveWithOneBrokerDownSucceedsAndNamesTheUnreachableOne) {
  kill(1);
  CommandResult r = ctl({"--json", "remove", "web-1"});
  EXPECT_EQ(r.exit_status, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("unreachable"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(brokers_[1]->endpoints().admin), std::string::npos) << r.err;
  json out = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << r.out;
  EXPECT_EQ(out["removed"], true);
  ASSERT_EQ(out["brokers"].size(), 2u);
  EXPECT_EQ(out["brokers"][0]["result"], "removed");
  EXPECT_EQ(out["brokers"][1]["result"], "unreachable");
  EXPECT_EQ(out["unreachable"], json::array({brokers_[1]->endpoints().admin}));
}

TEST_F(RosterctlPairTest, RemoveFailsWhenABrokerThatAnswersDidNotRemove) {
  AgentClient(brokers_[0]->endpoints().agents).join("only-a", 1, kLongLeaseMs);
  CommandResult r = ctl({"remove", "only-a"});
  EXPECT_EQ(r.exit_status, 1) << r.out << r.err;
  EXPECT_NE(r.out.find(brokers_[0]->endpoints().admin + ": removed only-a"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(brokers_[1]->endpoints().admin + ": unknown_node"), std::string::npos)
      << r.out;
}

TEST_F(RosterctlPairTest, RemoveFailsWhenNoBrokerAnswers) {
  kill(0);
  kill(1);
  CommandResult r = ctl({"remove", "web-1"});
  EXPECT_EQ(r.exit_status, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("no broker removed web-1"), std::string::npos) << r.err;
}

TEST_F(RosterctlPairTest, ReadsComeFromTheFirstBrokerThatAnswers) {
  kill(0);
  for (const char* command : {"members", "stats"}) {
    CommandResult r = ctl({"--json", command});
    EXPECT_EQ(r.exit_status, 0) << command << r.err;
    EXPECT_NE(r.err.find("asking the next broker"), std::string::npos) << r.err;
  }
  CommandResult node = ctl({"--json", "node", "db-1"});
  EXPECT_EQ(node.exit_status, 0) << node.err;
  json out = json::parse(node.out, nullptr, false);
  EXPECT_EQ(out["state"], "alive") << node.out;
}

TEST_F(RosterctlPairTest, StatsAllShowsEveryBroker) {
  CommandResult r = ctl({"--json", "stats", "--all"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  json out = json::parse(r.out, nullptr, false);
  ASSERT_EQ(out["brokers"].size(), 2u) << r.out;
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(out["brokers"][i]["admin"], brokers_[i]->endpoints().admin);
    EXPECT_EQ(out["brokers"][i]["stats"]["by_state"]["alive"], 2);
  }
  kill(1);
  CommandResult partial = ctl({"stats", "--all"});
  EXPECT_EQ(partial.exit_status, 1);
  EXPECT_NE(partial.out.find("unreachable"), std::string::npos) << partial.out;
  EXPECT_NE(partial.out.find("by state   alive=2"), std::string::npos) << partial.out;
}

TEST_F(RosterctlPairTest, EnvironmentListsWork) {
  CommandResult r = run_command({bin("rosterctl"), "--json", "stats", "--all"}, 20s,
                                {"ROSTER_ADMIN=" + admins()});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  json out = json::parse(r.out, nullptr, false);
  EXPECT_EQ(out["brokers"].size(), 2u) << r.out;
}

TEST_F(RosterctlPairTest, WatchFailsOverToTheOtherBrokerWithoutAChange) {
  const std::string states =
      brokers_[0]->endpoints().publish + "," + brokers_[1]->endpoints().publish;
  auto watch = testing::Process::start({bin("rosterctl"), "--admin", admins(), "--state", states,
                                        "--json", "watch", "--beat-interval", "100ms"});
  ASSERT_NE(watch, nullptr);
  ASSERT_TRUE(watch->wait_for_output("\"reason\":\"initial\"", 20s)) << watch->output();
  ASSERT_TRUE(watch->wait_for_output("\"node\":\"web-1\"", 20s)) << watch->output();
  kill(0);
  std::string output;
  EXPECT_TRUE(watch->wait_for_output("\"reason\":\"failover\"", 20s, &output)) << output;
  // The other broker holds the same nodes: the failover changes nothing.
  size_t changes = 0;
  std::istringstream lines(watch->output());
  std::string line;
  while (std::getline(lines, line)) {
    if (line.find("\"event\":\"change\"") != std::string::npos) ++changes;
  }
  EXPECT_EQ(changes, 2u) << "only the first snapshot's two nodes:\n" << watch->output();
  EXPECT_EQ(watch->output().find("\"stale\":true"), std::string::npos) << watch->output();
  EXPECT_EQ(watch->stop(5s), 0);
}

TEST(RosterctlPairUsageTest, EmptyItemOrUnpairedWatchListIsAUsageError) {
  EXPECT_EQ(run_command({bin("rosterctl"), "--admin", "tcp://127.0.0.1:1,", "members"}).exit_status,
            2);
  EXPECT_EQ(run_command({bin("rosterctl"), "--admin", "tcp://127.0.0.1:1,tcp://127.0.0.1:2",
                         "--state", "tcp://127.0.0.1:3", "watch"})
                .exit_status,
            2);
}

}  // namespace
}  // namespace roster
