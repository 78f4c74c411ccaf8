// roster::Subscriber against a scripted fake broker (fake_state_channel.h): real
// sockets on tcp://127.0.0.1:*, with the test choosing every message and
// moving the subscriber's (simulated) clock: messages take real time to
// arrive, timers fire only when the test moves the clock.
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "roster/codec.h"
#include "roster/subscriber.h"
#include "support/callback_recorder.h"
#include "support/fake_state_channel.h"
#include "support/messages.h"
#include "support/process.h"

namespace roster {
namespace {

using testing::alive;
using testing::beat;
using testing::CallbackRecorder;
using testing::delta;
using testing::FakeStateChannel;
using testing::in_state;
using testing::removed;
using testing::snapshot;
using testing::wait_until;
using namespace std::chrono_literals;

class SubscriberFakeTest : public ::testing::Test {
 protected:
  void create(uint64_t beat_interval_ms = 10'000, uint64_t snapshot_timeout_ms = 10'000) {
    SubscriberOptions options;
    options.state_endpoint = fake_.state_endpoint();
    options.admin_endpoint = fake_.admin_endpoint();
    options.beat_interval_ms = beat_interval_ms;
    options.snapshot_timeout_ms = snapshot_timeout_ms;
    std::string error;
    sub_ = Subscriber::create(options, recorder_.callbacks(), clock_, &error);
    ASSERT_NE(sub_, nullptr) << error;
  }

  // Moves the subscriber's clock and lets it run its timers.
  void advance(TimeMs ms) {
    clock_.advance(ms);
    sub_->poll_once(0ms);
  }

  // Polls the subscriber (polled mode) and the fake until `condition`.
  bool pump_until(const std::function<bool()>& condition) {
    return wait_until(
        [&] {
          sub_->poll_once(2ms);
          fake_.poll_subscribed();
          fake_.poll_snapshot_requests();
          return condition();
        },
        20s, 0ms);
  }

  // Pumps until the view is at `version`.
  bool pump_until_version(uint64_t version) {
    return pump_until([&] { return sub_->view().version() == version; });
  }

  // Publishes `d` and pumps until the view is at its version.
  bool publish_and_pump(const Delta& d) {
    fake_.publish(d);
    return pump_until_version(d.version);
  }

  // Waits for the subscription and the n-th snapshot request.
  void await_request(int n) {
    ASSERT_TRUE(pump_until([&] {
      return fake_.poll_subscribed() && fake_.snapshot_requests() >= n;
    })) << "no snapshot request #"
        << n;
  }

  void sync_with(const Snapshot& s, int request = 1) {
    await_request(request);
    fake_.reply(s);
    ASSERT_TRUE(pump_until([&] { return sub_->synced() && sub_->view().version() >= s.version; }));
  }

  // Starts the subscriber's own thread, answers its first snapshot request
  // with `s` and waits until it is synced.
  void start_thread_synced_with(const Snapshot& s) {
    ASSERT_TRUE(sub_->start());
    ASSERT_TRUE(wait_until(
        [&] {
          fake_.poll_snapshot_requests();
          return fake_.poll_subscribed() && fake_.snapshot_requests() >= 1;
        },
        20s));
    fake_.reply(s);
    ASSERT_TRUE(wait_until([&] { return sub_->synced(); }, 20s));
  }

  SimulatedClock clock_;
  FakeStateChannel fake_;
  CallbackRecorder recorder_;
  std::unique_ptr<Subscriber> sub_;
};

TEST_F(SubscriberFakeTest, AppliesDeltasAboveTheSnapshotInOrder) {
  create();
  await_request(1);
  // A delta that arrives before the snapshot reply is kept, then applied.
  fake_.publish(delta(1, 6, {in_state(alive("a"), NodeState::kSuspect)}));
  fake_.reply(snapshot(1, 5, {alive("a"), alive("b")}));
  ASSERT_TRUE(pump_until_version(6));
  fake_.publish(delta(1, 7, {alive("c")}));
  ASSERT_TRUE(publish_and_pump(delta(1, 8, {removed("b")})));

  View view = sub_->view();
  ASSERT_EQ(view.nodes().size(), 2u);
  EXPECT_EQ(view.nodes().at("a").state, NodeState::kSuspect);
  EXPECT_EQ(view.nodes().at("c"), alive("c"));
  EXPECT_EQ(recorder_.resyncs(), std::vector<ResyncReason>{ResyncReason::kInitial});
  // Two nodes new from the first snapshot, then three delta changes.
  ASSERT_EQ(recorder_.changes().size(), 5u);
  EXPECT_TRUE(recorder_.changes()[0].from_resync);
  EXPECT_EQ(recorder_.changes()[2].old->state, NodeState::kAlive);
  EXPECT_EQ(recorder_.changes()[2].record.state, NodeState::kSuspect);
  EXPECT_EQ(recorder_.changes()[2].version, 6u);
  EXPECT_FALSE(recorder_.changes()[3].old.has_value());
  EXPECT_EQ(recorder_.changes()[4].record.state, NodeState::kRemoved);
  EXPECT_EQ(sub_->stats().deltas_applied, 3u);
  EXPECT_EQ(sub_->stats().gaps, 0u);
}

TEST_F(SubscriberFakeTest, PrevVersionGapMakesItResync) {
  create();
  sync_with(snapshot(1, 5, {alive("a")}));
  fake_.publish(delta(1, 7, {alive("c")}));  // 6 never came
  await_request(2);
  EXPECT_FALSE(sub_->synced());
  EXPECT_EQ(sub_->stats().gaps, 1u);
  fake_.reply(snapshot(1, 7, {alive("a"), alive("b"), alive("c")}));
  ASSERT_TRUE(pump_until([&] { return sub_->synced(); }));
  EXPECT_EQ(sub_->view().version(), 7u);
  EXPECT_EQ(sub_->view().nodes().size(), 3u);
  EXPECT_EQ(recorder_.resyncs().back(), ResyncReason::kGap);
  // The resync reports what the missed deltas changed: b and c are new.
  ASSERT_EQ(recorder_.changes().size(), 3u);
  EXPECT_EQ(recorder_.changes()[1].record.node, "b");
  EXPECT_TRUE(recorder_.changes()[1].from_resync);
}

TEST_F(SubscriberFakeTest, EpochChangeMakesItResync) {
  create();
  sync_with(snapshot(1, 5, {alive("a"), alive("b")}));
  fake_.publish(delta(2, 1, {alive("a", 2)}));
  await_request(2);
  EXPECT_EQ(sub_->stats().epoch_changes, 1u);
  fake_.reply(snapshot(2, 0, {}));
  ASSERT_TRUE(pump_until([&] { return sub_->synced(); }));
  View view = sub_->view();
  EXPECT_EQ(view.epoch(), 2u);
  EXPECT_EQ(view.version(), 1u);  // the kept delta of the new epoch
  ASSERT_EQ(view.nodes().size(), 1u);
  EXPECT_EQ(view.nodes().at("a").inc, 2u);
  EXPECT_EQ(recorder_.resyncs().back(), ResyncReason::kEpochChange);
}

TEST_F(SubscriberFakeTest, BeatAheadOfTheViewIsAGap) {
  create();
  sync_with(snapshot(1, 5, {alive("a")}));
  fake_.publish(beat(1, 5));  // in step: nothing to do
  fake_.publish(beat(1, 6));  // delta 6 was lost
  await_request(2);
  EXPECT_EQ(sub_->stats().gaps, 1u);
  fake_.reply(snapshot(1, 6, {}));
  ASSERT_TRUE(pump_until([&] { return sub_->synced(); }));
  EXPECT_TRUE(sub_->view().nodes().empty());
  ASSERT_FALSE(recorder_.changes().empty());
  EXPECT_EQ(recorder_.changes().back().record.state, NodeState::kRemoved);
}

TEST_F(SubscriberFakeTest, StaleAfterThreeSilentBeatsAndFreshWhenMessagesReturn) {
  create(/*beat_interval_ms=*/50);
  sync_with(snapshot(1, 5, {alive("a")}));
  // Nothing is published: the view is stale after three beat intervals of
  // silence, not before.
  advance(3 * 50 - 1);
  EXPECT_FALSE(sub_->stale());
  advance(1);
  EXPECT_TRUE(sub_->stale());
  EXPECT_EQ(recorder_.stales(), std::vector<bool>{true});
  EXPECT_EQ(sub_->view().nodes().size(), 1u);  // still readable, just not trusted
  // Staying silent does not report it again.
  advance(10 * 50);
  EXPECT_EQ(recorder_.stales(), std::vector<bool>{true});
  fake_.publish(beat(1, 5));
  ASSERT_TRUE(pump_until([&] { return !sub_->stale(); }));
  EXPECT_EQ(recorder_.stales(), (std::vector<bool>{true, false}));
  EXPECT_EQ(sub_->stats().stale_periods, 1u);
  // The beat restarted the count.
  advance(3 * 50 - 1);
  EXPECT_FALSE(sub_->stale());
}

// Its own thread reads the clock while the test moves it.
TEST_F(SubscriberFakeTest, OwnThreadRunsItsTimersOnTheGivenClock) {
  create(/*beat_interval_ms=*/50);
  ASSERT_NO_FATAL_FAILURE(start_thread_synced_with(snapshot(1, 5, {alive("a")})));
  clock_.advance(3 * 50);
  ASSERT_TRUE(wait_until([&] { return sub_->stale(); }, 20s));
  fake_.publish(beat(1, 5));
  ASSERT_TRUE(wait_until([&] { return !sub_->stale(); }, 20s));
  sub_->stop();
  EXPECT_EQ(recorder_.stales(), (std::vector<bool>{true, false}));
}

TEST_F(SubscriberFakeTest, UnansweredSnapshotRequestIsRetriedWithBackoff) {
  create(10'000, /*snapshot_timeout_ms=*/100);
  await_request(1);
  advance(99);
  EXPECT_EQ(sub_->stats().snapshot_requests, 1u);
  advance(1);
  EXPECT_EQ(sub_->stats().snapshot_requests, 2u);
  await_request(2);
  // Each retry waits twice as long as the one before.
  advance(199);
  EXPECT_EQ(sub_->stats().snapshot_requests, 2u);
  advance(1);
  EXPECT_EQ(sub_->stats().snapshot_requests, 3u);
  await_request(3);
  // Only the newest request's socket still exists: reply to it.
  fake_.reply(snapshot(1, 3, {alive("a")}));
  ASSERT_TRUE(pump_until([&] { return sub_->synced(); }));
  EXPECT_EQ(sub_->stats().snapshot_requests, 3u);
}

TEST_F(SubscriberFakeTest, AdminErrorReplyIsRetried) {
  create(10'000, /*snapshot_timeout_ms=*/100);
  await_request(1);
  fake_.reply(ErrorReply{0, ErrorCode::kBadRequest, "not now"});
  ASSERT_TRUE(pump_until([&] { return sub_->stats().admin_errors == 1; }));
  // Retried on time, like an unanswered request.
  EXPECT_EQ(sub_->stats().snapshot_requests, 1u);
  advance(100);
  await_request(2);
  fake_.reply(snapshot(1, 3, {}));
  ASSERT_TRUE(pump_until([&] { return sub_->synced(); }));
}

// The subscriber asks for its snapshot in parts (snapshot_parts.h).
std::vector<std::string> parts_of(const Snapshot& s, size_t per_part, uint64_t bad_version_at = 0) {
  std::vector<std::string> bodies;
  uint64_t index = 0;
  for (size_t i = 0; i < s.nodes.size(); i += per_part, ++index) {
    SnapshotPart part{
        s.epoch, index == bad_version_at && index > 0 ? s.version + 1 : s.version, index, {}};
    for (size_t j = i; j < std::min(s.nodes.size(), i + per_part); ++j) {
      part.nodes.push_back(s.nodes[j]);
    }
    bodies.push_back(encode(part));
  }
  bodies.push_back(
      encode(SnapshotEnd{s.epoch, s.version, s.complete, s.time_ms, index, s.nodes.size()}));
  return bodies;
}

TEST_F(SubscriberFakeTest, SnapshotInPartsIsAssembled) {
  create();
  await_request(1);
  for (const auto& body : parts_of(snapshot(2, 7, {alive("a"), alive("b"), alive("c")}), 2)) {
    fake_.reply_raw(body);
  }
  ASSERT_TRUE(pump_until([&] { return sub_->synced(); }));
  EXPECT_EQ(sub_->view().version(), 7u);
  EXPECT_EQ(sub_->view().nodes().size(), 3u);
  EXPECT_EQ(sub_->stats().bad_messages, 0u);
}

TEST_F(SubscriberFakeTest, PartsOfAnotherVersionMidStreamAreDroppedAndRetried) {
  create(10'000, /*snapshot_timeout_ms=*/100);
  await_request(1);
  const Snapshot s = snapshot(2, 7, {alive("a"), alive("b"), alive("c")});
  for (const auto& body : parts_of(s, 1, /*bad_version_at=*/1)) fake_.reply_raw(body);
  ASSERT_TRUE(pump_until([&] { return sub_->stats().bad_messages == 1; }));
  EXPECT_FALSE(sub_->synced());
  advance(100);
  await_request(2);
  for (const auto& body : parts_of(s, 1)) fake_.reply_raw(body);
  ASSERT_TRUE(pump_until([&] { return sub_->synced(); }));
  EXPECT_EQ(sub_->view().nodes().size(), 3u);
  EXPECT_EQ(sub_->stats().bad_messages, 1u);
}

TEST_F(SubscriberFakeTest, PartsWithoutAnEndAreRetriedOnTime) {
  create(10'000, /*snapshot_timeout_ms=*/100);
  await_request(1);
  const Snapshot s = snapshot(2, 7, {alive("a"), alive("b")});
  std::vector<std::string> bodies = parts_of(s, 1);
  bodies.pop_back();  // no snapshot_end
  for (const auto& body : bodies) fake_.reply_raw(body);
  advance(100);
  await_request(2);
  EXPECT_FALSE(sub_->synced());
  fake_.reply(s);  // a broker from before parts answers whole
  ASSERT_TRUE(pump_until([&] { return sub_->synced(); }));
}

TEST_F(SubscriberFakeTest, TooManyPartsAreDropped) {
  create(10'000, /*snapshot_timeout_ms=*/100);
  await_request(1);
  Snapshot s = snapshot(2, 7, {});
  for (size_t i = 0; i <= kMaxSnapshotParts; ++i) s.nodes.push_back(alive("n" + std::to_string(i)));
  for (const auto& body : parts_of(s, 1)) fake_.reply_raw(body);
  ASSERT_TRUE(pump_until([&] { return sub_->stats().bad_messages == 1; }));
  EXPECT_FALSE(sub_->synced());
}

TEST_F(SubscriberFakeTest, PublishedSnapshotSyncsWithoutTheAdminChannel) {
  create();
  await_request(1);
  fake_.publish(snapshot(4, 9, {alive("a"), alive("b")}));
  ASSERT_TRUE(pump_until([&] { return sub_->synced(); }));
  EXPECT_EQ(sub_->view().epoch(), 4u);
  EXPECT_EQ(sub_->view().nodes().size(), 2u);
  // The late admin reply changes nothing.
  fake_.reply(snapshot(4, 1, {}));
  ASSERT_TRUE(publish_and_pump(delta(4, 10, {alive("c")})));
  EXPECT_EQ(sub_->stats().resyncs, 1u);
  EXPECT_EQ(sub_->view().nodes().size(), 3u);
}

TEST_F(SubscriberFakeTest, MalformedMessagesAreCountedAndDropped) {
  create();
  await_request(1);
  fake_.reply_raw("\xc1 not msgpack");
  fake_.reply(Stats{});  // a reply that is not a snapshot
  fake_.publish_frames({std::string(kTopicDelta), "\x93garbage"});
  fake_.publish_frames({std::string(kTopicBeat), "a", "b"});
  fake_.publish_frames({std::string(kTopicDelta)});
  fake_.publish_frames({"roster.future", "whatever"});  // a later protocol's topic: ignored
  ASSERT_TRUE(pump_until([&] { return sub_->stats().bad_messages >= 5; }));
  fake_.reply(snapshot(1, 1, {}));
  ASSERT_TRUE(publish_and_pump(delta(1, 2, {alive("a")})));
  EXPECT_EQ(sub_->stats().bad_messages, 5u);
  EXPECT_EQ(sub_->view().nodes().size(), 1u);
}

// A buggy or hostile broker sends ill-formed UTF-8 and control characters:
// the subscriber keeps its view, with U+FFFD in place of the ill-formed
// bytes, counts the repaired strings and keeps following.
TEST_F(SubscriberFakeTest, InvalidUtf8FromTheBrokerIsReplacedAndCounted) {
  const std::string fffd = "\xEF\xBF\xBD";
  create();
  NodeRecord evil = alive("evil");
  evil.addr = "10.0.0.1:80\xff\x1b[2J";
  evil.labels = {{"zone\xc3", "a\nb"}};
  sync_with(snapshot(1, 1, {evil, alive("good")}));
  View view = sub_->view();
  ASSERT_EQ(view.nodes().size(), 2u);
  EXPECT_EQ(view.nodes().at("evil").addr, "10.0.0.1:80" + fffd + "\x1b[2J");
  EXPECT_EQ(view.nodes().at("evil").labels, (Labels{{"zone" + fffd, "a\nb"}}));
  EXPECT_EQ(sub_->stats().replaced_strings, 2u);

  NodeRecord worse = alive("worse");
  worse.addr = "\xed\xa0\x80";
  fake_.publish(delta(1, 2, {worse}));
  ASSERT_TRUE(publish_and_pump(delta(1, 3, {alive("later")})));
  view = sub_->view();
  EXPECT_EQ(view.nodes().at("worse").addr, fffd + fffd + fffd);
  EXPECT_EQ(view.nodes().count("later"), 1u);
  EXPECT_EQ(sub_->stats().replaced_strings, 3u);
  EXPECT_EQ(sub_->stats().bad_messages, 0u);
  ASSERT_FALSE(recorder_.changes().empty());
  EXPECT_EQ(recorder_.changes().back().record.node, "later");
}

TEST_F(SubscriberFakeTest, ViewIsReadableFromOtherThreadsWhileItRuns) {
  create();
  ASSERT_NO_FATAL_FAILURE(start_thread_synced_with(snapshot(1, 0, {})));
  // Every delta adds one node: each copy must hold as many nodes as its
  // version, however it interleaves with the subscriber's thread.
  std::atomic<uint64_t> copies{0};
  std::atomic<uint64_t> torn{0};
  std::thread reader([&] {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      View view = sub_->view();
      ++copies;
      if (view.nodes().size() != view.version()) ++torn;
      if (view.version() == 200) return;
    }
  });
  for (uint64_t v = 1; v <= 200; ++v) fake_.publish(delta(1, v, {alive("n" + std::to_string(v))}));
  reader.join();
  sub_->stop();
  EXPECT_EQ(sub_->view().version(), 200u);
  EXPECT_EQ(sub_->view().nodes().size(), 200u);
  EXPECT_EQ(torn.load(), 0u);
  EXPECT_GE(copies.load(), 1u);
}

TEST_F(SubscriberFakeTest, RunsInsideTheCallersOwnPollLoop) {
  create(10'000, /*snapshot_timeout_ms=*/100);
  // The caller's loop waits with a real poll() on the subscriber's
  // descriptor beside its own (a pipe here), as a controller's would.
  int own[2];
  ASSERT_EQ(::pipe(own), 0);
  int timeouts = 0;  // waits that ended with no descriptor readable
  auto turn = [&](std::chrono::milliseconds max_wait) {
    pollfd fds[2] = {{sub_->fd(), POLLIN, 0}, {own[0], POLLIN, 0}};
    const auto wait = std::min(max_wait, sub_->next_timeout());
    if (::poll(fds, 2, static_cast<int>(wait.count())) == 0) ++timeouts;
    while (sub_->process()) {
    }
  };
  // The fake is driven by this thread: pump it until the n-th request.
  auto pump_until_request = [&](int n) {
    return wait_until(
        [&] {
          turn(2ms);
          fake_.poll_snapshot_requests();
          return fake_.poll_subscribed() && fake_.snapshot_requests() >= n;
        },
        20s, 0ms);
  };
  ASSERT_TRUE(pump_until_request(1));
  // The retry replaces the admin socket; fd() still stands for it.
  clock_.advance(100);
  ASSERT_TRUE(pump_until_request(2));
  // From here only fd() wakes the loop.
  auto loop_until = [&](const std::function<bool()>& condition) {
    return wait_until(
        [&] {
          turn(10s);
          return condition();
        },
        20s, 0ms);
  };
  fake_.reply(snapshot(1, 1, {alive("a")}));
  ASSERT_TRUE(loop_until([&] { return sub_->synced(); }));
  // Synced, no timer is due, so each wait lasts next_timeout() (1 s)
  // unless fd() announces the deltas.
  timeouts = 0;
  for (uint64_t v = 2; v <= 300; ++v) fake_.publish(delta(1, v, {alive("n" + std::to_string(v))}));
  ASSERT_TRUE(loop_until([&] { return sub_->view().version() == 300; }));
  EXPECT_EQ(sub_->view().nodes().size(), 300u);
  EXPECT_EQ(timeouts, 0);
  ::close(own[0]);
  ::close(own[1]);
}

TEST(SubscriberCreateTest, InvalidEndpointIsAnError) {
  SubscriberOptions options;
  options.state_endpoint = "nonsense://x";
  std::string error;
  EXPECT_EQ(Subscriber::create(options, {}, &error), nullptr);
  EXPECT_NE(error.find("cannot connect"), std::string::npos) << error;
}

TEST(SubscriberCreateTest, ZeroBeatIntervalIsAnError) {
  SubscriberOptions options;
  options.beat_interval_ms = 0;
  std::string error;
  EXPECT_EQ(Subscriber::create(options, {}, &error), nullptr);
  EXPECT_NE(error.find("beat_interval_ms"), std::string::npos) << error;
}

}  // namespace
}  // namespace roster
