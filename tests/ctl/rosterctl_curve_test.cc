// rosterctl with CURVE (--curve-secret/--broker-key, ROSTER_CURVE_SECRET/
// ROSTER_BROKER_KEY) against CURVE servers whose ZAP handlers admit one
// key: the allowed key is answered; any other key is "authentication
// failed", exit 1, at once rather than after --timeout; one flag without
// the other, or a missing certificate, is a usage error (exit 2).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "support/curve_test_server.h"
#include "support/process.h"

namespace roster::testing {
namespace {

using namespace std::chrono_literals;

struct RosterctlCurveTest : ::testing::Test, CurveTestKeys {
  RosterctlCurveTest() : CurveTestKeys("operator") {}

  // rosterctl against the CURVE servers with `client`'s key (and `extra`
  // before the command), the admin server answering every request with a
  // snapshot meanwhile. Its --timeout is long: a refused key must not wait
  // for it.
  CommandResult run(const CurveKeyFiles& client, const std::vector<std::string>& command,
                    const std::vector<std::string>& env = {}) {
    std::vector<std::string> argv = {
        bin("rosterctl"), "--admin", admin.endpoint(), "--state", state.endpoint(),
        "--timeout",      "30s"};
    if (!client.secret_file.empty()) {
      argv.insert(argv.end(),
                  {"--curve-secret", client.secret_file, "--broker-key", broker.public_file});
    }
    argv.insert(argv.end(), command.begin(), command.end());
    CommandResult result;
    std::atomic<bool> done{false};
    const auto start = std::chrono::steady_clock::now();
    std::thread runner([&] {
      result = run_command(argv, 40s, env);
      done = true;
    });
    const std::string reply = curve_test_snapshot_reply();
    wait_until(
        [&] {
          admin.answer_waiting(reply);
          return done.load();
        },
        60s, 1ms);
    runner.join();
    elapsed = std::chrono::steady_clock::now() - start;
    return result;
  }

  CurveTestServer state{zmq::socket_type::xpub, broker, {allowed.public_key}};
  CurveTestServer admin{zmq::socket_type::router, broker, {allowed.public_key}};
  std::chrono::steady_clock::duration elapsed{};
};

TEST_F(RosterctlCurveTest, AllowedKeyIsAnswered) {
  CommandResult r = run(allowed, {"members", "--json"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.out.find("\"version\":3"), std::string::npos) << r.out;
}

TEST_F(RosterctlCurveTest, RefusedKeyIsAnAuthenticationFailureNotATimeout) {
  for (const std::string command : {"members", "stats", "watch"}) {
    CommandResult r = run(stranger, {command});
    EXPECT_EQ(r.exit_status, 1) << command << ": " << r.err;
    // watch may hear of it first from the state endpoint.
    EXPECT_NE(r.err.find("rosterctl: authentication failed: the broker at "), std::string::npos)
        << command << ": " << r.err;
    EXPECT_NE(r.err.find(" refused this client's key (ZAP status 400)"), std::string::npos)
        << command << ": " << r.err;
    EXPECT_EQ(r.err.find("no reply"), std::string::npos) << command << ": " << r.err;
    EXPECT_LT(elapsed, 20s) << command;
  }
}

TEST_F(RosterctlCurveTest, KeysComeFromTheEnvironment) {
  CommandResult r = run(
      CurveKeyFiles{}, {"members", "--json"},
      {"ROSTER_CURVE_SECRET=" + allowed.secret_file, "ROSTER_BROKER_KEY=" + broker.public_file});
  EXPECT_EQ(r.exit_status, 0) << r.err;
}

TEST_F(RosterctlCurveTest, OneFlagWithoutTheOtherIsAUsageError) {
  CommandResult r = run_command({bin("rosterctl"), "--admin", admin.endpoint(), "--curve-secret",
                                 allowed.secret_file, "stats"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--curve-secret is given without --broker-key"), std::string::npos) << r.err;
  r = run_command({bin("rosterctl"), "--admin", admin.endpoint(), "stats"}, 20s,
                  {"ROSTER_BROKER_KEY=" + broker.public_file});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find("--broker-key is given without --curve-secret"), std::string::npos) << r.err;
}

TEST_F(RosterctlCurveTest, MissingCertificateIsAUsageErrorNamingIt) {
  const std::string missing = dir.file("nobody_secret");
  CommandResult r = run_command({bin("rosterctl"), "--admin", admin.endpoint(), "--curve-secret",
                                 missing, "--broker-key", broker.public_file, "stats"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_NE(r.err.find(missing), std::string::npos) << r.err;
}

}  // namespace
}  // namespace roster::testing
