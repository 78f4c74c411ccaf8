// roster::Agent and roster-agent with CURVE (--curve-secret, --broker-key)
// against a CURVE server whose ZAP handler admits one key: the allowed key
// joins; any other key is reported as an authentication failure (not as a
// lost broker) and retried with backoff; a half or broken configuration is
// a clear error at start.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "event_log.h"
#include "roster/agent.h"
#include "roster/codec.h"
#include "support/curve_test_server.h"
#include "support/process.h"

namespace roster::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds kEventually = seconds(10);

// Acks every request waiting on the server's ROUTER; returns how many.
int ack_waiting(CurveTestServer& server) {
  int acked = 0;
  while (true) {
    std::vector<zmq::message_t> frames;
    bool more = true;
    while (more) {
      zmq::message_t frame;
      if (!server.socket().recv(frame, zmq::recv_flags::dontwait)) return acked;
      more = frame.more();
      frames.push_back(std::move(frame));
    }
    if (frames.size() != 2) continue;
    auto request = decode_agent_request(frames[1].to_string_view());
    if (!request.ok()) continue;
    Ack ack;
    ack.seq = std::visit([](const auto& r) { return r.seq; }, request.value());
    ack.epoch = 1;
    ack.lease_ms = 600;
    ack.state = NodeState::kAlive;
    const std::string body = encode(AgentReply{ack});
    server.socket().send(frames[0], zmq::send_flags::sndmore);
    server.socket().send(zmq::buffer(body), zmq::send_flags::none);
    ++acked;
  }
}

struct CurveAgentTest : ::testing::Test, CurveTestKeys {
  CurveAgentTest() : CurveTestKeys("web-1") {}

  AgentConfig config(const CurveKeyFiles& client) {
    AgentConfig c;
    c.brokers = {server.endpoint()};
    c.node_id = "web-1";
    // Long enough that no broker loss can be reported while a test runs:
    // only the handshake monitor can explain a silent broker.
    c.lease_ms = 30'000;
    c.interval_ms = 1'000;
    c.backoff_min_ms = 20;
    c.backoff_max_ms = 200;
    c.leave_timeout_ms = 200;
    c.curve = curve_files(client, broker);
    return c;
  }

  // Acks the agent's requests until `log` has its join; false if it has
  // none within kEventually.
  bool acks_until_joined(const EventLog& log) {
    return wait_until(
        [&] {
          ack_waiting(server);
          return log.count(AgentEvent::kJoined) == 1;
        },
        kEventually);
  }

  CurveTestServer server{zmq::socket_type::router, broker, {allowed.public_key}};
};

TEST_F(CurveAgentTest, AllowedKeyJoins) {
  EventLog log;
  Agent agent(config(allowed), log.callback());
  ASSERT_EQ(agent.start(), std::nullopt);
  EXPECT_TRUE(acks_until_joined(log));
  EXPECT_EQ(log.count(AgentEvent::kAuthFailed), 0u);
  agent.stop(false);
}

TEST_F(CurveAgentTest, RefusedKeyIsAnAuthenticationFailureNotALostBroker) {
  EventLog log;
  Agent agent(config(stranger), log.callback());
  ASSERT_EQ(agent.start(), std::nullopt);
  // Twice: libzmq gives up on a refused connection, the agent reconnects
  // after a backoff.
  ASSERT_TRUE(log.wait_for(AgentEvent::kAuthFailed, 2, kEventually));
  EXPECT_EQ(log.count(AgentEvent::kBrokerLost), 0u);
  EXPECT_EQ(log.count(AgentEvent::kJoined), 0u);
  const auto changes = log.changes();
  for (const auto& change : changes) {
    if (change.event != AgentEvent::kAuthFailed) continue;
    EXPECT_NE(change.detail.find("authentication failed: the broker at " + server.endpoint() +
                                 " refused this client's key (ZAP status 400)"),
              std::string::npos)
        << change.detail;
    EXPECT_NE(change.detail.find("; trying " + server.endpoint() + " in "), std::string::npos)
        << change.detail;
  }
  EXPECT_GE(server.zap().refused(), 2u);
  agent.stop(false);
}

TEST_F(CurveAgentTest, WrongBrokerKeyIsAnAuthenticationFailure) {
  EventLog log;
  AgentConfig c = config(allowed);
  c.curve.broker_certificate_file = stranger.public_file;
  Agent agent(c, log.callback());
  ASSERT_EQ(agent.start(), std::nullopt);
  ASSERT_TRUE(log.wait_for(AgentEvent::kAuthFailed, 1, kEventually));
  EXPECT_NE(log.changes().back().detail.find("is --broker-key the broker's public certificate"),
            std::string::npos)
      << log.changes().back().detail;
  EXPECT_EQ(log.count(AgentEvent::kBrokerLost), 0u);
  agent.stop(false);
}

TEST_F(CurveAgentTest, HalfACurveConfigurationFailsTheStart) {
  AgentConfig c = config(allowed);
  c.curve.broker_certificate_file.clear();
  Agent agent(c);
  auto error = agent.start();
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("--curve-secret is given without --broker-key"), std::string::npos)
      << *error;
}

TEST_F(CurveAgentTest, LoadedKeysWorkLikeFiles) {
  EventLog log;
  AgentConfig c = config(allowed);
  c.curve = CurveClientOptions{};
  c.curve.public_key = allowed.public_key;
  c.curve.secret_key = allowed.secret_key;
  c.curve.broker_public_key = broker.public_key;
  Agent agent(c, log.callback());
  ASSERT_EQ(agent.start(), std::nullopt);
  EXPECT_TRUE(acks_until_joined(log));
  agent.stop(false);
}

CommandResult agent_command(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {bin("roster-agent")};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, seconds(20));
}

TEST_F(CurveAgentTest, CliWithOneCurveFlagExitsTwo) {
  CommandResult r = agent_command(
      {"--broker", server.endpoint(), "--node-id", "web-1", "--curve-secret", allowed.secret_file});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--curve-secret is given without --broker-key"), std::string::npos) << r.err;
  r = agent_command(
      {"--broker", server.endpoint(), "--node-id", "web-1", "--broker-key", broker.public_file});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--broker-key is given without --curve-secret"), std::string::npos) << r.err;
}

TEST_F(CurveAgentTest, CliWithAMissingCertificateNamesIt) {
  const std::string missing = dir.file("nope_secret");
  CommandResult r = agent_command({"--broker", server.endpoint(), "--node-id", "web-1",
                                   "--curve-secret", missing, "--broker-key", broker.public_file});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find(missing), std::string::npos) << r.err;
}

TEST_F(CurveAgentTest, CliLogsARefusedKeyAtErrorLevel) {
  auto process = Process::start({bin("roster-agent"), "--broker", server.endpoint(), "--node-id",
                                 "web-1", "--lease", "30s", "--curve-secret", stranger.secret_file,
                                 "--broker-key", broker.public_file});
  ASSERT_TRUE(process);
  std::string output;
  EXPECT_TRUE(process->wait_for_output("refused this client's key", kEventually, &output));
  EXPECT_NE(output.find("error agent web-1 inc "), std::string::npos) << output;
  EXPECT_NE(output.find("auth_failed"), std::string::npos) << output;
  EXPECT_EQ(output.find("broker_lost"), std::string::npos) << output;
  EXPECT_EQ(process->stop(seconds(5)), 0);
}

TEST_F(CurveAgentTest, CliKeysComeFromTheEnvironment) {
  CommandResult r =
      run_command({bin("roster-agent"), "--broker", server.endpoint(), "--node-id", "web-1"},
                  seconds(20), {"ROSTER_AGENT_CURVE_SECRET=" + allowed.secret_file});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--curve-secret is given without --broker-key"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace roster::testing
