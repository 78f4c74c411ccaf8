#include <signal.h>

#include <chrono>
#include <iostream>

#include "commands.h"
#include "json_format.h"
#include "roster/clock.h"
#include "roster/duration.h"
#include "roster/subscriber.h"
#include "roster/utf8.h"
#include "text_format.h"

namespace roster::ctl {

namespace {

volatile sig_atomic_t stop_requested = 0;

void on_stop_signal(int) {
  stop_requested = 1;
}

// SIGINT and SIGTERM end the watch cleanly (exit 0). No SA_RESTART, so a
// blocking poll returns at once.
void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

uint64_t now_ms() {
  return static_cast<uint64_t>(unix_now_ms());
}

std::string old_state(const NodeChange& change) {
  return change.old ? std::string(to_string(change.old->state)) : "-";
}

// The callbacks print one line per event and flush it, for pipes.
SubscriberCallbacks printing_callbacks(const CtlOptions& options, const WatchOptions& watch,
                                       uint64_t& changes_seen) {
  SubscriberCallbacks callbacks;
  const bool json = options.json;
  const uint64_t stale_after_ms = watch.beat_interval_ms * 3;
  callbacks.on_change = [json, &changes_seen](const NodeChange& change) {
    ++changes_seen;
    if (json) {
      std::cout << dump_line(change_event(change, now_ms())) << std::endl;
      return;
    }
    std::cout << format_time(now_ms()) << "  v" << change.version << "  "
              << escape_for_terminal(change.record.node) << " (inc " << change.record.inc << ")  "
              << old_state(change) << " -> " << to_string(change.record.state)
              << (change.from_resync ? "  [resync]" : "") << std::endl;
  };
  callbacks.on_resync = [json](const View& view, ResyncReason reason) {
    if (json) {
      std::cout << dump_line(resync_event(view, reason, now_ms())) << std::endl;
      return;
    }
    std::cout << format_time(now_ms()) << "  resync (" << to_string(reason) << "): epoch "
              << view.epoch() << ", version " << view.version() << ", " << view.nodes().size()
              << " nodes" << (view.complete() ? "" : ", broker warming up") << std::endl;
  };
  const size_t brokers = options.admin_endpoints.size();
  callbacks.on_stale = [json, stale_after_ms, brokers](bool stale) {
    if (json) {
      std::cout << dump_line(stale_event(stale, now_ms())) << std::endl;
      return;
    }
    if (stale && brokers > 1) {
      std::cout << format_time(now_ms()) << "  STALE: nothing from any of the " << brokers
                << " brokers for " << format_duration_ms(stale_after_ms)
                << " each; the view may be out of date" << std::endl;
    } else if (stale) {
      std::cout << format_time(now_ms()) << "  STALE: nothing from the broker for "
                << format_duration_ms(stale_after_ms) << "; the view may be out of date"
                << std::endl;
    } else {
      std::cout << format_time(now_ms()) << "  fresh: the broker is heard again" << std::endl;
    }
  };
  return callbacks;
}

}  // namespace

int run_watch(const CtlOptions& options, const WatchOptions& watch) {
  install_stop_handlers();
  uint64_t changes_seen = 0;
  SubscriberOptions sub_options;
  for (size_t i = 0; i < options.admin_endpoints.size(); ++i) {
    sub_options.brokers.push_back({options.state_endpoints[i], options.admin_endpoints[i]});
  }
  sub_options.beat_interval_ms = watch.beat_interval_ms;
  sub_options.snapshot_timeout_ms = std::min<uint64_t>(options.timeout_ms, 2'000);
  sub_options.curve = options.curve;
  std::string error;
  // Before the first snapshot a refused handshake ends the watch (exit 1);
  // after it, the subscriber reports it and keeps retrying.
  std::string auth_failure;
  SubscriberCallbacks callbacks = printing_callbacks(options, watch, changes_seen);
  callbacks.on_auth_failure = [&auth_failure](const std::string& description) {
    if (auth_failure.empty()) auth_failure = description;
  };
  auto subscriber = Subscriber::create(sub_options, std::move(callbacks), &error);
  if (!subscriber) {
    std::cerr << "rosterctl: " << error << "\n";
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  auto elapsed_ms = [&] {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::steady_clock::now() - start)
                                     .count());
  };
  // Several brokers: the first may be down; give the next ones their
  // failover window (three beats each) before giving up.
  const uint64_t sync_deadline_ms =
      options.timeout_ms + (options.admin_endpoints.size() - 1) * 3 * watch.beat_interval_ms;
  bool ever_synced = false;
  while (!stop_requested) {
    if (watch.count > 0 && changes_seen >= watch.count) break;
    if (watch.duration_ms > 0 && elapsed_ms() >= watch.duration_ms) break;
    if (!ever_synced) {
      ever_synced = subscriber->synced();
      if (!ever_synced && !auth_failure.empty()) {
        std::cerr << "rosterctl: " << auth_failure << "\n";
        return 1;
      }
      if (!ever_synced && elapsed_ms() >= sync_deadline_ms) {
        const BrokerChannels tried = subscriber->following();
        std::cerr << "rosterctl: no snapshot from the broker at " << tried.admin_endpoint << " / "
                  << tried.state_endpoint << " within " << format_duration_ms(sync_deadline_ms)
                  << "\n";
        return 1;
      }
    }
    subscriber->poll_once(std::chrono::milliseconds(100));
  }
  return 0;
}

}  // namespace roster::ctl
