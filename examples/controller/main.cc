// controller: prints every membership change a roster broker publishes,
// each resync and each staleness change, until SIGINT/SIGTERM or for
// SECONDS seconds.
//
//   controller [STATE_ENDPOINT [ADMIN_ENDPOINT [SECONDS]]]
//
// Defaults: tcp://127.0.0.1:7401 and tcp://127.0.0.1:7402; SECONDS 0 runs
// until a signal. A real controller would act where this one prints: send
// work to alive nodes, stop sending new work to suspect ones, reschedule
// what dead, left or removed ones had.
#include <roster/subscriber.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_signal(int) {
  g_stop = 1;
}

}  // namespace

int main(int argc, char** argv) {
  roster::SubscriberOptions options;
  if (argc > 1) options.state_endpoint = argv[1];
  if (argc > 2) options.admin_endpoint = argv[2];
  const long seconds = argc > 3 ? std::strtol(argv[3], nullptr, 10) : 0;

  roster::SubscriberCallbacks callbacks;
  callbacks.on_change = [](const roster::NodeChange& change) {
    const roster::NodeRecord& r = change.record;
    std::cout << "version " << change.version << ": " << r.node << " (inc " << r.inc << ") "
              << roster::to_string(r.state) << (r.addr.empty() ? "" : " at " + r.addr) << std::endl;
  };
  callbacks.on_resync = [](const roster::View& view, roster::ResyncReason reason) {
    std::cout << "resync (" << roster::to_string(reason) << "): " << view.nodes().size() << " nodes"
              << (view.complete() ? "" : ", broker warming up") << std::endl;
  };
  callbacks.on_stale = [](bool stale) {
    std::cout << (stale ? "broker unreachable: holding decisions" : "broker back") << std::endl;
  };

  std::string error;
  auto subscriber = roster::Subscriber::create(options, callbacks, &error);
  if (!subscriber) {
    std::cerr << "controller: " << error << std::endl;
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  // The subscriber's own poll loop, on this thread: callbacks run here.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!g_stop && (seconds <= 0 || std::chrono::steady_clock::now() < deadline)) {
    subscriber->poll_once(std::chrono::milliseconds(100));
  }
  return 0;
}
