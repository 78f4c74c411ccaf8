// The broker's /healthz and /readyz decisions (broker_http.h), in process:
// the event loop and publisher on a SimulatedClock, as in run_broker(), and
// the HTTP server on an ephemeral loopback port. Moving the clock past the
// health threshold without a round stands for a wedged loop: no sleeping.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <variant>

#include <zmq.hpp>

#include "broker_http.h"
#include "event_loop.h"
#include "publisher.h"
#include "roster/clock.h"
#include "support/http_get.h"

namespace roster::broker {
namespace {

using testing::http_get;

constexpr TimeMs kStart = 1'700'000'000'000;
constexpr TimeMs kWarmUpMs = 2'000;
constexpr TimeMs kStepMs = 50;  // the running loop's longest poll

class BrokerHttpInProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.agents_endpoint = "inproc://agents";
    options_.publish_endpoint = "inproc://publish";
    options_.admin_endpoint = "inproc://admin";
    options_.membership.max_lease_ms = kWarmUpMs;
    loop_ = std::make_unique<EventLoop>(context_, clock_, options_, kStart, kStart);
    auto bound = loop_->bind();
    ASSERT_FALSE(bound.has_value()) << bound->message;
    http_ = std::make_unique<BrokerHttp>(clock_, kStart);
    PublisherOptions publisher_options;
    publisher_options.endpoint = options_.publish_endpoint;
    publisher_options.snapshot_encoded = [this](double s) { http_->metrics().snapshot_encoded(s); };
    auto started = Publisher::start(context_, clock_, publisher_options, loop_->initial_snapshot());
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Publisher>>(started));
    publisher_ = std::move(std::get<std::unique_ptr<Publisher>>(started));
    loop_->attach(*publisher_);
    auto error = http_->start("127.0.0.1:0");
    ASSERT_FALSE(error.has_value()) << error->message;
    loop_->on_round([this](TimeMs now) { http_->round(now, *loop_, *publisher_); });
  }

  // The publisher first: its thread reports snapshot encodings to http_.
  void TearDown() override {
    if (publisher_) publisher_->stop();
    http_.reset();
  }

  int status(const std::string& path) {
    auto answer = http_get(http_->address(), path);
    return answer ? answer->status : 0;
  }

  // Moves the clock to `at` with one round of the loop per step.
  void advance_to(TimeMs at) {
    while (clock_.now_ms() < at) {
      clock_.advance(std::min(kStepMs, at - clock_.now_ms()));
      loop_->run_round(0);
    }
  }

  zmq::context_t context_{1};
  SimulatedClock clock_{kStart};
  BrokerOptions options_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<BrokerHttp> http_;
  std::unique_ptr<Publisher> publisher_;
};

TEST_F(BrokerHttpInProcess, HealthzIs200WhileRoundsComplete) {
  loop_->run_round(0);
  EXPECT_EQ(status("/healthz"), 200);
  advance_to(kStart + 10 * http::kDefaultStaleAfterMs);
  EXPECT_EQ(status("/healthz"), 200);
}

TEST_F(BrokerHttpInProcess, HealthzIs503WhenNoRoundCompletedWithinTheThreshold) {
  loop_->run_round(0);
  clock_.advance(http::kDefaultStaleAfterMs);
  EXPECT_EQ(status("/healthz"), 200);  // exactly at the threshold: still healthy
  clock_.advance(1);
  auto answer = http_get(http_->address(), "/healthz");
  ASSERT_TRUE(answer.has_value());
  EXPECT_EQ(answer->status, 503);
  EXPECT_NE(answer->body.find("no round completed for"), std::string::npos) << answer->body;
  // The loop turns again: healthy again.
  loop_->run_round(0);
  EXPECT_EQ(status("/healthz"), 200);
}

TEST_F(BrokerHttpInProcess, ReadyzIs503UntilTheWarmUpIsOver) {
  loop_->run_round(0);
  EXPECT_EQ(status("/readyz"), 503);
  advance_to(kStart + kWarmUpMs - kStepMs);
  EXPECT_EQ(status("/readyz"), 503);
  // The end of the warm-up, and one metrics interval for it to be published.
  advance_to(kStart + kWarmUpMs + kMetricsIntervalMs);
  EXPECT_EQ(status("/readyz"), 200);
}

}  // namespace
}  // namespace roster::broker
