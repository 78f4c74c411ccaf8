// The load of the scale scenario: many simulated nodes over a few DEALER
// connections join, then each heartbeats on its own open-loop schedule
// (every `interval` from its join ack, whatever the replies), the way a
// fleet of roster-agents does. A heartbeat is sent when due even if
// earlier ones are unanswered, so a broker that falls behind shows as
// latency and expired leases, not as a slower client.
//
// Each connection numbers its requests (the seq of every request), so a
// reply names its request even when the broker dropped earlier replies
// (its ROUTER drops replies to a peer over the high-water mark): those
// count as lost. A join whose reply was lost was processed (a later
// reply came), so that node heartbeats from then on.
//
// Thread safety: none; one thread drives a ScaleDriver.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>
#include <zmq.hpp>

#include "latency_histogram.h"

namespace roster::bench {

struct ScalePlan {
  size_t nodes = 1'000'000;
  size_t connections = 8;
  // Lease requested by every join, and the heartbeat interval (the
  // agent's default is lease / 3).
  uint64_t lease_ms = 10'000;
  std::chrono::milliseconds interval{3'333};
  // How long heartbeats are measured once every join is acked.
  std::chrono::milliseconds steady_for{60'000};
  // Joins in flight per connection.
  size_t join_window = 256;
  // Joins still unacked after this long end the run.
  std::chrono::milliseconds join_timeout{120'000};
  // Node ids are `prefix` + zero-padded index; every node has incarnation `inc`.
  std::string prefix = "scale-";
  uint64_t inc = 1;
};

// What a run observed.
struct ScaleOutcome {
  // Joins: all answered in join_seconds (first join sent to last ack),
  // unless the join timeout came first (then joins_acked < nodes).
  uint64_t joins_acked = 0;
  uint64_t joins_refused = 0;
  bool all_joined = false;
  double join_seconds = 0;
  uint64_t granted_lease_ms = 0;
  // Heartbeats due during the steady window, sent of them, and acks of
  // those sent (acked after the window too, while draining).
  uint64_t intended = 0;
  uint64_t sent = 0;
  uint64_t acked = 0;
  // Heartbeats sent while nodes were still joining (not in the figures above).
  uint64_t sent_while_joining = 0;
  // Acks of heartbeats whose state was not alive (the broker had
  // suspected the node).
  uint64_t acks_not_alive = 0;
  uint64_t errors = 0;  // refusals and undecodable replies, any phase
  std::map<std::string, uint64_t> error_codes;
  std::string first_error;
  uint64_t replies_lost = 0;   // a later reply on the connection came first
  uint64_t unexpected = 0;     // replies naming no request in flight
  uint64_t unanswered = 0;     // in flight when the drain gave up
  uint64_t blocked_sends = 0;  // a socket refused to queue (high-water mark)
  double steady_seconds = 0;
  double drain_seconds = 0;
  // Send to ack of the steady window's heartbeats; due to send (how far
  // the client itself was behind its schedule).
  LatencyHistogram ack_latency;
  LatencyHistogram send_lag;

  // Counters and summaries.
  nlohmann::json to_json() const;
};

class ScaleDriver {
 public:
  enum class Phase { kJoined, kSteadyEnd };

  // Opens plan.connections DEALERs to `endpoint`; node i uses connection
  // i % connections. REQUIRES: plan.connections >= 1, plan.nodes >= 1.
  ScaleDriver(zmq::context_t& ctx, const std::string& endpoint, ScalePlan plan);

  // Joins every node, heartbeats until plan.steady_for after the last join
  // ack (or after plan.join_timeout, with the nodes joined by then), then
  // waits (up to 20 s) for what is in flight. `on_phase` is
  // called when every join is acked (the steady window starts) and when
  // the window ends, before the drain; it should be quick (heartbeats wait
  // meanwhile). Never throws: socket errors end the run (first_error).
  ScaleOutcome run(const std::function<void(Phase)>& on_phase);

 private:
  using Clock = std::chrono::steady_clock;
  struct Due {
    uint32_t node;
    Clock::time_point at;
  };
  struct Pending {
    Clock::time_point sent;
    uint64_t seq;
    uint32_t node;
    bool join;
    bool in_window;
  };
  struct Connection {
    zmq::socket_t socket;
    std::deque<Pending> pending;
    size_t joins_in_flight = 0;
    uint64_t last_seq = 0;
  };

  bool send(uint32_t node, bool join, bool in_window, Clock::time_point now);
  void read_replies(Connection& conn, ScaleOutcome& out);
  // Handles the ack of request `seq`.
  void on_ack(Connection& conn, uint64_t seq, uint64_t lease_ms, bool alive, Clock::time_point now,
              ScaleOutcome& out);
  // Handles a reply read_fast_ack() could not read: decoded in full.
  void on_other_reply(Connection& conn, std::string_view body, Clock::time_point now,
                      ScaleOutcome& out);
  // Removes the request `seq` answers from conn.pending (counting the ones
  // before it as lost) into *request; false when none is in flight.
  bool match(Connection& conn, uint64_t seq, Pending* request, ScaleOutcome& out);
  // A join was answered (acked, or its reply lost): heartbeats follow.
  void joined(uint32_t node, Clock::time_point now);
  // The earliest heartbeat due (from first_ or next_), or nullptr.
  std::deque<Due>* earliest_queue();

  ScalePlan plan_;
  std::vector<std::string> ids_;
  std::vector<Connection> conns_;
  // First heartbeats (due one interval after the join ack) and the ones
  // after (due one interval after the previous one was due): each sorted.
  std::deque<Due> first_;
  std::deque<Due> next_;
  bool steady_ = false;
  uint64_t joins_answered_ = 0;
  // Acks read by read_fast_ack(); every 1024th is also decoded in full
  // and compared.
  uint64_t fast_acks_ = 0;
};

}  // namespace roster::bench
