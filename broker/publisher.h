// The publisher: a thread that owns the state channel (XPUB) and its own
// copy of the membership, kept as encoded records (record_store.h), so that
// building and publishing snapshots never runs on the event loop.
//
// Shaped like a CZMQ actor: start() spawns the thread, which binds the XPUB
// and signals ready (or the bind error) over an inproc PAIR pipe; stop()
// sends a terminate command and joins. Everything the event loop hands over
// goes through the pipe, in order:
//   - publish(delta): apply to the view, publish roster.delta;
//   - mark_complete(): warm-up is over, later snapshots say complete: true;
//   - request_snapshot(envelope, part_bytes): a snapshot for an admin
//     client, as one body or as parts and an end marker; the bodies come
//     back on pipe() for the loop to relay;
//   - wake(): look at the clock now (for a clock that jumps).
// On its own the thread publishes roster.beat every beat interval,
// roster.snapshot every snapshot interval, and a snapshot soon after a new
// subscription that covers "roster.snapshot" (coalesced: see
// snapshot_pacer.h). A periodic snapshot due while no subscriber covers
// "roster.snapshot" is skipped (counted in snapshots_skipped).
//
// A snapshot is built at most once per version: while the membership is
// unchanged every snapshot (state channel and admin replies) reuses the
// same bytes, whose time_ms is when they were built. Parts are cached the
// same way, per version and part size.
//
// Memory: snapshot encodings are shared, never copied, by every subscriber
// queue and admin reply that holds them. At most kMaxHeldStateSnapshots
// encodings that went out on the state channel are alive at once: while a
// subscriber that does not read still holds that many, a due snapshot is
// held back (counted in snapshots_deferred) rather than queued again.
//
// Thread safety: every member function is for the one thread that owns the
// event loop; counters() may be read from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <zmq.hpp>

#include "roster/clock.h"
#include "roster/protocol.h"
#include "snapshot_pacer.h"
#include "startup_error.h"

namespace roster::broker {

struct PublisherOptions {
  std::string endpoint;  // XPUB endpoint to bind
  uint64_t beat_interval_ms = 1'000;
  // The periodic snapshot (pacing.interval_ms; 0: only on subscriptions)
  // and the spacing of snapshots triggered by subscriptions.
  SnapshotPacing pacing;
  // When set, the XPUB's accept and close failures are published on this
  // inproc endpoint (monitor_failures(), socket_monitor.h).
  std::string monitor_endpoint;
  // When set (Z85), the XPUB is a CURVE server with this secret key, and
  // its handshakes go to the ZAP handler under `zap_domain`
  // (access_control.h), which must be bound already.
  std::string curve_secret_key;
  std::string zap_domain;
  // SO_SNDBUF of each subscriber connection (0: the kernel's sizing);
  // BrokerOptions::snapshot_send_buffer_bytes.
  uint64_t send_buffer_bytes = 0;
  // When set, called on the publisher's thread with the time each snapshot
  // encoding took, in seconds (metrics.h).
  std::function<void(double seconds)> snapshot_encoded;
};

// What the publisher has done, readable from any thread.
struct PublisherCounters {
  std::atomic<uint64_t> deltas{0};
  std::atomic<uint64_t> delta_bytes{0};      // bodies of the deltas published
  std::atomic<uint64_t> snapshot_bytes{0};   // bodies of the snapshots published (state channel)
  std::atomic<uint64_t> snapshots{0};        // published on the state channel
  std::atomic<uint64_t> admin_snapshots{0};  // encoded for admin clients
  std::atomic<uint64_t> beats{0};
  std::atomic<uint64_t> subscriptions{0};
  std::atomic<uint64_t> view_errors{0};         // deltas that did not continue the view (a bug)
  std::atomic<uint64_t> snapshots_deferred{0};  // due, held back: earlier ones still queued
  // Snapshot encodings alive now (state channel and admin replies), and
  // how many of them went out on the state channel.
  std::atomic<uint64_t> snapshot_bytes_held{0};
  std::atomic<uint64_t> state_snapshots_held{0};
  // Bodies built from the record store (a snapshot, or each part and end
  // marker), their bytes, and the time spent building them.
  std::atomic<uint64_t> snapshot_builds{0};
  std::atomic<uint64_t> snapshot_built_bytes{0};
  std::atomic<uint64_t> snapshot_build_us{0};
  // Periodic snapshots not sent: no subscriber covered roster.snapshot.
  std::atomic<uint64_t> snapshots_skipped{0};
  // snapshot_part messages sent to admin clients.
  std::atomic<uint64_t> admin_snapshot_parts{0};
  // Heap bytes of the record store (the publisher's copy of the state).
  std::atomic<uint64_t> record_store_bytes{0};
};

// Encodings sent on the state channel that may be alive at once.
inline constexpr uint64_t kMaxHeldStateSnapshots = 2;

// A relayed admin reply read from pipe(): one body, or the parts of a
// chunked snapshot and its end marker, each sent as a message of its own.
struct AdminRelay {
  std::string routing_id;
  bool delimiter = false;
  std::vector<zmq::message_t> bodies;
};

class Publisher {
 public:
  // Starts the thread with `initial` as its view and binds the XPUB.
  // Returns the publisher, or why it could not start (e.g. the bind
  // failure, bind_failure()).
  // `context` and `clock` must outlive the publisher.
  static std::variant<std::unique_ptr<Publisher>, StartupError> start(
      zmq::context_t& context, const Clock& clock, const PublisherOptions& options,
      const Snapshot& initial);
  // Stops the thread if still running.
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Sends the terminate command and waits for the thread to finish. Every
  // command sent before is handled first. Idempotent.
  void stop();

  // The XPUB's resolved endpoint (ZMQ_LAST_ENDPOINT).
  const std::string& endpoint() const { return endpoint_; }

  // Hands one committed delta to the publisher. Never blocks.
  void publish(Delta delta);
  // Warm-up is over: later snapshots say complete: true.
  void mark_complete();
  // Asks for a snapshot for this admin client, in parts of about
  // `part_bytes` when set (snapshot_parts.h); the reply arrives as an
  // AdminRelay (see receive_relay()).
  void request_snapshot(const std::string& routing_id, bool delimiter,
                        std::optional<uint64_t> part_bytes = std::nullopt);
  // Makes the thread read its clock at once and publish what is due
  // (beats, snapshots), rather than sleep until its next deadline in real
  // time. Only a clock that jumps needs it: a test calls it after moving a
  // SimulatedClock.
  void wake();

  // The loop's end of the pipe, to poll for relays.
  zmq::socket_t& pipe() { return pipe_; }
  // Reads one relayed admin reply without blocking; nullopt if none.
  std::optional<AdminRelay> receive_relay();

  const PublisherCounters& counters() const { return *counters_; }

 private:
  Publisher(zmq::context_t& context, std::string pipe_endpoint);

  zmq::socket_t pipe_;
  std::string endpoint_;
  std::thread thread_;
  // Shared with every snapshot encoding, whose last user may free it after
  // the publisher is gone.
  std::shared_ptr<PublisherCounters> counters_;
};

}  // namespace roster::broker
