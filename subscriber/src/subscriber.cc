// The Subscriber shell: sockets, the optional thread, decoding, and calling
// back. The logic lives in ViewSync (view_sync.h).
#include "roster/subscriber.h"

#include <spdlog/spdlog.h>

#include <zmq.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "curve_client.h"
#include "handshake_monitor.h"
#include "roster/clock.h"
#include "roster/codec.h"
#include "roster/enum_names.h"
#include "roster/snapshot_assembler.h"
#include "roster/utf8.h"
#include "view_sync.h"
#include "wake_fd.h"

namespace roster {

namespace {

// Messages handled per socket per process() call, so timers and the other
// socket get their turn under a flood.
constexpr int kMaxMessagesPerRound = 1000;
// Repeated warnings of one kind are logged at most this often.
constexpr TimeMs kWarnEveryMs = 10'000;
// Longest wait of the subscriber's own thread between timer checks.
constexpr TimeMs kMaxWaitMs = 1'000;

std::atomic<uint64_t> next_pipe_id{0};

}  // namespace

const char* to_string(ResyncReason reason) {
  static constexpr const char* kNames[] = {"initial", "gap", "epoch_change", "failover"};
  return enum_name(reason, kNames, static_cast<const char*>("unknown"));
}

class Subscriber::Impl {
 public:
  // Reads `clock`, or the system clock when it is null.
  Impl(SubscriberOptions options, SubscriberCallbacks callbacks, Clock* clock,
       std::optional<CurveClientKeys> curve)
      : options_(std::move(options)),
        brokers_(broker_list(options_)),
        callbacks_(std::move(callbacks)),
        curve_(std::move(curve)),
        clock_(clock != nullptr ? *clock : system_clock_),
        sync_(options_) {}

  ~Impl() {
    stop();
    // Monitors first: their sockets must close before the context ends.
    sub_monitor_.reset();
    admin_monitor_.reset();
    sub_.close();
    admin_.reset();
    context_.close();
  }

  // Connects the SUB to the first broker, subscribes, then asks for the
  // first snapshot.
  bool open(std::string* error) {
    try {
      // Checks every endpoint now, so a typo is an error, not a retry loop.
      for (const BrokerChannels& broker : brokers_) {
        for (const std::string* endpoint : {&broker.state_endpoint, &broker.admin_endpoint}) {
          zmq::socket_t probe(context_, zmq::socket_type::dealer);
          probe.set(zmq::sockopt::linger, 0);
          probe.connect(*endpoint);
        }
      }
      connect_state(brokers_.front().state_endpoint);
    } catch (const zmq::error_t& e) {
      if (error) *error = std::string("cannot connect: ") + e.what();
      return false;
    }
    if (!wake_.open(error)) return false;
    if (!wake_.add(sub_.get(zmq::sockopt::fd)) ||
        !wake_.add(sub_monitor_->events().get(zmq::sockopt::fd))) {
      if (error) *error = "cannot watch the state socket's descriptor";
      return false;
    }
    subscriber::SyncOutput out;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      sync_.start(clock_.now_ms(), out);
    }
    act(out);
    return true;
  }

  bool start() {
    if (thread_.joinable()) return false;
    const std::string pipe_endpoint =
        "inproc://roster-subscriber-" + std::to_string(next_pipe_id.fetch_add(1));
    pipe_worker_ = zmq::socket_t(context_, zmq::socket_type::pair);
    pipe_worker_.set(zmq::sockopt::linger, 0);
    pipe_worker_.bind(pipe_endpoint);
    pipe_control_ = zmq::socket_t(context_, zmq::socket_type::pair);
    pipe_control_.set(zmq::sockopt::linger, 0);
    pipe_control_.connect(pipe_endpoint);
    thread_ = std::thread([this] { run(); });
    return true;
  }

  void stop() {
    if (!thread_.joinable()) return;
    pipe_control_.send(zmq::str_buffer("$TERM"), zmq::send_flags::none);
    thread_.join();
    pipe_control_.close();
    pipe_worker_.close();
  }

  void poll_once(std::chrono::milliseconds max_wait) {
    auto items = pollitems();
    const auto wait = std::min(max_wait, next_timeout());
    try {
      zmq::poll(items, wait);
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;
      return;
    }
    process();
  }

  int fd() const { return wake_.fd(); }

  std::chrono::milliseconds next_timeout() const {
    TimeMs deadline;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      deadline = sync_.next_deadline();
    }
    if (sub_reconnect_at_) deadline = std::min(deadline, *sub_reconnect_at_);
    const TimeMs now = clock_.now_ms();
    const TimeMs wait = deadline <= now ? 0 : std::min(deadline - now, kMaxWaitMs);
    return std::chrono::milliseconds(wait);
  }

  bool process() {
    for (int i = 0; i < kMaxMessagesPerRound; ++i) {
      if (!receive_state()) break;
    }
    for (int i = 0; i < kMaxMessagesPerRound && admin_; ++i) {
      if (!receive_admin()) break;
    }
    check_handshakes();
    subscriber::SyncOutput out;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      sync_.tick(clock_.now_ms(), out);
    }
    act(out);
    // Last, after every send and receive: reading ZMQ_EVENTS re-arms the
    // sockets' notification descriptors, so what it does not report now
    // will make fd() readable.
    return readable(sub_) || (admin_ && readable(*admin_));
  }

  View view() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sync_.view();
  }
  bool stale() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sync_.stale();
  }
  bool synced() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sync_.synced();
  }
  SubscriberStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    SubscriberStats stats = sync_.stats();
    stats.bad_messages = bad_messages_;
    stats.replaced_strings = replaced_strings_;
    stats.auth_failures = auth_failures_;
    return stats;
  }
  BrokerChannels following() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return brokers_[sync_.following()];
  }

 private:
  // The sockets, for zmq::poll (which, unlike fd(), is level-triggered).
  std::vector<zmq::pollitem_t> pollitems() {
    std::vector<zmq::pollitem_t> items;
    items.push_back({sub_.handle(), 0, ZMQ_POLLIN, 0});
    if (admin_) items.push_back({admin_->handle(), 0, ZMQ_POLLIN, 0});
    items.push_back({sub_monitor_->events().handle(), 0, ZMQ_POLLIN, 0});
    if (admin_monitor_) items.push_back({admin_monitor_->events().handle(), 0, ZMQ_POLLIN, 0});
    return items;
  }

  static bool readable(zmq::socket_t& socket) {
    return (socket.get(zmq::sockopt::events) & ZMQ_POLLIN) != 0;
  }

  // The subscriber's own thread: poll the pipe and the sockets until $TERM.
  void run() {
    while (true) {
      std::vector<zmq::pollitem_t> items = pollitems();
      items.push_back({pipe_worker_.handle(), 0, ZMQ_POLLIN, 0});
      try {
        zmq::poll(items, next_timeout());
      } catch (const zmq::error_t& e) {
        if (e.num() != EINTR) throw;
        continue;
      }
      if (items.back().revents & ZMQ_POLLIN) return;
      process();
    }
  }

  // Reads one message from the SUB; false when none is waiting.
  bool receive_state() {
    std::vector<zmq::message_t> frames;
    if (!receive_all(sub_, frames)) return false;
    if (frames.size() != 2) {
      drop("state", "a state message of " + std::to_string(frames.size()) + " frames");
      return true;
    }
    const std::string_view topic(static_cast<const char*>(frames[0].data()), frames[0].size());
    const std::string_view body(static_cast<const char*>(frames[1].data()), frames[1].size());
    subscriber::SyncOutput out;
    if (topic == kTopicDelta) {
      auto delta = decode_delta(body);
      if (!delta.ok()) return drop("delta", delta.error().message);
      count_replaced("delta", delta.replaced_strings());
      std::lock_guard<std::mutex> lock(mutex_);
      sync_.on_delta(delta.value(), clock_.now_ms(), out);
    } else if (topic == kTopicBeat) {
      auto beat = decode_beat(body);
      if (!beat.ok()) return drop("beat", beat.error().message);
      std::lock_guard<std::mutex> lock(mutex_);
      sync_.on_beat(beat.value(), clock_.now_ms(), out);
    } else if (topic == kTopicSnapshot) {
      auto snapshot = decode_snapshot(body);
      if (!snapshot.ok()) return drop("snapshot", snapshot.error().message);
      count_replaced("snapshot", snapshot.replaced_strings());
      std::lock_guard<std::mutex> lock(mutex_);
      sync_.on_published_snapshot(snapshot.value(), clock_.now_ms(), out);
    } else {
      return true;  // a topic of a later protocol: ignored
    }
    act(out);
    return true;
  }

  // Reads one reply from the admin DEALER; false when none is waiting.
  bool receive_admin() {
    std::vector<zmq::message_t> frames;
    if (!receive_all(*admin_, frames)) return false;
    // A REQ-style empty delimiter may precede the body.
    while (frames.size() > 1 && frames.front().size() == 0) frames.erase(frames.begin());
    if (frames.size() != 1) return drop("admin", "an admin reply of several frames");
    // The rest of a reply whose assembly failed (or an extra one) is ignored.
    if (assembler_.status() != SnapshotAssembler::Status::kMore) return true;
    const size_t replaced = assembler_.replaced_strings();
    const SnapshotAssembler::Status status = assembler_.add(frames[0].to_string_view());
    count_replaced("snapshot reply", assembler_.replaced_strings() - replaced);
    if (status == SnapshotAssembler::Status::kMore) return true;
    subscriber::SyncOutput out;
    if (status == SnapshotAssembler::Status::kDone) {
      const Snapshot snapshot = assembler_.take();
      std::lock_guard<std::mutex> lock(mutex_);
      sync_.on_admin_snapshot(snapshot, clock_.now_ms(), out);
    } else if (const auto& err = assembler_.refusal()) {
      warn("admin_error", "snapshot request refused: " + std::string(to_string(err->code)) + ": " +
                              escape_for_terminal(err->message));
      std::lock_guard<std::mutex> lock(mutex_);
      sync_.on_admin_error(clock_.now_ms(), out);
    } else {
      // Counted and dropped. A broken reply in parts is dropped whole (the
      // rest of it is ignored) and the request is retried when it times
      // out; a single bad body leaves room for a good reply after it.
      const std::string why = assembler_.error();
      if (assembler_.parts() == 0) assembler_ = SnapshotAssembler();
      return drop("admin", why);
    }
    act(out);
    return true;
  }

  // Receives every frame of one message without blocking.
  static bool receive_all(zmq::socket_t& socket, std::vector<zmq::message_t>& frames) {
    while (true) {
      zmq::message_t frame;
      if (!socket.recv(frame, zmq::recv_flags::dontwait)) return !frames.empty();
      const bool more = frame.more();
      frames.push_back(std::move(frame));
      if (!more) return true;
    }
  }

  // Counts and logs (rate-limited) a message that cannot be used. Returns
  // true: the caller goes on with the next message.
  bool drop(const std::string& kind, const std::string& why) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++bad_messages_;
    }
    warn("bad_" + kind, "dropped " + kind + " message: " + why);
    return true;
  }

  // Counts strings the decoder repaired (ill-formed UTF-8 from the broker)
  // and says so, rate-limited.
  void count_replaced(const std::string& kind, size_t replaced) {
    if (replaced == 0) return;
    uint64_t total = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      replaced_strings_ += replaced;
      total = replaced_strings_;
    }
    warn("utf8", "replaced invalid UTF-8 in " + std::to_string(replaced) +
                     " strings from the broker (in a " + kind + "; " + std::to_string(total) +
                     " so far)");
  }

  void warn(const std::string& kind, const std::string& text) {
    const TimeMs now = clock_.now_ms();
    auto [it, first] = last_warned_.try_emplace(kind, now);
    if (!first && now - it->second < kWarnEveryMs) return;
    it->second = now;
    spdlog::warn("roster subscriber: {}", text);
  }

  // The brokers to follow: options.brokers, or the single broker of
  // options.state_endpoint and options.admin_endpoint.
  static std::vector<BrokerChannels> broker_list(const SubscriberOptions& options) {
    if (!options.brokers.empty()) return options.brokers;
    return {BrokerChannels{options.state_endpoint, options.admin_endpoint}};
  }

  // The broker the core follows now. Only this thread changes sync_.
  const BrokerChannels& current() const { return brokers_[sync_.following()]; }

  // (Re)creates the SUB socket and its handshake monitor, connected to
  // `endpoint` and subscribed. Throws zmq::error_t on a bad endpoint.
  void connect_state(const std::string& endpoint) {
    sub_monitor_.reset();
    sub_ = zmq::socket_t(context_, zmq::socket_type::sub);
    sub_.set(zmq::sockopt::linger, 0);
    sub_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxStateBodyBytes));
    if (options_.receive_hwm > 0) sub_.set(zmq::sockopt::rcvhwm, options_.receive_hwm);
    if (options_.receive_buffer_bytes > 0) {
      sub_.set(zmq::sockopt::rcvbuf, options_.receive_buffer_bytes);
    }
    sub_.set(zmq::sockopt::subscribe, std::string(kTopicPrefix));
    if (curve_) apply_curve_client(sub_, *curve_);
    sub_monitor_.emplace(context_, sub_, curve_.has_value());
    sub_.connect(endpoint);
  }

  // Follows the broker the core chose: fresh sockets, so nothing queued by
  // or for the broker left behind is read or delivered later.
  void switch_broker() {
    const BrokerChannels& next = current();
    warn("failover", "the followed broker went silent; following the broker at " +
                         next.state_endpoint + " / " + next.admin_endpoint);
    if (admin_monitor_) {
      wake_.remove(admin_monitor_->events().get(zmq::sockopt::fd));
      admin_monitor_.reset();
    }
    if (admin_) wake_.remove(admin_->get(zmq::sockopt::fd));
    admin_.reset();
    wake_.remove(sub_.get(zmq::sockopt::fd));
    wake_.remove(sub_monitor_->events().get(zmq::sockopt::fd));
    // The endpoints were checked by open(), so this cannot throw.
    connect_state(next.state_endpoint);
    // A new broker: its handshakes start a new run.
    sub_reconnect_at_.reset();
    sub_reconnect_delay_ms_ = options_.snapshot_timeout_ms;
    sub_failing_ = false;
    admin_failing_ = false;
    if (!wake_.add(sub_.get(zmq::sockopt::fd)) ||
        !wake_.add(sub_monitor_->events().get(zmq::sockopt::fd))) {
      warn("wake_fd", "cannot watch the state socket's descriptors");
    }
  }

  // Reads both sockets' handshake events: counts each failure, reports the
  // first of a run (on_auth_failure, an error line at most every
  // kWarnEveryMs), and reconnects the SUB after a refused key, which libzmq
  // does not retry by itself. The admin socket is replaced by each snapshot
  // request retry anyway.
  void check_handshakes() {
    const TimeMs now = clock_.now_ms();
    if (auto failure = sub_monitor_->take_failure()) {
      on_handshake_failure(*failure, sub_failing_);
      if (failure->kind == HandshakeFailure::Kind::kRefused && !sub_reconnect_at_) {
        sub_reconnect_at_ = now + static_cast<TimeMs>(sub_reconnect_delay_ms_);
        sub_reconnect_delay_ms_ =
            std::min(sub_reconnect_delay_ms_ * 2, options_.snapshot_timeout_ms * 16);
      }
    } else if (sub_monitor_->succeeded()) {
      sub_failing_ = false;
      sub_reconnect_delay_ms_ = options_.snapshot_timeout_ms;
    }
    if (admin_monitor_) {
      if (auto failure = admin_monitor_->take_failure()) {
        on_handshake_failure(*failure, admin_failing_);
      } else if (admin_monitor_->succeeded()) {
        admin_failing_ = false;
      }
    }
    if (sub_reconnect_at_ && now >= *sub_reconnect_at_) {
      sub_reconnect_at_.reset();
      try {
        sub_.disconnect(current().state_endpoint);
      } catch (const zmq::error_t&) {
        // libzmq already dropped the refused connection.
      }
      try {
        sub_.connect(current().state_endpoint);
      } catch (const zmq::error_t& e) {
        warn("reconnect", std::string("cannot reconnect the state socket: ") + e.what());
      }
    }
  }

  void on_handshake_failure(const HandshakeFailure& failure, bool& failing) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++auth_failures_;
    }
    const std::string text = failure.describe();
    const TimeMs now = clock_.now_ms();
    auto [it, first] = last_warned_.try_emplace("auth", now);
    if (first || now - it->second >= kWarnEveryMs) {
      it->second = now;
      spdlog::error("roster subscriber: {}", text);
    }
    if (failing) return;
    failing = true;
    if (callbacks_.on_auth_failure) callbacks_.on_auth_failure(text);
  }

  // Sends what the core asked for, then calls back with no lock held.
  void act(subscriber::SyncOutput& out) {
    if (out.switch_broker) switch_broker();
    if (out.request_snapshot) send_snapshot_request();
    for (const auto& event : out.events) {
      if (auto* change = std::get_if<NodeChange>(&event)) {
        if (callbacks_.on_change) callbacks_.on_change(*change);
      } else if (auto* resync = std::get_if<subscriber::ResyncEvent>(&event)) {
        // Only this thread changes sync_, so reading it unlocked is safe.
        if (callbacks_.on_resync) callbacks_.on_resync(sync_.view(), resync->reason);
      } else if (auto* stale = std::get_if<subscriber::StaleEvent>(&event)) {
        if (callbacks_.on_stale) callbacks_.on_stale(stale->stale);
      }
    }
  }

  // A fresh DEALER per request: a request queued to a dead broker is
  // dropped with its socket instead of being delivered later as a backlog.
  void send_snapshot_request() {
    if (admin_monitor_) {
      // Events of the old socket still count.
      if (auto failure = admin_monitor_->take_failure()) {
        on_handshake_failure(*failure, admin_failing_);
      }
      wake_.remove(admin_monitor_->events().get(zmq::sockopt::fd));
      admin_monitor_.reset();
    }
    if (admin_) wake_.remove(admin_->get(zmq::sockopt::fd));
    admin_.reset();
    admin_ = std::make_unique<zmq::socket_t>(context_, zmq::socket_type::dealer);
    admin_->set(zmq::sockopt::linger, 0);
    admin_->set(zmq::sockopt::sndhwm, 1);
    admin_->set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxStateBodyBytes));
    if (curve_) apply_curve_client(*admin_, *curve_);
    admin_monitor_.emplace(context_, *admin_, curve_.has_value());
    admin_->connect(current().admin_endpoint);
    if (!wake_.add(admin_monitor_->events().get(zmq::sockopt::fd))) {
      warn("wake_fd", "cannot watch the admin socket's handshake events");
    }
    if (!wake_.add(admin_->get(zmq::sockopt::fd))) {
      // The reply is still read when process() runs for a timer.
      warn("wake_fd", "cannot watch the admin socket's descriptor");
    }
    // In parts (snapshot_parts.h): no single message of a huge snapshot.
    assembler_ = SnapshotAssembler();
    const std::string request = encode(AdminRequest{SnapshotQuery{kClientPartBytes}});
    if (!admin_->send(zmq::buffer(request), zmq::send_flags::dontwait)) {
      warn("admin_send", "cannot queue a snapshot request to " + current().admin_endpoint);
    }
  }

  const SubscriberOptions options_;
  // At least one; the core's following() indexes it.
  const std::vector<BrokerChannels> brokers_;
  const SubscriberCallbacks callbacks_;
  // The CURVE keys of both sockets; nullopt: plaintext.
  const std::optional<CurveClientKeys> curve_;
  SystemClock system_clock_;
  Clock& clock_;
  // Guards sync_ and the counters against readers on other threads; only
  // the processing thread writes them.
  mutable std::mutex mutex_;
  subscriber::ViewSync sync_;
  // Puts together the reply to the pending snapshot request.
  SnapshotAssembler assembler_;
  uint64_t bad_messages_ = 0;
  uint64_t replaced_strings_ = 0;
  uint64_t auth_failures_ = 0;
  std::map<std::string, TimeMs> last_warned_;
  // A run of failed handshakes on each connection is reported once.
  bool sub_failing_ = false;
  bool admin_failing_ = false;
  // After a refused key: when to reconnect the SUB, and the next wait.
  std::optional<TimeMs> sub_reconnect_at_;
  uint64_t sub_reconnect_delay_ms_ = options_.snapshot_timeout_ms;

  zmq::context_t context_;
  zmq::socket_t sub_;
  std::unique_ptr<zmq::socket_t> admin_;
  // Declared after the sockets they watch; reset before them (~Impl).
  std::optional<HandshakeMonitor> sub_monitor_;
  std::optional<HandshakeMonitor> admin_monitor_;
  // Readable while a socket may have work; see Subscriber::fd().
  subscriber::WakeFd wake_;
  zmq::socket_t pipe_worker_;
  zmq::socket_t pipe_control_;
  std::thread thread_;
};

std::unique_ptr<Subscriber> Subscriber::create(SubscriberOptions options,
                                               SubscriberCallbacks callbacks, std::string* error) {
  return create_with(std::move(options), std::move(callbacks), nullptr, error);
}

std::unique_ptr<Subscriber> Subscriber::create(SubscriberOptions options,
                                               SubscriberCallbacks callbacks, Clock& clock,
                                               std::string* error) {
  return create_with(std::move(options), std::move(callbacks), &clock, error);
}

std::unique_ptr<Subscriber> Subscriber::create_with(SubscriberOptions options,
                                                    SubscriberCallbacks callbacks, Clock* clock,
                                                    std::string* error) {
  if (options.beat_interval_ms == 0 || options.stale_after_beats == 0 ||
      options.snapshot_timeout_ms == 0) {
    if (error) *error = "beat_interval_ms, stale_after_beats and snapshot_timeout_ms must be > 0";
    return nullptr;
  }
  std::string curve_error;
  auto curve = resolve_curve_client(options.curve, &curve_error);
  if (!curve_error.empty()) {
    if (error) *error = curve_error;
    return nullptr;
  }
  auto impl =
      std::make_unique<Impl>(std::move(options), std::move(callbacks), clock, std::move(curve));
  if (!impl->open(error)) return nullptr;
  return std::unique_ptr<Subscriber>(new Subscriber(std::move(impl)));
}

Subscriber::Subscriber(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Subscriber::~Subscriber() = default;

bool Subscriber::start() {
  return impl_->start();
}
void Subscriber::stop() {
  impl_->stop();
}
void Subscriber::poll_once(std::chrono::milliseconds max_wait) {
  impl_->poll_once(max_wait);
}
int Subscriber::fd() const {
  return impl_->fd();
}
std::chrono::milliseconds Subscriber::next_timeout() const {
  return impl_->next_timeout();
}
bool Subscriber::process() {
  return impl_->process();
}
View Subscriber::view() const {
  return impl_->view();
}
bool Subscriber::stale() const {
  return impl_->stale();
}
bool Subscriber::synced() const {
  return impl_->synced();
}
SubscriberStats Subscriber::stats() const {
  return impl_->stats();
}
BrokerChannels Subscriber::following() const {
  return impl_->following();
}

}  // namespace roster
