// roster-agent's --http endpoints (http/http_server.h): /healthz (200 while
// the agent runs: its thread answers and it has not stopped, been removed
// or refused for good) and /metrics, a small set read from
// roster::Agent::status() at each scrape:
//   roster_agent_phase{phase}            1 for the current phase, else 0
//   roster_agent_incarnation             the incarnation in use
//   roster_agent_broker_link_up          1 while joined to a broker
//   roster_agent_broker_up{broker}       per listed broker: 1 while its session is joined
//   roster_agent_heartbeats_sent_total   heartbeats handed to a broker link
//   roster_agent_heartbeats_acked_total  acks received for them
//   roster_agent_failovers_total         brokers lost (the next endpoint is tried)
//   roster_build_info{program,version,revision}
//
// Thread safety: count_failover() from any thread (the agent's callback);
// the rest from the main thread. The server's threads read `agent` and this
// object's registry under its own lock.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include "http_server.h"
#include "roster/agent.h"

namespace roster {

class AgentHttp {
 public:
  // `agent` must outlive this object.
  explicit AgentHttp(const Agent& agent);
  // Stops the server first: its threads read this object.
  ~AgentHttp();
  AgentHttp(const AgentHttp&) = delete;
  AgentHttp& operator=(const AgentHttp&) = delete;

  // Serves `address` (ADDR:PORT, checked by the flag parser). Returns a
  // one-line error or nullopt.
  std::optional<std::string> start(const std::string& address);
  // HOST:PORT bound. REQUIRES: start() succeeded.
  std::string address() const { return server_->address(); }

  // The agent lost its broker (AgentEvent::kBrokerLost).
  void count_failover() { failovers_.fetch_add(1, std::memory_order_relaxed); }

 private:
  std::string metrics();
  http::ProbeResult health() const;

  const Agent& agent_;
  std::atomic<uint64_t> failovers_{0};
  std::mutex mu_;  // guards the registry's values and the counts below
  prometheus::Registry registry_;
  prometheus::Family<prometheus::Gauge>* phase_;
  prometheus::Gauge* incarnation_;
  prometheus::Gauge* link_up_;
  prometheus::Family<prometheus::Gauge>* broker_up_;
  prometheus::Counter* sent_;
  prometheus::Counter* acked_;
  prometheus::Counter* failovers_counter_;
  uint64_t sent_last_ = 0;
  uint64_t acked_last_ = 0;
  uint64_t failovers_last_ = 0;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace roster
