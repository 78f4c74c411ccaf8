// CURVE end to end: a roster-broker with --curve-secret and key
// directories, and every client (roster-agent, roster::Subscriber,
// rosterctl) with its own keys. An allowed key works on each endpoint; a
// key the broker does not know is reported by each client as an
// authentication failure (not as an unreachable broker), and nothing of it
// reaches the membership; a key whose globs do not match its node id is
// refused `forbidden`, which the agent logs at error without taking a new
// incarnation.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "e2e_support.h"
#include "roster/agent.h"
#include "roster/curve_certificate.h"
#include "roster/subscriber.h"
#include "support/curve_test_server.h"
#include "support/guarded_list.h"

namespace roster::e2e {
namespace {

using namespace std::chrono_literals;
using testing::bin;
using testing::CommandResult;
using testing::CurveKeyFiles;
using testing::run_command;
using testing::TempDir;

// A key pair whose public certificate is also copied into `dirs`.
CurveKeyFiles keys_in(const TempDir& tmp, const std::string& name, const std::string& node_glob,
                      const std::vector<std::string>& dirs) {
  CurveCertificate cert = generate_certificate();
  cert.metadata["name"] = name;
  if (!node_glob.empty()) cert.metadata["node"] = node_glob;
  CurveKeyFiles files{cert.public_key, cert.secret_key, tmp.file(name), tmp.file(name + "_secret")};
  save_certificate(cert, files.public_file);
  for (const auto& dir : dirs) {
    std::filesystem::copy_file(files.public_file, tmp.file(dir + "/" + name));
  }
  return files;
}

class CurveE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* dir : {"agents", "admin", "subscribers"}) {
      std::filesystem::create_directory(tmp_.file(dir));
    }
    broker_keys_ = keys_in(tmp_, "broker", "", {});
    web_ = keys_in(tmp_, "web", "web-*", {"agents"});
    controller_ = keys_in(tmp_, "controller", "", {"admin", "subscribers"});
    stranger_ = keys_in(tmp_, "stranger", "*", {});
    broker_ = start_broker({"--curve-secret", broker_keys_.secret_file, "--agent-keys",
                            tmp_.file("agents"), "--admin-keys", tmp_.file("admin"),
                            "--subscriber-keys", tmp_.file("subscribers")});
    ASSERT_TRUE(broker_);
  }

  std::vector<std::string> curve_flags(const CurveKeyFiles& client) const {
    return {"--curve-secret", client.secret_file, "--broker-key", broker_keys_.public_file};
  }

  CommandResult rosterctl(const CurveKeyFiles& client, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {bin("rosterctl"),
                                     "--admin",
                                     broker_->endpoints().admin,
                                     "--state",
                                     broker_->endpoints().publish,
                                     "--timeout",
                                     "20s"};
    const auto flags = curve_flags(client);
    argv.insert(argv.end(), flags.begin(), flags.end());
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command(argv, 60s);
  }

  SubscriberOptions subscriber_options(const CurveKeyFiles& client) const {
    SubscriberOptions o;
    o.state_endpoint = broker_->endpoints().publish;
    o.admin_endpoint = broker_->endpoints().admin;
    o.beat_interval_ms = kBeatMs;
    o.snapshot_timeout_ms = 500;
    o.curve = testing::curve_files(client, broker_keys_);
    return o;
  }

  TempDir tmp_;
  CurveKeyFiles broker_keys_;
  CurveKeyFiles web_;
  CurveKeyFiles controller_;
  CurveKeyFiles stranger_;
  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(CurveE2eTest, AllowedKeysWorkOnEveryEndpoint) {
  auto agent = start_agent(broker_->endpoints().agents, "web-1", "1s", curve_flags(web_));
  ASSERT_TRUE(agent);
  std::string error;
  auto subscriber = Subscriber::create(subscriber_options(controller_), {}, &error);
  ASSERT_TRUE(subscriber) << error;
  subscriber->start();
  EXPECT_TRUE(wait_until(
      [&] {
        const View view = subscriber->view();
        auto web = view.nodes().find("web-1");
        return web != view.nodes().end() && web->second.state == NodeState::kAlive;
      },
      eventually(2s)))
      << agent->output_tail();
  CommandResult members = rosterctl(controller_, {"--json", "members"});
  EXPECT_EQ(members.exit_status, 0) << members.err;
  EXPECT_NE(members.out.find("\"web-1\""), std::string::npos) << members.out;
  EXPECT_EQ(subscriber->stats().auth_failures, 0u);
  subscriber->stop();
  EXPECT_EQ(agent->stop(5s), 0);
}

TEST_F(CurveE2eTest, UnknownKeyIsAnAuthenticationFailureOnEveryEndpoint) {
  // Agent: auth_failed at error, never a lost broker, never joined.
  auto agent = start_agent(broker_->endpoints().agents, "web-2", "10s", curve_flags(stranger_));
  ASSERT_TRUE(agent);
  std::string output;
  EXPECT_TRUE(agent->wait_for_output("refused this client's key", eventually(2s), &output))
      << output;
  EXPECT_NE(output.find("auth_failed"), std::string::npos) << output;
  EXPECT_EQ(output.find("broker_lost"), std::string::npos) << output;

  // Subscriber: on_auth_failure, counted, never synced.
  testing::GuardedList<std::string> failures;
  SubscriberCallbacks callbacks;
  callbacks.on_auth_failure = [&](const std::string& d) { failures.add(d); };
  std::string error;
  auto subscriber = Subscriber::create(subscriber_options(stranger_), callbacks, &error);
  ASSERT_TRUE(subscriber) << error;
  EXPECT_TRUE(wait_until(
      [&] {
        subscriber->poll_once(20ms);
        return failures.items().size() >= 2;
      },
      eventually(2s)));
  EXPECT_FALSE(subscriber->synced());
  EXPECT_GE(subscriber->stats().auth_failures, 2u);

  // rosterctl: exit 1 at once, "authentication failed", not a timeout.
  const auto start = std::chrono::steady_clock::now();
  CommandResult stats = rosterctl(stranger_, {"stats"});
  EXPECT_EQ(stats.exit_status, 1);
  EXPECT_NE(stats.err.find("rosterctl: authentication failed: the broker at " +
                           broker_->endpoints().admin + " refused this client's key"),
            std::string::npos)
      << stats.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 15s);

  // Nothing of it reached the membership.
  CommandResult node = rosterctl(controller_, {"node", "web-2"});
  EXPECT_EQ(node.exit_status, 1);
  EXPECT_NE(node.err.find("unknown_node"), std::string::npos) << node.err;
  EXPECT_EQ(agent->stop(5s), 0);
}

TEST_F(CurveE2eTest, PlaintextRosterctlIsToldThatTheBrokerRequiresCurve) {
  CommandResult r = run_command(
      {bin("rosterctl"), "--admin", broker_->endpoints().admin, "--timeout", "20s", "stats"}, 60s);
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.err.find("rosterctl: authentication failed: the handshake with the broker at " +
                       broker_->endpoints().admin),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("requires CURVE"), std::string::npos) << r.err;
}

TEST_F(CurveE2eTest, ForbiddenNodeIdIsAConfigurationErrorWithoutANewIncarnation) {
  testing::GuardedList<AgentStateChange> changes;
  AgentConfig config;
  config.brokers = {broker_->endpoints().agents};
  config.node_id = "db-1";  // the key may claim web-* only
  config.lease_ms = 2'000;
  config.backoff_min_ms = 20;
  config.backoff_max_ms = 100;
  config.curve = testing::curve_files(web_, broker_keys_);
  Agent agent(config, [&](const AgentStateChange& c) { changes.add(c); });
  ASSERT_EQ(agent.start(), std::nullopt);
  auto forbidden = [&] {
    return changes.count_if(
        [](const AgentStateChange& c) { return c.event == AgentEvent::kForbidden; });
  };
  ASSERT_TRUE(wait_until([&] { return forbidden() >= 3; }, eventually(2s)));
  const auto seen = changes.items();
  const uint64_t inc = seen.front().incarnation;
  for (const auto& c : seen) {
    EXPECT_EQ(c.incarnation, inc) << to_string(c.event) << ": " << c.detail;
    EXPECT_NE(c.event, AgentEvent::kJoined);
    EXPECT_NE(c.event, AgentEvent::kRejoined);
  }
  EXPECT_NE(seen.front().detail.find("forbidden"), std::string::npos) << seen.front().detail;
  agent.stop(false);

  // roster-agent logs it at error, naming the node id.
  auto process = start_agent(broker_->endpoints().agents, "db-1", "2s", curve_flags(web_));
  ASSERT_TRUE(process);
  std::string output;
  EXPECT_TRUE(process->wait_for_output("forbidden", eventually(2s), &output)) << output;
  EXPECT_NE(output.find("error agent db-1 inc "), std::string::npos) << output;
  EXPECT_EQ(process->stop(5s), 0);
}

}  // namespace
}  // namespace roster::e2e
