// The broker's event loop: one thread that owns the membership core and the
// two ROUTER sockets (agents, admin). Each round it polls (timeout from the
// core's next deadline, capped so ticks come far more often than the stall
// threshold), reads what is waiting (bounded per round), ticks the core,
// commits the batch and hands the Delta to the publisher. A heartbeat that
// changes nothing is acknowledged as soon as the round's reads are done
// (AckBatch), without a heap allocation of the loop's own; other replies
// wait for the round's commit. It never encodes
// a snapshot: the publisher does. With CURVE on it also serves the ZAP
// handler and checks each request's key (access_control.h).
//
// Thread safety: none. Construct, bind(), attach() and run() (or
// run_round()) on one thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "access_control.h"
#include "ack_batch.h"
#include "admin.h"
#include "counters.h"
#include "duplicate_claims.h"
#include "envelope.h"
#include "options.h"
#include "publisher.h"
#include "rate_limited_log.h"
#include "roster/clock.h"
#include "roster/codec.h"
#include "roster/membership.h"
#include "snapshot_gate.h"
#include "socket_monitor.h"
#include "startup_error.h"

namespace roster::broker {

class EventLoop {
 public:
  // `context` and `clock` must outlive the loop. `start` (from `clock`) is
  // the start of the warm-up and of the uptime.
  EventLoop(zmq::context_t& context, const Clock& clock, const BrokerOptions& options,
            uint64_t epoch, TimeMs start);

  // Starts CURVE when configured (access_control.h: keys, ZAP handler),
  // then creates and binds the agents and admin sockets, and watches their
  // accept and handshake failures. Returns the error (naming the flag and
  // endpoint, bind_failure()) or nullopt.
  std::optional<StartupError> bind();
  // CURVE settings for the publisher's XPUB. REQUIRES: bind() succeeded.
  const AccessControl& access() const { return access_; }
  // An inproc endpoint for the publisher's XPUB to report its accept
  // failures on (PublisherOptions::monitor_endpoint); the loop reads it.
  std::string publish_monitor_endpoint();
  // Resolved endpoints (ZMQ_LAST_ENDPOINT). REQUIRES: bind() succeeded.
  std::string agents_endpoint() const;
  std::string admin_endpoint() const;

  // The committed state as the publisher's initial view.
  Snapshot initial_snapshot() const;

  // Connects the publisher. REQUIRES: before run(); `publisher` outlives
  // the loop's run().
  void attach(Publisher& publisher);

  // Serves until a stop signal arrives on `signal_fd` (a signalfd of
  // block_broker_signals(), shutdown_signal.h); returns its number. Pending
  // changes are committed and handed to the publisher before returning.
  // SIGHUP reloads settings (reload.h) and the CURVE key directories
  // (access_control.h); SIGUSR1 and SIGUSR2 log a status line.
  int run(int signal_fd);

  // One round of run() without signals: waits for a request at most
  // `max_wait_ms` (less if a deadline of the core comes first, by the
  // clock), then reads, ticks, commits and hands the delta over as run()
  // does. For tests that drive the loop on a SimulatedClock: each round
  // acts on the clock's time at that moment.
  void run_round(TimeMs max_wait_ms);

  // Called with the time at the end of every round of run(), on the loop's
  // thread (at least every 50 ms): what must stop when the loop wedges
  // (the systemd watchdog). It may call status_summary(). Replaces any
  // earlier hook. REQUIRES: before run().
  void on_round(std::function<void(TimeMs now)> hook);

  // What the loop has counted and holds, for metrics (metrics.h): a copy,
  // taken on the loop's thread (from the on_round hook). `complete` once
  // warm-up is over and the publisher knows it.
  LoopReport report() const;

  // "epoch=E version=V nodes=N (a alive, s suspect, d dead, l left)
  // tombstones=T complete" (or "warming-up"), for status lines.
  std::string status_summary(TimeMs now) const;

 private:
  // One round; returns the number of a stop signal that came on
  // `signal_fd` (none when negative), else 0.
  int round(int signal_fd, TimeMs max_wait_ms);
  // A request of the agents socket, read ahead of its handling, and
  // decoded in place when it is a plain heartbeat.
  struct AgentRead {
    RoutedRequest request;
    HeartbeatRef beat;                  // views request.body; set when is_heartbeat
    Membership::PrefetchHint prefetch;  // set when is_heartbeat
    bool is_heartbeat = false;
  };
  // Reads and handles the waiting requests of the agents socket, at most
  // `limit`, a group of kAgentReadAhead at a time: a group's heartbeats are
  // decoded and their records prefetched (Membership::prefetch_index(),
  // prefetch_record()) before the first is handled, so the group waits for
  // memory about once. Returns the number read. `now` and `received` are
  // the round's clock readings.
  int read_agents(int limit, TimeMs now, std::chrono::steady_clock::time_point received);
  void handle_agent(AgentRead& read, TimeMs now, std::chrono::steady_clock::time_point received);
  // The heartbeat fast path (`beat` decoded in place from request.body):
  // when nothing must go first, its ack is queued in acks_, which the round
  // sends once its reads are done.
  void handle_heartbeat(RoutedRequest& request, const HeartbeatRef& beat, TimeMs now,
                        std::chrono::steady_clock::time_point received);
  // Counts `reply` to a request of `type` (AgentRequest index, 3: invalid)
  // and queues it for send_deferred().
  void defer_reply(RoutedRequest& request, const AgentReply& reply, size_t type,
                   std::chrono::steady_clock::time_point received, TimeMs now);
  void handle_admin(RoutedRequest& request, TimeMs now);
  void admin_snapshot(RoutedRequest& request, std::optional<uint64_t> part_bytes, TimeMs now);
  // Sends the snapshots the publisher relayed (read from its pipe only when
  // `relays_waiting`: the poll saw some) and queues the requests the
  // snapshot gate let through.
  void relay_snapshots(bool relays_waiting);
  void send_deferred();
  void maybe_commit(TimeMs now);
  void commit(TimeMs now);
  void check_warm_up(TimeMs now);
  void log_status(int signal, TimeMs now);
  void log_changes(const Delta& delta);
  void note_claim(const AgentRequest& request, const AgentReply& reply, const RoutedRequest& routed,
                  TimeMs now);
  void note_claim(std::string_view node, uint64_t inc, const AgentReply& reply,
                  const RoutedRequest& routed, TimeMs now);
  void count_error(ErrorCode code, std::string_view channel, const RoutedRequest& request,
                   std::string_view message, TimeMs now);

  zmq::context_t& context_;
  const Clock& clock_;
  BrokerOptions options_;
  TimeMs start_;
  Membership membership_;
  zmq::socket_t agents_;
  zmq::socket_t admin_;
  Publisher* publisher_ = nullptr;
  std::unique_ptr<AdminHandler> admin_handler_;
  LoopCounters counters_;
  // Replies and snapshot requests of this round, sent once its changes are
  // committed and handed to the publisher: an agent that has its ack, or
  // anyone who asks after it, finds the change in every later snapshot.
  struct Deferred {
    std::string routing_id;
    bool delimiter = false;
    std::string body;  // agent reply; empty for a snapshot request
    // Agent reply: when its request arrived (roster_ack_latency_seconds).
    std::chrono::steady_clock::time_point received{};
    std::optional<uint64_t> part_bytes{};  // snapshot request: in parts of this size
  };
  std::vector<Deferred> agent_replies_;
  // Acks of the heartbeat fast path, sent after the round's reads and
  // before agent_replies_ (which only ever hold later requests' replies).
  AckBatch acks_;
  // The group read_agents() reads ahead; sized once.
  std::vector<AgentRead> agent_reads_;
  std::vector<Deferred> snapshot_requests_;
  // One admin snapshot in flight per client.
  SnapshotGate snapshot_gate_;
  RateLimitedLog warnings_;
  DuplicateClaims claims_;
  SocketFailures failures_;
  AccessControl access_;
  TimeMs last_commit_ = 0;
  bool warm_ = false;  // warm-up over and the publisher told
  std::function<void(TimeMs)> round_hook_;
};

}  // namespace roster::broker
