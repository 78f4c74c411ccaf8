// The broker's event loop and publisher in one process, wired as in
// run_broker() but on inproc:// endpoints and a SimulatedClock that the
// test moves: the timers (lease expiry, suspect -> dead -> forgotten,
// beats, the periodic snapshot, the end of the warm-up) are checked to the
// millisecond, without a broker process and without sleeping.
//
// The clock moves in steps of at most the loop's longest poll with one
// round after each (as the running loop would tick), and each move ends on
// the deadline under test, so whatever is due is stamped with that time.
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <memory>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "event_loop.h"
#include "publisher.h"
#include "roster/clock.h"
#include "roster/codec.h"

namespace roster::broker {
namespace {

using std::chrono::milliseconds;

constexpr TimeMs kStart = 1'700'000'000'000;
constexpr uint64_t kEpoch = static_cast<uint64_t>(kStart);
constexpr TimeMs kBeatMs = 1'000;
constexpr TimeMs kSnapshotMs = 4'000;
constexpr TimeMs kWarmUpMs = 2'000;  // the longest lease
constexpr TimeMs kLeaseMs = 1'000;
constexpr TimeMs kDeadAfterMs = 500;
constexpr TimeMs kForgetDeadAfterMs = 1'000;
// The longest the running loop sleeps between rounds: a longer move of the
// clock would look like a stall to the core.
constexpr TimeMs kStepMs = 50;
// Generous for "eventually": tests also run under sanitizers on 2 cores.
constexpr milliseconds kEventually = std::chrono::seconds(10);

class EventLoopInProcess : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.agents_endpoint = "inproc://agents";
    options_.publish_endpoint = "inproc://publish";
    options_.admin_endpoint = "inproc://admin";
    options_.membership.max_lease_ms = kWarmUpMs;
    options_.membership.dead_after_ms = kDeadAfterMs;
    options_.membership.forget_dead_after_ms = kForgetDeadAfterMs;
    options_.publish_interval_ms = 0;
    options_.snapshot_interval_ms = kSnapshotMs;
    options_.beat_interval_ms = kBeatMs;

    loop_ = std::make_unique<EventLoop>(context_, clock_, options_, kEpoch, kStart);
    auto bound = loop_->bind();
    ASSERT_FALSE(bound.has_value()) << bound->message;
    PublisherOptions publisher_options;
    publisher_options.endpoint = options_.publish_endpoint;
    publisher_options.pacing.interval_ms = static_cast<TimeMs>(options_.snapshot_interval_ms);
    publisher_options.beat_interval_ms = options_.beat_interval_ms;
    publisher_options.monitor_endpoint = loop_->publish_monitor_endpoint();
    auto started = Publisher::start(context_, clock_, publisher_options, loop_->initial_snapshot());
    ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Publisher>>(started))
        << std::get<StartupError>(started).message;
    publisher_ = std::move(std::get<std::unique_ptr<Publisher>>(started));
    loop_->attach(*publisher_);

    state_.set(zmq::sockopt::linger, 0);
    state_.set(zmq::sockopt::subscribe, "");
    state_.connect(publisher_->endpoint());
    agent_.set(zmq::sockopt::linger, 0);
    agent_.connect(loop_->agents_endpoint());
  }

  // Moves the clock to `at` in steps, with one round of the loop after
  // each, then lets the publisher look at the clock.
  void advance_to(TimeMs at) {
    while (clock_.now_ms() < at) {
      clock_.advance(std::min(kStepMs, at - clock_.now_ms()));
      loop_->run_round(0);
    }
    publisher_->wake();
  }

  // Sends a join of `node` and runs rounds (the clock stands still) until
  // the reply comes.
  AgentReply join(const std::string& node) {
    JoinRequest request;
    request.node = node;
    request.inc = 1;
    request.seq = 1;
    request.lease_ms = static_cast<uint64_t>(kLeaseMs);
    request.addr = "10.0.0.1:80";
    const std::string body = encode(AgentRequest(request));
    agent_.send(zmq::buffer(body), zmq::send_flags::none);
    const auto deadline = std::chrono::steady_clock::now() + kEventually;
    zmq::message_t reply;
    while (!agent_.recv(reply, zmq::recv_flags::dontwait)) {
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "no reply to the join";
        return ErrorReply{};
      }
      loop_->run_round(1);
    }
    auto decoded = decode_agent_reply(reply.to_string_view());
    EXPECT_TRUE(decoded.ok()) << decoded.error().message;
    return decoded.ok() ? decoded.value() : AgentReply(ErrorReply{});
  }

  // The next message of type T on the state channel, in publication order
  // among its kind; the other kinds are kept for their own next<>().
  template <typename T>
  std::optional<T> next() {
    const auto deadline = std::chrono::steady_clock::now() + kEventually;
    while (queue<T>().empty()) {
      const auto left =
          std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0 || !receive(left)) {
        ADD_FAILURE() << "no message of the expected type on the state channel";
        return std::nullopt;
      }
    }
    T message = std::move(queue<T>().front());
    queue<T>().pop_front();
    return message;
  }

  // Reads one message from the state channel into its queue; false if none
  // came within `timeout`.
  bool receive(milliseconds timeout) {
    zmq::pollitem_t item{state_.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, timeout) == 0) return false;
    zmq::message_t topic;
    zmq::message_t body;
    EXPECT_TRUE(state_.recv(topic, zmq::recv_flags::none));
    EXPECT_TRUE(topic.more());
    EXPECT_TRUE(state_.recv(body, zmq::recv_flags::none));
    const std::string_view name = topic.to_string_view();
    if (name == kTopicSnapshot) {
      snapshots_.push_back(decode_snapshot(body.to_string_view()).value());
    } else if (name == kTopicDelta) {
      deltas_.push_back(decode_delta(body.to_string_view()).value());
    } else if (name == kTopicBeat) {
      beats_.push_back(decode_beat(body.to_string_view()).value());
    } else {
      ADD_FAILURE() << "unexpected topic " << name;
    }
    return true;
  }

  template <typename T>
  std::deque<T>& queue() {
    if constexpr (std::is_same_v<T, Snapshot>) {
      return snapshots_;
    } else if constexpr (std::is_same_v<T, Delta>) {
      return deltas_;
    } else {
      return beats_;
    }
  }

  // Declared first: destroyed after every socket.
  zmq::context_t context_{1};
  SimulatedClock clock_{kStart};
  BrokerOptions options_;
  std::unique_ptr<EventLoop> loop_;
  std::unique_ptr<Publisher> publisher_;
  zmq::socket_t state_{context_, zmq::socket_type::sub};
  zmq::socket_t agent_{context_, zmq::socket_type::dealer};
  std::deque<Snapshot> snapshots_;
  std::deque<Delta> deltas_;
  std::deque<Beat> beats_;
};

TEST_F(EventLoopInProcess, NodeGoesSuspectDeadAndForgottenOnItsDeadlines) {
  // The subscription's snapshot: the loop has not committed anything yet.
  auto first = next<Snapshot>();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->version, 0u);

  AgentReply reply = join("node-1");
  ASSERT_TRUE(std::holds_alternative<Ack>(reply));
  EXPECT_EQ(std::get<Ack>(reply).lease_ms, static_cast<uint64_t>(kLeaseMs));
  auto joined = next<Delta>();
  ASSERT_TRUE(joined.has_value());
  EXPECT_EQ(joined->version, 1u);
  ASSERT_EQ(joined->changes.size(), 1u);
  EXPECT_EQ(joined->changes[0].state, NodeState::kAlive);
  EXPECT_EQ(joined->changes[0].since_ms, static_cast<uint64_t>(kStart));

  const TimeMs suspect_at = kStart + kLeaseMs;
  const TimeMs dead_at = suspect_at + kDeadAfterMs;
  const TimeMs forgotten_at = dead_at + kForgetDeadAfterMs;
  const struct {
    const char* step;
    TimeMs at;
    NodeState state;
    bool since_is_at;  // whether the record's since_ms is `at`
  } steps[] = {
      {"the lease ends without a heartbeat: suspect", suspect_at, NodeState::kSuspect, true},
      {"still nothing: dead", dead_at, NodeState::kDead, true},
      {"dead long enough: forgotten", forgotten_at, NodeState::kRemoved, false},
  };
  uint64_t version = 1;  // the join's
  for (const auto& step : steps) {
    SCOPED_TRACE(step.step);
    advance_to(step.at);
    auto delta = next<Delta>();
    ASSERT_TRUE(delta.has_value());
    EXPECT_EQ(delta->version, ++version);
    EXPECT_EQ(delta->prev_version, version - 1);
    EXPECT_EQ(delta->time_ms, static_cast<uint64_t>(step.at));
    ASSERT_EQ(delta->changes.size(), 1u);
    EXPECT_EQ(delta->changes[0].node, "node-1");
    EXPECT_EQ(delta->changes[0].state, step.state);
    if (step.since_is_at) {
      EXPECT_EQ(delta->changes[0].since_ms, static_cast<uint64_t>(step.at));
    }
  }
}

TEST_F(EventLoopInProcess, BeatsSnapshotsAndTheEndOfTheWarmUpComeOnTheirDeadlines) {
  // The subscription's snapshot, during the warm-up.
  auto first = next<Snapshot>();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->epoch, kEpoch);
  EXPECT_FALSE(first->complete);
  EXPECT_EQ(first->time_ms, static_cast<uint64_t>(kStart));

  // One beat every beat interval, stamped with its due time.
  for (TimeMs at = kStart + kBeatMs; at <= kStart + 6 * kBeatMs; at += kBeatMs) {
    advance_to(at);
    auto beat = next<Beat>();
    ASSERT_TRUE(beat.has_value());
    EXPECT_EQ(beat->time_ms, static_cast<uint64_t>(at));
    EXPECT_EQ(beat->epoch, kEpoch);
    EXPECT_EQ(beat->version, 0u);
  }
  // The warm-up ends after the longest lease: a complete snapshot at once.
  auto warm = next<Snapshot>();
  ASSERT_TRUE(warm.has_value());
  EXPECT_TRUE(warm->complete);
  EXPECT_EQ(warm->time_ms, static_cast<uint64_t>(kStart + kWarmUpMs));
  // Then one every snapshot interval, and none between: the same version,
  // so the same body, stamped when it was built.
  auto periodic = next<Snapshot>();
  ASSERT_TRUE(periodic.has_value());
  EXPECT_TRUE(periodic->complete);
  EXPECT_EQ(periodic->time_ms, static_cast<uint64_t>(kStart + kWarmUpMs));
  EXPECT_TRUE(snapshots_.empty());
  EXPECT_TRUE(deltas_.empty());
}

// Heartbeat acks wait for the end of the round's reads (AckBatch), other
// replies for its commit: requests read in one round are still answered
// in the order they came.
TEST_F(EventLoopInProcess, RepliesOfOneRoundKeepTheOrderOfTheirRequests) {
  ASSERT_TRUE(std::holds_alternative<Ack>(join("a")));
  auto send = [this](const AgentRequest& request) {
    const std::string body = encode(request);
    agent_.send(zmq::buffer(body), zmq::send_flags::none);
  };
  send(HeartbeatRequest{"a", 1, 2});  // acked from the batch
  JoinRequest join_b;
  join_b.node = "b";
  join_b.inc = 1;
  join_b.seq = 3;
  join_b.lease_ms = static_cast<uint64_t>(kLeaseMs);
  join_b.addr = "10.0.0.2:80";
  send(join_b);                       // a change: replied after the commit
  send(HeartbeatRequest{"a", 1, 4});  // after a waiting reply: waits too

  std::vector<uint64_t> seqs;
  const auto deadline = std::chrono::steady_clock::now() + kEventually;
  while (seqs.size() < 3 && std::chrono::steady_clock::now() < deadline) {
    loop_->run_round(1);
    zmq::message_t reply;
    while (agent_.recv(reply, zmq::recv_flags::dontwait)) {
      auto decoded = decode_agent_reply(reply.to_string_view());
      ASSERT_TRUE(decoded.ok()) << decoded.error().message;
      ASSERT_TRUE(std::holds_alternative<Ack>(decoded.value()));
      seqs.push_back(std::get<Ack>(decoded.value()).seq);
    }
  }
  EXPECT_EQ(seqs, (std::vector<uint64_t>{2, 3, 4}));
  const LoopReport report = loop_->report();
  EXPECT_EQ(std::accumulate(report.counters.ack_latency.counts.begin(),
                            report.counters.ack_latency.counts.end(), uint64_t{0}),
            4u)
      << "one latency observation per reply, batched or not (the join of a too)";
}

// Requests are read ahead in groups (EventLoop::read_agents()): across
// several groups, with heartbeats, heartbeats of unknown nodes and garbage
// mixed, every request gets its own reply, in the order they came.
TEST_F(EventLoopInProcess, ReadAheadAnswersEveryRequestOnceAndInOrder) {
  ASSERT_TRUE(std::holds_alternative<Ack>(join("a")));
  ASSERT_TRUE(std::holds_alternative<Ack>(join("b")));
  // What each reply must be: an ack or an error, and its seq (0: garbage,
  // whose seq cannot be read).
  struct Expected {
    bool ack;
    uint64_t seq;
  };
  std::vector<Expected> expected;
  constexpr uint64_t kRequests = 53;  // more than three groups of 16
  for (uint64_t seq = 10; seq < 10 + kRequests; ++seq) {
    std::string body;
    switch (seq % 5) {
      case 0:
        body = "\xc1 not msgpack";
        expected.push_back({false, 0});
        break;
      case 1:
        body = encode(AgentRequest(HeartbeatRequest{"nobody", 1, seq}));
        expected.push_back({false, seq});
        break;
      default:
        body = encode(AgentRequest(HeartbeatRequest{seq % 2 ? "a" : "b", 1, seq}));
        expected.push_back({true, seq});
    }
    agent_.send(zmq::buffer(body), zmq::send_flags::none);
  }

  std::vector<Expected> got;
  const auto deadline = std::chrono::steady_clock::now() + kEventually;
  while (got.size() < expected.size() && std::chrono::steady_clock::now() < deadline) {
    loop_->run_round(1);
    zmq::message_t reply;
    while (agent_.recv(reply, zmq::recv_flags::dontwait)) {
      auto decoded = decode_agent_reply(reply.to_string_view());
      ASSERT_TRUE(decoded.ok()) << decoded.error().message;
      if (const Ack* ack = std::get_if<Ack>(&decoded.value())) {
        got.push_back({true, ack->seq});
      } else if (const ErrorReply* error = std::get_if<ErrorReply>(&decoded.value())) {
        got.push_back({false, error->seq});
      } else {
        ADD_FAILURE() << "neither an ack nor an error";
      }
    }
  }
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(got[i].ack, expected[i].ack) << i;
    EXPECT_EQ(got[i].seq, expected[i].seq) << i;
  }
}

}  // namespace
}  // namespace roster::broker
