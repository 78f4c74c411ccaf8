#include "publisher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <set>
#include <vector>

#include "delta_message.h"
#include "io_threads.h"
#include "record_store.h"
#include "roster/codec.h"
#include "socket_monitor.h"

namespace roster::broker {

namespace {

// Commands on the pipe, loop -> publisher (first frame).
constexpr std::string_view kCmdDelta = "D";     // [D, delta_message()]
constexpr std::string_view kCmdComplete = "C";  // [C]
// [S, routing id, delimiter flag, part_bytes in decimal or empty for one reply]
constexpr std::string_view kCmdSnapshot = "S";
constexpr std::string_view kCmdWake = "W";  // [W]
constexpr std::string_view kCmdTerminate = "$TERM";
// Messages on the pipe, publisher -> loop.
constexpr std::string_view kMsgReady = "READY";  // [READY, endpoint]
constexpr std::string_view kMsgError = "ERROR";  // [ERROR, message, exit status]
// [R, routing id, delimiter flag, body, ...]: the bodies of one admin
// reply, sent to the client in order as messages of their own.
constexpr std::string_view kMsgRelay = "R";

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
    store_.reset(initial);
    note_store();
  }

  // Connects the pipe, binds the XPUB, signals, and serves until $TERM.
  void run(const std::string& pipe_endpoint) {
    pipe_.set(zmq::sockopt::linger, 0);
    pipe_.set(zmq::sockopt::sndhwm, 0);
    pipe_.set(zmq::sockopt::rcvhwm, 0);
    pipe_.connect(pipe_endpoint);
    try {
      xpub_.set(zmq::sockopt::linger, 0);
      configure_bulk_socket(xpub_, options_.send_buffer_bytes);
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
        if (auto error = monitor_failures(xpub_, options_.monitor_endpoint, true)) {
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
        store_.set_complete(true);
        pacer_.trigger();
      } else if (command == kCmdSnapshot && frames.size() == 4) {
        reply_snapshot(frames[1].to_string_view(), frames[2].to_string_view(),
                       frames[3].to_string_view());
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
      std::string prefix(static_cast<const char*>(message.data()) + 1, message.size() - 1);
      const bool subscribe = bytes[0] == 1;
      if (subscribe) {
        counters_.subscriptions.fetch_add(1, std::memory_order_relaxed);
        spdlog::debug("publisher: subscription to '{}'", prefix);
      }
      if (!covers_snapshot_topic(prefix)) continue;
      // The XPUB passes every subscription but an unsubscription only when
      // no subscriber holds that prefix any more: a set of prefixes says
      // whether anyone wants snapshots.
      if (!subscribe) {
        snapshot_prefixes_.erase(prefix);
        continue;
      }
      snapshot_prefixes_.insert(std::move(prefix));
      pacer_.trigger();
    }
  }

  void run_timers(TimeMs now) {
    if (pacer_.due(now)) {
      if (!snapshot_prefixes_.empty()) {
        publish_snapshot(now);
      } else {
        // Nobody would receive it: the XPUB would drop it unsent.
        pacer_.published(now, 0);
        counters_.snapshots_skipped.fetch_add(1, std::memory_order_relaxed);
      }
    }
    if (next_beat_ <= now) {
      publish_beat(now);
      next_beat_ = now + static_cast<TimeMs>(options_.beat_interval_ms);
    }
  }

  void publish_delta(const Delta& delta) {
    std::string body;
    View::ApplyResult result = store_.apply(delta, &body);
    if (result != View::ApplyResult::kApplied) {
      counters_.view_errors.fetch_add(1, std::memory_order_relaxed);
      spdlog::error("publisher: delta {} (prev {}) does not continue the view at version {}",
                    delta.version, delta.prev_version, store_.version());
    }
    note_store();
    counters_.delta_bytes.fetch_add(body.size(), std::memory_order_relaxed);
    publish(kTopicDelta, body);
    counters_.deltas.fetch_add(1, std::memory_order_relaxed);
  }

  // A new encoding is held back while subscribers still hold the maximum
  // of earlier ones: queueing it would pin one more in every queue that is
  // not read. The cached one is sent again at no cost.
  void publish_snapshot(TimeMs now) {
    uint64_t held = counters_.state_snapshots_held.load(std::memory_order_acquire);
    if (!cache_fresh() && held >= kMaxHeldStateSnapshots) {
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
    if (!cache_.encoding->published.exchange(true, std::memory_order_acq_rel)) {
      counters_.state_snapshots_held.fetch_add(1, std::memory_order_acq_rel);
    }
    size_t bytes = body.size();
    publish(kTopicSnapshot, std::move(body));
    pacer_.published(now, bytes);
    counters_.snapshots.fetch_add(1, std::memory_order_relaxed);
    counters_.snapshot_bytes.fetch_add(bytes, std::memory_order_relaxed);
  }

  void publish_beat(TimeMs now) {
    Beat beat;
    beat.epoch = store_.epoch();
    beat.version = store_.version();
    beat.time_ms = static_cast<uint64_t>(now);
    publish(kTopicBeat, encode(beat));
    counters_.beats.fetch_add(1, std::memory_order_relaxed);
  }

  // The body frames share the cached encodings (no copy of the snapshot);
  // the loop moves them on into its ROUTER.
  void reply_snapshot(std::string_view routing_id, std::string_view delimiter,
                      std::string_view part_bytes) {
    std::vector<zmq::message_t> bodies;
    if (part_bytes.empty()) {
      bodies.push_back(encoded_snapshot(clock_.now_ms()));
    } else {
      bodies = encoded_parts(clock_.now_ms(),
                             std::strtoull(std::string(part_bytes).c_str(), nullptr, 10));
      counters_.admin_snapshot_parts.fetch_add(bodies.size() - 1, std::memory_order_relaxed);
    }
    send_frames(pipe_, {kMsgRelay, routing_id, delimiter}, /*more=*/true);
    for (size_t i = 0; i < bodies.size(); ++i) {
      pipe_.send(bodies[i],
                 i + 1 < bodies.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
    }
    counters_.admin_snapshots.fetch_add(1, std::memory_order_relaxed);
  }

  // The store encoded as a snapshot, at most once per version: an
  // unchanged store reuses its encoding whatever the time, so time_ms is
  // when it was built. Returns a message sharing the encoding's bytes
  // (reference-counted, no copy), usable on any socket and freed with its
  // last user.
  zmq::message_t encoded_snapshot(TimeMs now) {
    if (!cache_fresh()) {
      const auto started = std::chrono::steady_clock::now();
      std::string bytes = store_.snapshot(static_cast<uint64_t>(now));
      cache_ = Cached{store_.version(), store_.complete(), 0, {}, nullptr};
      cache_.encoding = keep(std::move(bytes), started, &cache_.messages);
    }
    zmq::message_t shared;
    shared.copy(cache_.messages.front());
    return shared;
  }

  // The store as snapshot parts and their end marker, built at most once
  // per version and part size, shared like encoded_snapshot()'s.
  std::vector<zmq::message_t> encoded_parts(TimeMs now, uint64_t part_bytes) {
    const uint64_t size = store_.effective_part_bytes(part_bytes);
    if (!parts_fresh(size)) {
      const auto started = std::chrono::steady_clock::now();
      std::vector<std::string> bodies = store_.parts(static_cast<uint64_t>(now), part_bytes);
      parts_ = Cached{store_.version(), store_.complete(), size, {}, nullptr};
      for (std::string& body : bodies) keep(std::move(body), started, &parts_.messages);
    }
    std::vector<zmq::message_t> shared(parts_.messages.size());
    for (size_t i = 0; i < shared.size(); ++i) shared[i].copy(parts_.messages[i]);
    return shared;
  }

  // Makes `bytes` an encoding shared by the messages that carry it, adds
  // one message for it to *messages, and counts the build begun at
  // `started`.
  Encoding* keep(std::string bytes, std::chrono::steady_clock::time_point started,
                 std::vector<zmq::message_t>* messages) {
    const auto took = std::chrono::steady_clock::now() - started;
    auto* encoding = new Encoding{std::move(bytes), shared_counters_};
    const size_t size = encoding->bytes.size();
    counters_.snapshot_bytes_held.fetch_add(size, std::memory_order_relaxed);
    counters_.snapshot_builds.fetch_add(1, std::memory_order_relaxed);
    counters_.snapshot_built_bytes.fetch_add(size, std::memory_order_relaxed);
    counters_.snapshot_build_us.fetch_add(
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(took).count()),
        std::memory_order_relaxed);
    if (options_.snapshot_encoded) {
      options_.snapshot_encoded(std::chrono::duration<double>(took).count());
    }
    messages->emplace_back(encoding->bytes.data(), size, free_encoding, encoding);
    return encoding;
  }

  bool cache_fresh() const {
    return !cache_.messages.empty() && cache_.version == store_.version() &&
           cache_.complete == store_.complete();
  }
  bool parts_fresh(uint64_t size) const {
    return !parts_.messages.empty() && parts_.version == store_.version() &&
           parts_.complete == store_.complete() && parts_.part_bytes == size;
  }

  void note_store() {
    counters_.record_store_bytes.store(store_.memory_bytes(), std::memory_order_relaxed);
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
  RecordStore store_;
  SnapshotPacer pacer_;
  // Prefixes covering roster.snapshot that some subscriber holds.
  std::set<std::string> snapshot_prefixes_;
  TimeMs next_beat_ = 0;
  std::optional<TimeMs> last_deferred_warning_;
  // The last build of the store: one snapshot, or parts and their end.
  struct Cached {
    uint64_t version = 0;
    bool complete = false;
    uint64_t part_bytes = 0;  // parts only: the effective part size
    // Own one reference to each encoding; empty before the first build.
    std::vector<zmq::message_t> messages;
    Encoding* encoding = nullptr;  // a snapshot's, for its published flag
  };
  Cached cache_;
  Cached parts_;
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
  // The thread's copy of `initial` is freed once the store holds it.
  auto copy = std::make_shared<Snapshot>(initial);
  publisher->thread_ =
      std::thread([&context, &clock, options, copy, counters, pipe_endpoint]() mutable {
        try {
          PublisherThread thread(context, clock, options, *copy, counters);
          copy.reset();
          thread.run(pipe_endpoint);
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

void Publisher::request_snapshot(const std::string& routing_id, bool delimiter,
                                 std::optional<uint64_t> part_bytes) {
  const std::string parts = part_bytes ? std::to_string(*part_bytes) : std::string();
  send_frames(pipe_, {kCmdSnapshot, routing_id, delimiter ? "1" : "0", parts});
}

void Publisher::wake() {
  send_frames(pipe_, {kCmdWake});
}

std::optional<AdminRelay> Publisher::receive_relay() {
  auto frames = receive_frames(pipe_, zmq::recv_flags::dontwait);
  if (frames.empty()) return std::nullopt;
  if (frames.size() < 4 || frames[0].to_string_view() != kMsgRelay) {
    spdlog::error("publisher: unexpected message on the pipe");
    return AdminRelay{};
  }
  AdminRelay relay;
  relay.routing_id = frames[1].to_string();
  relay.delimiter = frames[2].to_string_view() == "1";
  for (size_t i = 3; i < frames.size(); ++i) relay.bodies.push_back(std::move(frames[i]));
  return relay;
}

}  // namespace roster::broker
