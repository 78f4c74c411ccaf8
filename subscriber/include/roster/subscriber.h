// The controller-side subscriber: keeps a copy of the broker's membership
// view up to date from the state channel, by the Clone pattern of
// docs/PROTOCOL.md. It subscribes first (SUB to the state endpoint, topic
// "roster."), then asks the admin channel for a snapshot (DEALER to the
// admin endpoint), keeps the deltas that arrive meanwhile and applies only
// those above the snapshot's version.
//
// It resyncs from a fresh snapshot (admin request, retried on timeout; a
// snapshot published on the state channel is accepted too) when it finds
// - a gap: a delta whose prev_version is not the view's version, or a beat
//   whose version is ahead of the view with no delta to explain it;
// - an epoch change: a delta, beat or snapshot of another epoch (the broker
//   restarted).
// After a broker restart the new epoch's snapshots say complete: false while
// the broker warms up; a node the controller learnt in an earlier epoch that
// such a snapshot lacks is not reported removed then: it is held over (not
// in view()) and reported removed only if the view becomes complete
// without it (a delta or snapshot of the new epoch that names it makes it
// the new epoch's). A node learnt in the snapshot's own epoch that the
// snapshot lacks is reported removed at once, complete or not: that broker
// forgot it while the subscriber missed deltas.
// With CURVE (SubscriberOptions::curve) both connections are CURVE clients
// of the broker; a handshake the broker refuses (or that fails) is reported
// as an authentication failure (on_auth_failure, stats().auth_failures),
// not left to look like an unreachable broker, and retried with backoff.
// It reports the view stale when nothing arrives on the state channel for
// `stale_after_beats` beat intervals, and fresh again when messages return.
//
// Redundant brokers (SubscriberOptions::brokers, two or more): it follows
// one broker at a time, the first listed at start. When that one is silent
// for `stale_after_beats` beat intervals it fails over: it follows the next
// (in list order, wrapping around) and resyncs from that broker's snapshot
// (ResyncReason::kFailover). Brokers that observe the same agents hold the
// same membership under different epochs, so the resync reports only real
// differences: a record that differs only in since_ms (each broker saw the
// node enter its state at its own time) is taken silently, and nodes
// missing from a warming-up (complete: false) snapshot are held over as
// after a restart. The view stays readable throughout. on_stale(true) fires
// only when every listed broker in turn was silent for a whole window
// (no state message, and no reply to the snapshot request: no broker
// reachable); after that each window doubles, up to 8 times
// stale_after_beats, so a dead pair costs few reconnects. Following is
// sticky: once on a broker it stays there, even when an earlier-listed one
// comes back, until this one goes silent (no flapping between two healthy
// brokers).
// A buggy or hostile broker cannot stop it: an undecodable message is
// dropped and counted; a string that is not valid UTF-8 is kept with U+FFFD
// in place of the ill-formed bytes, counted and warned about (stats()).
//
// Two ways to run it, pick one per subscriber:
// - its own thread: start() ... stop();
// - polled from the caller's loop: poll_once(), or fd() in your own
//   poll/epoll loop + process() (see fd()).
//
// Callbacks (on_change, on_resync, on_stale, on_auth_failure) are called from one thread
// only, never concurrently: the subscriber's thread after start(), or the
// thread calling poll_once()/process(). They run with no lock held, so they
// may call view(), stale(), synced() and stats(); they must not call
// start(), stop(), poll_once() or process(), and must not throw. A slow
// callback delays the subscriber (and may make it miss deltas, which it
// then repairs by a resync).
//
// ZeroMQ is a private dependency: this header names no ZeroMQ type.
//
// Thread safety: view(), stale(), synced() and stats() may be called from
// any thread at any time. Everything else must be called from one thread at
// a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "roster/clock.h"
#include "roster/curve_client_options.h"
#include "roster/protocol.h"
#include "roster/view.h"

namespace roster {

// One node's record changed in the view.
struct NodeChange {
  // The record before the change; nullopt when the node was not in the view.
  std::optional<NodeRecord> old;
  // The record after the change; state kRemoved when the node left the view
  // (then only node and inc are meaningful).
  NodeRecord record;
  uint64_t epoch = 0;
  uint64_t version = 0;      // the view's version with this change applied
  uint64_t time_ms = 0;      // broker's Unix ms of the delta or snapshot
  bool from_resync = false;  // found by comparing the view with a new snapshot
};

// Why the view was replaced by a snapshot.
enum class ResyncReason : uint8_t {
  kInitial,      // the first snapshot after start
  kGap,          // deltas were missed (prev_version mismatch, beat ahead,
                 // or a newer snapshot published on the state channel)
  kEpochChange,  // the broker's state lineage changed (restart)
  kFailover,     // the followed broker went silent; the next one's snapshot
};

// Wire-like spelling: "initial", "gap", "epoch_change", "failover".
const char* to_string(ResyncReason reason);

// Counters, for monitoring and tests. All grow monotonically, except
// broker_index.
struct SubscriberStats {
  uint64_t deltas_applied = 0;
  uint64_t deltas_old = 0;  // already contained in the view, ignored
  uint64_t gaps = 0;        // prev_version mismatches and beats ahead
  uint64_t epoch_changes = 0;
  uint64_t resyncs = 0;            // snapshots that replaced the view (incl. the first)
  uint64_t snapshot_requests = 0;  // admin requests sent (incl. retries)
  uint64_t bad_messages = 0;       // undecodable or malformed, dropped
  uint64_t admin_errors = 0;       // {type: error} replies to snapshot requests
  uint64_t stale_periods = 0;      // times the view went stale
  // Strings from the broker (addr, labels, error messages) that were not
  // valid UTF-8 and were kept with U+FFFD in place of the ill-formed bytes
  // (see codec.h); a warning is logged (rate-limited) when this grows.
  uint64_t replaced_strings = 0;
  // Times the subscriber stopped following a silent broker for the next.
  uint64_t failovers = 0;
  // The broker followed now: an index into the broker list (0 with one
  // broker). See Subscriber::following().
  size_t broker_index = 0;
  // Handshakes with the broker that failed on either connection: the broker
  // refused this subscriber's CURVE key, or the handshake broke off (wrong
  // broker key, CURVE on one side only). See on_auth_failure.
  uint64_t auth_failures = 0;
};

// One broker a subscriber can follow: its state channel (XPUB) and admin
// channel (ROUTER).
struct BrokerChannels {
  std::string state_endpoint;
  std::string admin_endpoint;
};

// Settings of a subscriber. Durations are milliseconds.
struct SubscriberOptions {
  // The broker's state channel (XPUB) and admin channel (ROUTER). Used
  // only when `brokers` is empty.
  std::string state_endpoint = "tcp://127.0.0.1:7401";
  std::string admin_endpoint{kDefaultAdminEndpoint};
  // Redundant brokers that observe the same agents (a pair: see
  // docs/OPERATIONS.md), in order of preference; the subscriber follows
  // one and fails over to the next (see the top of this file). Empty: the
  // one broker of state_endpoint and admin_endpoint. One entry behaves
  // exactly like that single broker.
  std::vector<BrokerChannels> brokers;
  // Must match the broker's --beat-interval (every listed broker's):
  // staleness and failover are measured in beats.
  uint64_t beat_interval_ms = 1'000;
  // The view is stale after this many beat intervals with no message; three
  // tolerates a late beat or two on a loaded host.
  uint32_t stale_after_beats = 3;
  // An admin snapshot request unanswered for this long is sent again on a
  // fresh socket (so a dead broker does not receive a backlog of requests).
  // Each retry waits twice as long as the one before, up to 16 times this,
  // so a snapshot too big to arrive in time is not abandoned forever.
  uint64_t snapshot_timeout_ms = 2'000;
  // Receive high-water mark of the SUB socket, in messages (0: libzmq's
  // default, 1000). Messages past it wait in TCP buffers or are dropped by
  // the broker; the subscriber then detects the gap and resyncs.
  int receive_hwm = 0;
  // Kernel receive buffer of the SUB's TCP connection in bytes (ZMQ_RCVBUF;
  // 0: the OS default, which grows on demand). A small buffer makes the
  // broker drop, rather than the kernel hold, what a slow subscriber cannot
  // take: it bounds memory and makes gaps show early.
  int receive_buffer_bytes = 0;
  // Deltas kept while waiting for a snapshot; the oldest are dropped past
  // this (a gap the next resync repairs). Bounds memory during a slow resync.
  size_t max_buffered_deltas = 100'000;
  // CURVE on both connections (rosterctl --curve-secret and --broker-key):
  // certificate files, read by create(), or keys already loaded; see
  // curve_client_options.h. Empty: plaintext. A missing or malformed file
  // makes create() fail with an error naming it.
  CurveClientOptions curve;
};

// Called for each node whose record changed, in version order.
using ChangeCallback = std::function<void(const NodeChange& change)>;
// Called when a snapshot replaced the view, before the on_change calls for
// the differences it made. `view` is valid only during the call.
using ResyncCallback = std::function<void(const View& view, ResyncReason reason)>;
// Called when the view goes stale (true) or fresh again (false).
using StaleCallback = std::function<void(bool stale)>;
// Called when handshakes with the broker start failing on a connection
// (the first failure, and the first after a handshake succeeded again):
// `description` is one line starting "authentication failed:" that names
// the endpoint and says why (a refused key, or a failed handshake). The
// subscriber keeps retrying with backoff; the view goes stale meanwhile.
using AuthFailureCallback = std::function<void(const std::string& description)>;

// What the caller wants to hear about; any callback may be empty.
struct SubscriberCallbacks {
  ChangeCallback on_change;
  ResyncCallback on_resync;
  StaleCallback on_stale;
  AuthFailureCallback on_auth_failure;
};

class Subscriber {
 public:
  // Creates the sockets, connects them to the first broker (connecting does
  // not need the broker to be up) and sends the first snapshot request.
  // Returns nullptr with *error set (when error is not null) if an endpoint
  // (of any listed broker) is invalid, a duration option is 0 or the system
  // refuses a descriptor.
  // Time (staleness, snapshot request retries, log rate limits) comes from
  // the system clock.
  static std::unique_ptr<Subscriber> create(SubscriberOptions options,
                                            SubscriberCallbacks callbacks,
                                            std::string* error = nullptr);
  // The same, with time from `clock` (a SimulatedClock in tests). Moving a
  // simulated clock wakes nothing: its timers run at the next poll_once()
  // or process() (on its own thread: within next_timeout(), at most 1 s).
  // REQUIRES: `clock` outlives the subscriber.
  static std::unique_ptr<Subscriber> create(SubscriberOptions options,
                                            SubscriberCallbacks callbacks, Clock& clock,
                                            std::string* error = nullptr);
  // Stops the thread if started, closes the sockets at once (linger 0).
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // Runs the subscriber on its own thread until stop() or destruction.
  // Returns false if it already runs.
  // REQUIRES: poll_once()/process() are not used on this subscriber.
  bool start();
  // Stops and joins the thread; returns when no callback runs any more.
  // Does nothing if not started.
  void stop();

  // Polled use. Waits up to `max_wait` for messages or a timer, then handles
  // everything ready (calling callbacks on this thread). Returns early when
  // a signal interrupts the wait.
  // REQUIRES: start() has not been called.
  void poll_once(std::chrono::milliseconds max_wait);

  // Polled use inside the caller's own loop (poll, epoll, an event
  // library): a descriptor to watch for readability, next_timeout() and
  // process(). fd() is one descriptor for the subscriber's life that stands
  // for all its sockets (the admin socket is replaced on every retry); the
  // subscriber owns it: do not read, write or close it.
  //
  // Like ZeroMQ's ZMQ_FD, which it is built on, it is a notification, not a
  // level: readable means "something may have happened", not "a message is
  // waiting", and it does not turn readable again for work that is left
  // after, or arrived during, a process() call. So call process() whenever
  // fd() is readable or next_timeout() has passed, and call it again,
  // without waiting, for as long as it returns true:
  //
  //   pollfd p{subscriber->fd(), POLLIN, 0};
  //   while (running) {
  //     ::poll(&p, 1, static_cast<int>(subscriber->next_timeout().count()));
  //     while (subscriber->process()) {
  //     }
  //   }
  //
  // REQUIRES (all three): start() has not been called.
  int fd() const;
  // How long the caller may wait before process() must run for timers (at
  // most one second).
  std::chrono::milliseconds next_timeout() const;
  // Handles what is ready on the sockets and due timers, without blocking.
  // Returns true when work is left that fd() will not announce (more
  // messages than one call handles, or ones that arrived meanwhile): call
  // it again before waiting.
  bool process();

  // A copy of the current view, taken under a lock. Before the first
  // snapshot, has_base() is false. While a resync is pending, the last view
  // (see synced()).
  View view() const;
  // True while no message arrived for stale_after_beats beat intervals
  // (with several brokers: while none of them was heard in its window).
  bool stale() const;
  // True when the view follows the broker (false before the first snapshot
  // and while a resync is pending).
  bool synced() const;
  SubscriberStats stats() const;
  // The broker followed now (stats().broker_index of the broker list;
  // state_endpoint and admin_endpoint when `brokers` was empty).
  BrokerChannels following() const;

 private:
  class Impl;
  // Both create()s: `clock` null means the system clock.
  static std::unique_ptr<Subscriber> create_with(SubscriberOptions options,
                                                 SubscriberCallbacks callbacks, Clock* clock,
                                                 std::string* error);
  explicit Subscriber(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace roster
