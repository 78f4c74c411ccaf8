#include "broker.h"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <iostream>

#include "broker_http.h"
#include "event_loop.h"
#include "io_threads.h"
#include "publisher.h"
#include "ready_file.h"
#include "roster/clock.h"
#include "shutdown_signal.h"
#include "systemd_notify.h"

namespace roster::broker {

namespace {
int startup_error(const StartupError& error) {
  std::cerr << "roster-broker: " << error.message << std::endl;
  return error.exit_status;
}
// Without CURVE, every peer that reaches an endpoint is trusted: say so
// for each endpoint another host can reach.
void warn_if_exposed(const BrokerOptions& options) {
  if (!options.curve_secret.empty()) return;
  const std::pair<const char*, const std::string*> endpoints[] = {
      {"--agents", &options.agents_endpoint},
      {"--publish", &options.publish_endpoint},
      {"--admin", &options.admin_endpoint}};
  for (const auto& [flag, endpoint] : endpoints) {
    if (is_local_endpoint(*endpoint)) continue;
    spdlog::warn(
        "{} {} is reachable from other hosts and CURVE is off (no --curve-secret): any peer that "
        "reaches it is trusted (docs/OPERATIONS.md, \"Securing roster\")",
        flag, *endpoint);
  }
}

}  // namespace

// STATUS= lines for `systemctl status` at most this often.
constexpr TimeMs kServiceStatusIntervalMs = 2'000;

// Allocations from this size up get pages of their own, returned to the
// system when freed. glibc otherwise raises this threshold to the largest
// block freed so far, so that snapshot encodings (~10 MB at 100k nodes),
// freed on ZeroMQ's I/O threads, end up in heap arenas that keep the
// memory after a slow peer lets go of them.
constexpr int kMmapThresholdBytes = 1 << 20;

int run_broker(const BrokerOptions& options, int signal_fd, const FdLimit& fd_limit) {
  mallopt(M_MMAP_THRESHOLD, kMmapThresholdBytes);
  SystemClock clock;
  const TimeMs start = clock.now_ms();
  // Unix milliseconds at start: a new epoch on every start.
  const auto epoch = static_cast<uint64_t>(start);
  // Declared first, so it is destroyed after every socket.
  zmq::context_t context(kIoThreads);

  EventLoop loop(context, clock, options, epoch, start);
  if (auto error = loop.bind()) return startup_error(*error);
  // Before the publisher, which reports its snapshot encodings to it.
  std::unique_ptr<BrokerHttp> http;
  if (!options.http_address.empty()) http = std::make_unique<BrokerHttp>(clock, start);

  PublisherOptions publisher_options;
  publisher_options.endpoint = options.publish_endpoint;
  publisher_options.pacing.interval_ms = static_cast<TimeMs>(options.snapshot_interval_ms);
  publisher_options.beat_interval_ms = options.beat_interval_ms;
  publisher_options.monitor_endpoint = loop.publish_monitor_endpoint();
  publisher_options.curve_secret_key = loop.access().secret_key();
  publisher_options.zap_domain = AccessControl::zap_domain(Endpoint::kState);
  publisher_options.send_buffer_bytes = options.snapshot_send_buffer_bytes;
  if (http) {
    publisher_options.snapshot_encoded = [&metrics = http->metrics()](double seconds) {
      metrics.snapshot_encoded(seconds);
    };
  }
  auto started = Publisher::start(context, clock, publisher_options, loop.initial_snapshot());
  if (auto* error = std::get_if<StartupError>(&started)) return startup_error(*error);
  Publisher& publisher = *std::get<std::unique_ptr<Publisher>>(started);
  loop.attach(publisher);
  if (http) {
    if (auto error = http->start(options.http_address)) return startup_error(*error);
  }

  ReadyInfo ready{loop.agents_endpoint(), publisher.endpoint(), loop.admin_endpoint(),
                  static_cast<long>(getpid()), http ? http->address() : std::string()};
  if (!options.ready_file.empty()) {
    // A missing directory or a full disk may pass: exit 1, so a supervisor
    // tries again.
    if (auto error = write_ready_file(options.ready_file, ready)) {
      return startup_error(StartupError{*error, kExitFailure});
    }
  }
  log_fd_limit(fd_limit);
  warn_if_exposed(options);
  spdlog::info(
      "roster-broker started: epoch={} pid={} bound agents={} publish={} admin={} http={} ({})",
      epoch, ready.pid, ready.agents, ready.publish, ready.admin,
      ready.http.empty() ? "off" : ready.http, describe(options));

  // Under systemd (Type=notify): ready now that every socket is bound;
  // WATCHDOG=1 from the loop's rounds, so a wedged loop is restarted.
  service::SystemdNotifier systemd;
  systemd.ready("serving: " + loop.status_summary(clock.now_ms()));
  if (systemd.watchdog_timeout_ms() > 0) {
    spdlog::info("systemd watchdog: {} ms, pinged every {} ms from the event loop",
                 systemd.watchdog_timeout_ms(), systemd.watchdog_timeout_ms() / 2);
  }
  loop.on_round([&](TimeMs now) {
    if (http) http->round(now, loop, publisher);
    systemd.watchdog(now);
    if (systemd.status_due(now, kServiceStatusIntervalMs)) {
      systemd.status("serving: " + loop.status_summary(now));
    }
  });

  int signal = loop.run(signal_fd);
  systemd.stopping(std::string("stopping (") + signal_name(signal) + ")");
  publisher.stop();
  // After the publisher, whose thread reports snapshot encodings to it.
  http.reset();
  spdlog::info("roster-broker stopped (signal {})", signal);
  return kExitOk;
}

}  // namespace roster::broker
