// The broker's --http endpoints (http/http_server.h): /metrics from the
// broker's registry, /healthz from the rounds of its event loop (503 when
// none completed for kDefaultStaleAfterMs), /readyz once warm-up is over.
// The server only starts after every ZeroMQ socket is bound, so "bound"
// needs no flag of its own.
//
// Thread safety: construct, start() and round() on the loop's thread;
// snapshot_encoded() (via metrics()) from the publisher's; the server's
// threads read only atomics and the registry.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include <prometheus/registry.h>

#include "event_loop.h"
#include "http_server.h"
#include "loop_health.h"
#include "metrics.h"
#include "publisher.h"
#include "roster/clock.h"
#include "startup_error.h"

namespace roster::broker {

// The registry takes the loop's counts at most this often (and /metrics
// is at most this stale): publishing costs a few hundred atomic operations,
// not to be paid on every busy round.
inline constexpr TimeMs kMetricsIntervalMs = 100;

class BrokerHttp {
 public:
  // `clock` (the loop's) must outlive this object; `start` is the loop's.
  BrokerHttp(const Clock& clock, TimeMs start);
  // Stops the server first: its threads read this object.
  ~BrokerHttp();
  BrokerHttp(const BrokerHttp&) = delete;
  BrokerHttp& operator=(const BrokerHttp&) = delete;

  BrokerMetrics& metrics() { return metrics_; }

  // Serves `address` (ADDR:PORT, checked by the option parser). Returns
  // the --http bind failure or nullopt.
  std::optional<StartupError> start(const std::string& address);
  // HOST:PORT bound. REQUIRES: start() succeeded.
  std::string address() const { return server_->address(); }

  // From the loop's on_round hook: the loop turned at `now`; publishes
  // metrics and readiness when kMetricsIntervalMs passed since the last time.
  void round(TimeMs now, const EventLoop& loop, const Publisher& publisher);

 private:
  const Clock& clock_;
  prometheus::Registry registry_;
  BrokerMetrics metrics_;
  http::LoopHealth health_;
  std::atomic<bool> ready_{false};
  std::optional<TimeMs> last_publish_;
  std::unique_ptr<http::HttpServer> server_;
};

}  // namespace roster::broker
