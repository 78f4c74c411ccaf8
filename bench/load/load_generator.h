// The load generator: many simulated nodes over a few DEALER connections,
// sending join, heartbeat or leave requests either as fast as replies come
// (closed loop, a window of requests in flight per connection) or at a fixed
// rate (open loop), and matching replies to requests in order per
// connection to measure ack latency.
//
// The broker and the ceiling both answer each connection in order, so the
// n-th reply on a connection answers its n-th request; with check_seq the
// generator also verifies the echoed seq.
//
// Thread safety: none; one thread drives a LoadGenerator.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <optional>
#include <zmq.hpp>

#include "curve_client.h"

#include "latency_stats.h"

namespace roster::bench {

enum class RequestKind { kJoin, kHeartbeat, kLeave };

// How one run sends. Either one_pass (one request per node, then stop) or
// a timed run of `duration`.
struct RunPlan {
  RequestKind kind = RequestKind::kHeartbeat;
  // At most this many requests in flight per connection.
  size_t window = 64;
  // Open loop when > 0: this many requests per second over all
  // connections; closed loop (as fast as replies come) when 0.
  double rate_per_s = 0;
  // Timed runs stop sending after this long, then wait for what is in
  // flight.
  std::chrono::milliseconds duration{1000};
  bool one_pass = false;
  bool record_latency = false;
  // Verify that each ack echoes its request's seq (the ceiling echoes none).
  bool check_seq = true;
  // Lease requested by joins.
  uint64_t lease_ms = 60'000;
};

// What a run observed.
struct RunOutcome {
  uint64_t sent = 0;
  uint64_t acked = 0;
  uint64_t acked_in_window = 0;  // acks received before a timed run's end
  uint64_t errors = 0;           // error replies and undecodable replies
  uint64_t seq_mismatches = 0;
  uint64_t unanswered = 0;  // still in flight when the drain timed out
  double seconds = 0;       // the timed window, or the whole one-pass run
  std::map<std::string, uint64_t> error_codes;
  std::string first_error;
  LatencySamples latency;

  // Acks per second over the measured window.
  double acks_per_s() const;
  // True when every request got an ack that matched it.
  bool clean() const { return errors == 0 && seq_mismatches == 0 && unanswered == 0; }
  // Counters and latency summary (no raw samples).
  nlohmann::json to_json() const;
};

class LoadGenerator {
 public:
  // Opens `connections` DEALERs to `endpoint`. Nodes are named
  // `prefix` + zero-padded index, incarnation `inc`, spread round robin
  // over the connections. With `curve`, every connection is a CURVE
  // client with these keys. REQUIRES: connections >= 1.
  LoadGenerator(zmq::context_t& ctx, const std::string& endpoint, size_t connections,
                const std::string& prefix, size_t nodes, uint64_t inc,
                const std::optional<CurveClientKeys>& curve = std::nullopt);

  // Runs `plan` to completion (including the drain of what is in flight,
  // bounded by 10 s). Never throws: socket errors end the run and are
  // reported in first_error.
  RunOutcome run(const RunPlan& plan);

  size_t node_count() const { return nodes_.size(); }
  const std::string& node_id(size_t index) const { return nodes_[index].id; }

 private:
  struct SimNode {
    std::string id;
    uint64_t inc = 0;
    uint64_t seq = 0;
  };
  struct InFlight {
    uint64_t seq;
    std::chrono::steady_clock::time_point sent;
  };
  struct Connection {
    zmq::socket_t socket;
    std::vector<size_t> nodes;  // indices into nodes_
    size_t cursor = 0;
    std::deque<InFlight> in_flight;
  };

  // Sends the next request of `conn`; false when the socket would block.
  bool send_next(Connection& conn, const RunPlan& plan);
  // Reads every reply waiting on `conn`.
  void drain_replies(Connection& conn, const RunPlan& plan, bool in_window, RunOutcome& out);

  std::vector<SimNode> nodes_;
  std::vector<Connection> conns_;
};

}  // namespace roster::bench
