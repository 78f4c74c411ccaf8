#include "publisher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

#include "delta_message.h"
#include "roster/codec.h"
#include "roster/view.h"
#include "socket_monitor.h"

namespace roster::broker {

namespace {

// Commands on the pipe, loop -> publisher (first frame).
constexpr std::string_view kCmdDelta = "D";     // [D, delta_message()]
constexpr std::string_view kCmdComplete = "C";  // [C]
constexpr std::string_view kCmdSnapshot = "S";  // [S, routing id, delimiter flag]
constexpr std::string_view kCmdWake = "W";      // [W]
constexpr std::string_view kCmdTerminate = "$TERM";
// Messages on the pipe, publisher -> loop.
constexpr std::string_view kMsgReady = "READY";  // [READY, endpoint]
constexpr std::string_view kMsgError = "ERROR";  // [ERROR, message, exit status]
constexpr std::string_view kMsgRelay = "R";      // [R, routing id, delimiter flag, body]

// Subscription messages are one byte plus a topic prefix; nothing longer is
// worth reading.
constexpr int64_t kMaxSubscriptionBytes = 64 * 1024 + 1024;
// Messages queued per subscriber before the XPUB drops (versions let
// subscribers notice). A subscriber that reads keeps this queue near empty
// (its own receive queue takes bursts); one that does not read holds at
// most this many deltas and beats (snapshots: see kMaxHeldStateSnapshots).
constexpr int kPublishHwm = 1'000;
// A subscriber whose TCP receive window stays shut this long (it reads
// nothing) is disconnected by the kernel (TCP_USER_TIMEOUT), which frees
// everything queued for it. It reconnects and resyncs if it is alive.
constexpr int kPublishTcpMaxRtMs = 30'000;
// How often the warning about held-back snapshots may be logged.
constexpr TimeMs kDeferredWarningMs = 30'000;
// An encoded snapshot is reused for this long while the view is unchanged.
constexpr TimeMs kSnapshotCacheMs = 100;

std::atomic<uint64_t> next_pipe_id{0};

// One snapshot encoding, shared by every message that carries it and freed
// with the last (on whichever thread drops it).
struct Encoding {
  std::string bytes;
  std::shared_ptr<PublisherCounters> counters;
  // Sent on the state channel (counted in state_snapshots_held).
  std::atomic<bool> published{false};
};

void free_encoding(void*, void* hint) {
  auto* encoding = static_cast<Encoding*>(hint);
  PublisherCounters& counters = *encoding->counters;
  counters.snapshot_bytes_held.fetch_sub(encoding->bytes.size(), std::memory_order_relaxed);
  if (encoding->published.load(std::memory_order_acquire)) {
    counters.state_snapshots_held.fetch_sub(1, std::memory_order_release);
  }
  delete encoding;
}

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
                  const Snapshot& initial, std::shared_ptr<PublisherCounters> counters)
      : clock_(clock),
        options_(options),
        shared_counters_(std::move(counters)),
        counters_(*shared_counters_),
        pipe_(context, zmq::socket_type::pair),
        xpub_(context, zmq::socket_type::xpub),
        pacer_(options_.pacing, clock.now_ms()) {
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
      xpub_.set(zmq::sockopt::tcp_maxrt, kPublishTcpMaxRtMs);
      xpub_.set(zmq::sockopt::maxmsgsize, kMaxSubscriptionBytes);
      if (!options_.curve_secret_key.empty()) {
        xpub_.set(zmq::sockopt::curve_server, 1);
        xpub_.set(zmq::sockopt::curve_secretkey, options_.curve_secret_key);
        xpub_.set(zmq::sockopt::zap_domain, options_.zap_domain);
      }
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
    zmq::pollitem_t items[] = {{pipe_.handle(), 0, ZMQ_POLLIN, 0},
                               {xpub_.handle(), 0, ZMQ_POLLIN, 0}};
    while (true) {
      now = clock_.now_ms();
      TimeMs wake = next_beat_;
      if (auto due = pacer_.next_due()) wake = std::min(wake, *due);
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
      if (command == kCmdDelta && frames.size() == 2 && delta_in(frames[1])) {
        publish_delta(*delta_in(frames[1]));  // the delta is freed with frames
      } else if (command == kCmdComplete) {
        view_.set_complete(true);
        pacer_.trigger();
      } else if (command == kCmdSnapshot && frames.size() == 3) {
        reply_snapshot(frames[1].to_string_view(), frames[2].to_string_view());
      } else if (command == kCmdWake) {
        // Nothing more: the timers run once the pipe is drained.
      } else if (command == kCmdTerminate) {
        return false;
      } else {
        spdlog::error("publisher: unexpected command '{}' on the pipe", command);
      }
    }
  }

  void drain_subscriptions() {
    while (true) {
      zmq::message_t message;
      if (!xpub_.recv(message, zmq::recv_flags::dontwait)) return;
      if (message.size() == 0) continue;
      const auto* bytes = static_cast<const unsigned char*>(message.data());
      if (bytes[0] != 1) continue;  // unsubscription
      counters_.subscriptions.fetch_add(1, std::memory_order_relaxed);
      std::string_view prefix(static_cast<const char*>(message.data()) + 1, message.size() - 1);
      spdlog::debug("publisher: subscription to '{}'", prefix);
      if (covers_snapshot_topic(prefix)) pacer_.trigger();
    }
  }

  void run_timers(TimeMs now) {
    if (pacer_.due(now)) publish_snapshot(now);
    if (next_beat_ <= now) {
      publish_beat(now);
      next_beat_ = now + static_cast<TimeMs>(options_.beat_interval_ms);
    }
  }

  void publish_delta(const Delta& delta) {
    View::ApplyResult result = view_.apply(delta);
    if (result != View::ApplyResult::kApplied) {
      counters_.view_errors.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("publisher: delta {} (prev {}) does not continue the view at version {}",
                    delta.version, delta.prev_version, view_.version());
    }
    publish(kTopicDelta, encode(delta));
    counters_.deltas.fetch_add(1, std::memory_order_relaxed);
  }

  // A new encoding is held back while subscribers still hold the maximum
  // of earlier ones: queueing it would pin one more in every queue that is
  // not read. The cached one is sent again at no cost.
  void publish_snapshot(TimeMs now) {
    uint64_t held = counters_.state_snapshots_held.load(std::memory_order_acquire);
    if (!cache_fresh(now) && held >= kMaxHeldStateSnapshots) {
      pacer_.deferred(now);
      counters_.snapshots_deferred.fetch_add(1, std::memory_order_relaxed);
      if (!last_deferred_warning_ || now - *last_deferred_warning_ >= kDeferredWarningMs) {
        last_deferred_warning_ = now;
        spdlog::warn(
            "publisher: snapshot held back: {} earlier snapshots ({} MiB in all) are still queued "
            "for a subscriber that does not read; retrying every {} ms",
            held, counters_.snapshot_bytes_held.load(std::memory_order_relaxed) >> 20,
            options_.pacing.retry_ms);
      }
      return;
    }
    zmq::message_t body = encoded_snapshot(now);
    if (!cache_->published.exchange(true, std::memory_order_acq_rel)) {
      counters_.state_snapshots_held.fetch_add(1, std::memory_order_acq_rel);
    }
    size_t bytes = body.size();
    publish(kTopicSnapshot, std::move(body));
    pacer_.published(now, bytes);
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
    if (!cache_fresh(now)) {
      // Straight from the view's records: no copy of them into a Snapshot.
      SnapshotHeader header{view_.epoch(), view_.version(), view_.complete(),
                            static_cast<uint64_t>(now)};
      auto* encoding = new Encoding{encode_snapshot(header, view_.nodes()), shared_counters_};
      counters_.snapshot_bytes_held.fetch_add(encoding->bytes.size(), std::memory_order_relaxed);
      cache_message_ =
          zmq::message_t(encoding->bytes.data(), encoding->bytes.size(), free_encoding, encoding);
      cache_ = encoding;
      cache_version_ = view_.version();
      cache_complete_ = view_.complete();
      cache_time_ = now;
    }
    zmq::message_t shared;
    shared.copy(cache_message_);
    return shared;
  }

  bool cache_fresh(TimeMs now) const {
    return cache_ && cache_version_ == view_.version() && cache_complete_ == view_.complete() &&
           now - cache_time_ < kSnapshotCacheMs;
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
  std::shared_ptr<PublisherCounters> shared_counters_;
  PublisherCounters& counters_;
  zmq::socket_t pipe_;
  zmq::socket_t xpub_;
  View view_;
  SnapshotPacer pacer_;
  TimeMs next_beat_ = 0;
  std::optional<TimeMs> last_deferred_warning_;
  // The last encoding (owned by cache_message_, null before the first).
  zmq::message_t cache_message_;
  Encoding* cache_ = nullptr;
  uint64_t cache_version_ = 0;
  bool cache_complete_ = false;
  TimeMs cache_time_ = 0;
};

}  // namespace

Publisher::Publisher(zmq::context_t& context, std::string pipe_endpoint)
    : pipe_(context, zmq::socket_type::pair), counters_(std::make_shared<PublisherCounters>()) {
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
  std::shared_ptr<PublisherCounters> counters = publisher->counters_;
  publisher->thread_ = std::thread([&context, &clock, options, initial, counters, pipe_endpoint] {
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
  const uint64_t version = delta.version;
  // The message owns the delta wherever it ends: read by the publisher, or
  // dropped unsent or unread. The pipe has no high-water mark, so sending
  // fails only if the thread died.
  zmq::message_t message = delta_message(std::move(delta));
  if (!pipe_.send(zmq::buffer(kCmdDelta), zmq::send_flags::sndmore | zmq::send_flags::dontwait)) {
    spdlog::error("publisher: pipe refused delta {}", version);
    return;
  }
  pipe_.send(message, zmq::send_flags::none);
}

void Publisher::mark_complete() {
  send_frames(pipe_, {kCmdComplete});
}

void Publisher::request_snapshot(const std::string& routing_id, bool delimiter) {
  send_frames(pipe_, {kCmdSnapshot, routing_id, delimiter ? "1" : "0"});
}

void Publisher::wake() {
  send_frames(pipe_, {kCmdWake});
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
