#include "publisher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "roster/codec.h"
#include "roster/view.h"
#include "socket_monitor.h"

namespace roster::broker {

namespace {

// Commands on the pipe, loop -> publisher (first frame).
constexpr std::string_view kCmdDelta = "D";     // [D, Delta* (pointer bytes)]
constexpr std::string_view kCmdComplete = "C";  // [C]
constexpr std::string_view kCmdSnapshot = "S";  // [S, routing id, delimiter flag]
constexpr std::string_view kCmdTerminate = "$TERM";
// Messages on the pipe, publisher -> loop.
constexpr std::string_view kMsgReady = "READY";  // [READY, endpoint]
constexpr std::string_view kMsgError = "ERROR";  // [ERROR, message, exit status]
constexpr std::string_view kMsgRelay = "R";      // [R, routing id, delimiter flag, body]

// Subscription messages are one byte plus a topic prefix; nothing longer is
// worth reading.
constexpr int64_t kMaxSubscriptionBytes = 64 * 1024 + 1024;
// Messages queued per subscriber before the XPUB drops (versions let
// subscribers notice).
constexpr int kPublishHwm = 10'000;
// An encoded snapshot is reused for this long while the view is unchanged.
constexpr TimeMs kSnapshotCacheMs = 100;

std::atomic<uint64_t> next_pipe_id{0};

bool covers_snapshot_topic(std::string_view prefix) {
  return prefix.size() <= kTopicSnapshot.size() &&
         kTopicSnapshot.substr(0, prefix.size()) == prefix;
}

// Sends `frames` as one message, or as the start of one when `more`.
void send_frames(zmq::socket_t& socket, const std::vector<std::string_view>& frames,
                 bool more = false) {
  for (size_t i = 0; i < frames.size(); ++i) {
    auto flags = more || i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
    socket.send(zmq::buffer(frames[i].data(), frames[i].size()), flags);
  }
}

std::vector<zmq::message_t> receive_frames(zmq::socket_t& socket, zmq::recv_flags flags) {
  std::vector<zmq::message_t> frames;
  zmq::message_t frame;
  if (!socket.recv(frame, flags)) return frames;
  bool more = frame.more();
  frames.push_back(std::move(frame));
  while (more) {
    zmq::message_t next;
    (void)socket.recv(next, zmq::recv_flags::none);
    more = next.more();
    frames.push_back(std::move(next));
  }
  return frames;
}

// The body of the publisher thread.
class PublisherThread {
 public:
  PublisherThread(zmq::context_t& context, const Clock& clock, const PublisherOptions& options,
                  const Snapshot& initial, PublisherCounters& counters)
      : clock_(clock),
        options_(options),
        counters_(counters),
        pipe_(context, zmq::socket_type::pair),
        xpub_(context, zmq::socket_type::xpub) {
    view_.reset(initial);
  }

  // Connects the pipe, binds the XPUB, signals, and serves until $TERM.
  void run(const std::string& pipe_endpoint) {
    pipe_.set(zmq::sockopt::linger, 0);
    pipe_.set(zmq::sockopt::sndhwm, 0);
    pipe_.set(zmq::sockopt::rcvhwm, 0);
    pipe_.connect(pipe_endpoint);
    try {
      xpub_.set(zmq::sockopt::linger, 0);
      xpub_.set(zmq::sockopt::xpub_verbose, 1);
      xpub_.set(zmq::sockopt::sndhwm, kPublishHwm);
      xpub_.set(zmq::sockopt::maxmsgsize, kMaxSubscriptionBytes);
      if (!options_.monitor_endpoint.empty()) {
        if (auto error = monitor_failures(xpub_, options_.monitor_endpoint)) {
          spdlog::warn("publisher: {}", *error);
        }
      }
      xpub_.bind(options_.endpoint);
    } catch (const zmq::error_t& e) {
      StartupError error = bind_failure("--publish", options_.endpoint, e);
      send_frames(pipe_, {kMsgError, error.message, std::to_string(error.exit_status)});
      return;
    }
    const std::string endpoint = xpub_.get(zmq::sockopt::last_endpoint);
    send_frames(pipe_, {kMsgReady, endpoint});
    serve();
  }

 private:
  void serve() {
    TimeMs now = clock_.now_ms();
    next_beat_ = now + static_cast<TimeMs>(options_.beat_interval_ms);
    if (options_.snapshot_interval_ms > 0) {
      next_periodic_ = now + static_cast<TimeMs>(options_.snapshot_interval_ms);
    }
    zmq::pollitem_t items[] = {{pipe_.handle(), 0, ZMQ_POLLIN, 0},
                               {xpub_.handle(), 0, ZMQ_POLLIN, 0}};
    while (true) {
      now = clock_.now_ms();
      TimeMs wake = next_beat_;
      if (next_periodic_) wake = std::min(wake, *next_periodic_);
      if (snapshot_due_) wake = std::min(wake, *snapshot_due_);
      auto timeout = std::chrono::milliseconds(std::max<TimeMs>(0, wake - now));
      try {
        zmq::poll(items, 2, timeout);
      } catch (const zmq::error_t& e) {
        if (e.num() == EINTR) continue;
        throw;
      }
      if (items[1].revents & ZMQ_POLLIN) drain_subscriptions();
      // Always, and after the subscriptions: a delta committed before a
      // subscriber arrived is in the snapshot that subscriber triggers.
      if (!drain_pipe()) return;
      run_timers(clock_.now_ms());
    }
  }

  // Handles every waiting command; false on $TERM.
  bool drain_pipe() {
    while (true) {
      auto frames = receive_frames(pipe_, zmq::recv_flags::dontwait);
      if (frames.empty()) return true;
      std::string_view command = frames[0].to_string_view();
      if (command == kCmdDelta && frames.size() == 2 && frames[1].size() == sizeof(Delta*)) {
        Delta* raw = nullptr;
        std::memcpy(&raw, frames[1].data(), sizeof raw);
        publish_delta(std::unique_ptr<Delta>(raw));
      } else if (command == kCmdComplete) {
        view_.set_complete(true);
        schedule_snapshot(clock_.now_ms());
      } else if (command == kCmdSnapshot && frames.size() == 3) {
        reply_snapshot(frames[1].to_string_view(), frames[2].to_string_view());
      } else if (command == kCmdTerminate) {
        return false;
      } else {
        spdlog::error("publisher: unexpected command '{}' on the pipe", command);
      }
    }
  }

  void drain_subscriptions() {
    TimeMs now = clock_.now_ms();
    while (true) {
      zmq::message_t message;
      if (!xpub_.recv(message, zmq::recv_flags::dontwait)) return;
      if (message.size() == 0) continue;
      const auto* bytes = static_cast<const unsigned char*>(message.data());
      if (bytes[0] != 1) continue;  // unsubscription
      counters_.subscriptions.fetch_add(1, std::memory_order_relaxed);
      std::string_view prefix(static_cast<const char*>(message.data()) + 1, message.size() - 1);
      spdlog::debug("publisher: subscription to '{}'", prefix);
      if (covers_snapshot_topic(prefix)) schedule_snapshot(now);
    }
  }

  // A snapshot soon, but not sooner than the gap after the last one.
  void schedule_snapshot(TimeMs now) {
    if (snapshot_due_) return;
    TimeMs earliest =
        last_triggered_snapshot_ + static_cast<TimeMs>(options_.subscription_snapshot_gap_ms);
    snapshot_due_ = std::max(now, earliest);
  }

  void run_timers(TimeMs now) {
    bool triggered = snapshot_due_ && *snapshot_due_ <= now;
    bool periodic = next_periodic_ && *next_periodic_ <= now;
    if (triggered || periodic) {
      publish_snapshot(now);
      if (triggered) {
        snapshot_due_.reset();
        last_triggered_snapshot_ = now;
      }
      if (next_periodic_) next_periodic_ = now + static_cast<TimeMs>(options_.snapshot_interval_ms);
    }
    if (next_beat_ <= now) {
      publish_beat(now);
      next_beat_ = now + static_cast<TimeMs>(options_.beat_interval_ms);
    }
  }

  void publish_delta(std::unique_ptr<Delta> delta) {
    View::ApplyResult result = view_.apply(*delta);
    if (result != View::ApplyResult::kApplied) {
      counters_.view_errors.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("publisher: delta {} (prev {}) does not continue the view at version {}",
                    delta->version, delta->prev_version, view_.version());
    }
    publish(kTopicDelta, encode(*delta));
    counters_.deltas.fetch_add(1, std::memory_order_relaxed);
  }

  void publish_snapshot(TimeMs now) {
    publish(kTopicSnapshot, encoded_snapshot(now));
    counters_.snapshots.fetch_add(1, std::memory_order_relaxed);
  }

  void publish_beat(TimeMs now) {
    Beat beat;
    beat.epoch = view_.epoch();
    beat.version = view_.version();
    beat.time_ms = static_cast<uint64_t>(now);
    publish(kTopicBeat, encode(beat));
    counters_.beats.fetch_add(1, std::memory_order_relaxed);
  }

  // The body frame shares the cached encoding (no copy of the snapshot);
  // the loop moves it on into its ROUTER.
  void reply_snapshot(std::string_view routing_id, std::string_view delimiter) {
    zmq::message_t body = encoded_snapshot(clock_.now_ms());
    send_frames(pipe_, {kMsgRelay, routing_id, delimiter}, /*more=*/true);
    pipe_.send(body, zmq::send_flags::none);
    counters_.admin_snapshots.fetch_add(1, std::memory_order_relaxed);
  }

  // The view encoded as a snapshot; reused while the view is unchanged
  // and the encoding is fresh, so a storm of requests costs one encoding.
  // Returns a message sharing the encoding's bytes (reference-counted, no
  // copy), usable on any socket and freed with its last user.
  zmq::message_t encoded_snapshot(TimeMs now) {
    bool fresh = cache_valid_ && cache_version_ == view_.version() &&
                 cache_complete_ == view_.complete() && now - cache_time_ < kSnapshotCacheMs;
    if (!fresh) {
      auto* bytes = new std::string(encode(view_.to_snapshot(static_cast<uint64_t>(now))));
      cache_ = zmq::message_t(
          bytes->data(), bytes->size(),
          [](void*, void* hint) { delete static_cast<std::string*>(hint); }, bytes);
      cache_valid_ = true;
      cache_version_ = view_.version();
      cache_complete_ = view_.complete();
      cache_time_ = now;
    }
    zmq::message_t shared;
    shared.copy(cache_);
    return shared;
  }

  // Two frames: topic, body. The XPUB drops rather than blocks at its
  // high-water mark.
  void publish(std::string_view topic, const std::string& body) {
    xpub_.send(zmq::buffer(topic.data(), topic.size()),
               zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    xpub_.send(zmq::buffer(body), zmq::send_flags::dontwait);
  }
  void publish(std::string_view topic, zmq::message_t body) {
    xpub_.send(zmq::buffer(topic.data(), topic.size()),
               zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    xpub_.send(body, zmq::send_flags::dontwait);
  }

  const Clock& clock_;
  PublisherOptions options_;
  PublisherCounters& counters_;
  zmq::socket_t pipe_;
  zmq::socket_t xpub_;
  View view_;
  TimeMs next_beat_ = 0;
  std::optional<TimeMs> next_periodic_;
  std::optional<TimeMs> snapshot_due_;
  TimeMs last_triggered_snapshot_ = 0;
  zmq::message_t cache_;
  bool cache_valid_ = false;
  uint64_t cache_version_ = 0;
  bool cache_complete_ = false;
  TimeMs cache_time_ = 0;
};

}  // namespace

Publisher::Publisher(zmq::context_t& context, std::string pipe_endpoint)
    : pipe_(context, zmq::socket_type::pair), counters_(std::make_unique<PublisherCounters>()) {
  pipe_.set(zmq::sockopt::linger, 0);
  pipe_.set(zmq::sockopt::sndhwm, 0);
  pipe_.set(zmq::sockopt::rcvhwm, 0);
  pipe_.bind(pipe_endpoint);
}

std::variant<std::unique_ptr<Publisher>, StartupError> Publisher::start(
    zmq::context_t& context, const Clock& clock, const PublisherOptions& options,
    const Snapshot& initial) {
  std::string pipe_endpoint =
      "inproc://roster-publisher-" + std::to_string(next_pipe_id.fetch_add(1));
  std::unique_ptr<Publisher> publisher(new Publisher(context, pipe_endpoint));
  PublisherCounters& counters = *publisher->counters_;
  publisher->thread_ = std::thread([&context, &clock, options, initial, &counters, pipe_endpoint] {
    try {
      PublisherThread(context, clock, options, initial, counters).run(pipe_endpoint);
    } catch (const std::exception& e) {
      spdlog::critical("publisher thread failed: {}", e.what());
    }
  });
  // The thread answers READY or ERROR at once; the deadline only guards
  // against a thread that died before it could say anything.
  zmq::pollitem_t item = {publisher->pipe_.handle(), 0, ZMQ_POLLIN, 0};
  std::vector<zmq::message_t> frames;
  if (zmq::poll(&item, 1, std::chrono::seconds(10)) > 0) {
    frames = receive_frames(publisher->pipe_, zmq::recv_flags::none);
  }
  if (frames.size() == 2 && frames[0].to_string_view() == kMsgReady) {
    publisher->endpoint_ = frames[1].to_string();
    return publisher;
  }
  StartupError error{"publisher failed to start", kExitFailure};
  if (frames.size() == 3 && frames[0].to_string_view() == kMsgError) {
    error.message = frames[1].to_string();
    error.exit_status = frames[2].to_string_view() == "2" ? kExitUsage : kExitFailure;
  }
  publisher->thread_.join();
  return error;
}

Publisher::~Publisher() {
  stop();
}

void Publisher::stop() {
  if (!thread_.joinable()) return;
  // dontwait: a thread that already died has no peer socket to queue for.
  (void)pipe_.send(zmq::buffer(kCmdTerminate), zmq::send_flags::dontwait);
  thread_.join();
}

void Publisher::publish(Delta delta) {
  auto owned = std::make_unique<Delta>(std::move(delta));
  Delta* raw = owned.get();
  // The publisher takes ownership once the message is queued. The pipe has
  // no high-water mark, so this fails only if the thread died.
  if (!pipe_.send(zmq::buffer(kCmdDelta), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
    spdlog::error("publisher: pipe refused delta {}", raw->version);
    return;
  }
  pipe_.send(zmq::buffer(&raw, sizeof raw), zmq::send_flags::none);
  owned.release();
}

void Publisher::mark_complete() {
  send_frames(pipe_, {kCmdComplete});
}

void Publisher::request_snapshot(const std::string& routing_id, bool delimiter) {
  send_frames(pipe_, {kCmdSnapshot, routing_id, delimiter ? "1" : "0"});
}

std::optional<AdminRelay> Publisher::receive_relay() {
  auto frames = receive_frames(pipe_, zmq::recv_flags::dontwait);
  if (frames.empty()) return std::nullopt;
  if (frames.size() != 4 || frames[0].to_string_view() != kMsgRelay) {
    spdlog::error("publisher: unexpected message on the pipe");
    return AdminRelay{};
  }
  AdminRelay relay;
  relay.routing_id = frames[1].to_string();
  relay.delimiter = frames[2].to_string_view() == "1";
  relay.body = std::move(frames[3]);
  return relay;
}

}  // namespace roster::broker
