#include "broker_http.h"

#include <variant>

#include "metrics_text.h"
#include "roster_build_version.h"

namespace roster::broker {

BrokerHttp::BrokerHttp(const Clock& clock, TimeMs start)
    : clock_(clock), metrics_(registry_), health_(http::kDefaultStaleAfterMs, start) {
  http::add_build_info(registry_, "roster-broker", kVersion, kGitRevision);
}

BrokerHttp::~BrokerHttp() {
  server_.reset();
}

std::optional<StartupError> BrokerHttp::start(const std::string& address) {
  auto parsed = http::parse_http_address(address);
  if (!parsed) return StartupError{"invalid --http address '" + address + "'", kExitUsage};
  http::HttpHandlers handlers;
  handlers.metrics = [this] { return http::metrics_text(registry_); };
  handlers.health = [this] {
    const TimeMs now = clock_.now_ms();
    const TimeMs since = now - health_.last_round();
    if (health_.healthy(now)) return http::ProbeResult{true, "ok"};
    return http::ProbeResult{
        false, "event loop stalled: no round completed for " + std::to_string(since) + " ms"};
  };
  handlers.ready = [this] {
    if (ready_.load(std::memory_order_acquire)) return http::ProbeResult{true, "ready"};
    return http::ProbeResult{false, "warming up: snapshots are not complete yet"};
  };
  auto started = http::HttpServer::start(*parsed, std::move(handlers));
  if (auto* error = std::get_if<std::string>(&started)) {
    return StartupError{"--http " + address + ": " + *error, kExitFailure};
  }
  server_ = std::move(std::get<std::unique_ptr<http::HttpServer>>(started));
  return std::nullopt;
}

void BrokerHttp::round(TimeMs now, const EventLoop& loop, const Publisher& publisher) {
  health_.round_completed(now);
  if (last_publish_ && now - *last_publish_ < kMetricsIntervalMs) return;
  last_publish_ = now;
  LoopReport report = loop.report();
  metrics_.update(report, publisher.counters());
  ready_.store(report.complete, std::memory_order_release);
}

}  // namespace roster::broker
