// roster::Subscriber with CURVE (SubscriberOptions::curve) against CURVE
// servers (state XPUB, admin ROUTER) whose ZAP handlers admit one key: the
// allowed key gets its snapshot; any other key is reported as an
// authentication failure (on_auth_failure, stats().auth_failures) and
// retried; a bad configuration makes create() fail naming the problem.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "roster/subscriber.h"
#include "support/curve_test_server.h"
#include "support/guarded_list.h"
#include "support/process.h"

namespace roster::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr milliseconds kEventually = seconds(10);

struct CurveSubscriberTest : ::testing::Test, CurveTestKeys {
  CurveSubscriberTest() : CurveTestKeys("controller") {}

  SubscriberOptions options(const CurveKeyFiles& client) {
    SubscriberOptions o;
    o.state_endpoint = state.endpoint();
    o.admin_endpoint = admin.endpoint();
    o.beat_interval_ms = 1'000;
    o.snapshot_timeout_ms = 100;
    o.curve = curve_files(client, broker);
    return o;
  }

  SubscriberCallbacks recording_callbacks() {
    SubscriberCallbacks callbacks;
    callbacks.on_auth_failure = [this](const std::string& description) {
      failures.add(description);
    };
    return callbacks;
  }

  CurveTestServer state{zmq::socket_type::xpub, broker, {allowed.public_key}};
  CurveTestServer admin{zmq::socket_type::router, broker, {allowed.public_key}};
  GuardedList<std::string> failures;
};

TEST_F(CurveSubscriberTest, AllowedKeyGetsItsSnapshot) {
  std::string error;
  auto subscriber = Subscriber::create(options(allowed), recording_callbacks(), &error);
  ASSERT_TRUE(subscriber) << error;
  const std::string reply = curve_test_snapshot_reply();
  EXPECT_TRUE(wait_until(
      [&] {
        admin.answer_waiting(reply);
        subscriber->poll_once(milliseconds(5));
        return subscriber->synced();
      },
      kEventually));
  EXPECT_EQ(subscriber->view().version(), 3u);
  EXPECT_EQ(subscriber->stats().auth_failures, 0u);
  EXPECT_EQ(failures.items().size(), 0u);
}

TEST_F(CurveSubscriberTest, RefusedKeyIsReportedAsAnAuthenticationFailure) {
  std::string error;
  auto subscriber = Subscriber::create(options(stranger), recording_callbacks(), &error);
  ASSERT_TRUE(subscriber) << error;
  // Both connections are refused, and both are tried again: the state
  // one after a backoff (libzmq does not retry a refused key), the admin
  // one with each snapshot request retry. The subscriber hears of a
  // refusal after the broker made it: wait for both sides.
  EXPECT_TRUE(wait_until(
      [&] {
        subscriber->poll_once(milliseconds(5));
        return state.zap().refused() >= 2 && admin.zap().refused() >= 2 &&
               subscriber->stats().auth_failures >= 4 && failures.items().size() >= 2;
      },
      kEventually))
      << "refused by the server: state " << state.zap().refused() << ", admin "
      << admin.zap().refused()
      << "; failures the subscriber saw: " << subscriber->stats().auth_failures;
  EXPECT_FALSE(subscriber->synced());
  // Reported once per connection, not once per attempt.
  const auto reported = failures.items();
  ASSERT_EQ(reported.size(), 2u);
  for (const auto& description : reported) {
    EXPECT_EQ(description.rfind("authentication failed: the broker at ", 0), 0u) << description;
    EXPECT_NE(description.find("refused this client's key (ZAP status 400)"), std::string::npos)
        << description;
  }
}

TEST_F(CurveSubscriberTest, FdLoopHearsOfTheFailure) {
  std::string error;
  auto subscriber = Subscriber::create(options(stranger), recording_callbacks(), &error);
  ASSERT_TRUE(subscriber) << error;
  EXPECT_TRUE(wait_until(
      [&] {
        while (subscriber->process()) {
        }
        return failures.items().size() >= 1;
      },
      kEventually));
}

TEST_F(CurveSubscriberTest, BadConfigurationFailsCreate) {
  SubscriberOptions o = options(allowed);
  o.curve.secret_certificate_file = dir.file("missing_secret");
  std::string error;
  EXPECT_FALSE(Subscriber::create(o, {}, &error));
  EXPECT_NE(error.find(dir.file("missing_secret")), std::string::npos) << error;

  o = options(allowed);
  o.curve.broker_certificate_file.clear();
  EXPECT_FALSE(Subscriber::create(o, {}, &error));
  EXPECT_NE(error.find("--curve-secret is given without --broker-key"), std::string::npos) << error;
}

}  // namespace
}  // namespace roster::testing
