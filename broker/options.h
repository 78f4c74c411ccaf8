// Command line and config-file options of roster-broker.
//
// parse_options() never throws and never exits: it returns the options, or
// what to print and the exit status (0 for --help, 2 for any error).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "roster/membership.h"
#include "roster/protocol.h"

namespace roster::broker {

// Prefix of the environment variables that options can come from: --max-lease
// from ROSTER_BROKER_MAX_LEASE, --config from ROSTER_BROKER_CONFIG. The
// command line wins over the config file, which wins over the environment.
// Each program has its own prefix (the agent ROSTER_AGENT_, rosterctl reads
// ROSTER_ADMIN and ROSTER_STATE as endpoints to connect to), so that one
// environment never makes the broker bind what rosterctl connects to.
inline constexpr const char* kEnvironmentPrefix = "ROSTER_BROKER_";

// --snapshot-send-buffer: its default, and the range of other values.
inline constexpr uint64_t kDefaultSnapshotSendBufferBytes = 64 * 1024;
inline constexpr uint64_t kMinSnapshotSendBufferBytes = 64 * 1024;
inline constexpr uint64_t kMaxSnapshotSendBufferBytes = 64 * 1024 * 1024;

// Every setting of the broker. Durations are milliseconds.
struct BrokerOptions {
  // Agent channel (ROUTER), state channel (XPUB), admin channel (ROUTER).
  std::string agents_endpoint{kDefaultAgentsEndpoint};
  std::string publish_endpoint{kDefaultPublishEndpoint};
  std::string admin_endpoint{kDefaultAdminEndpoint};
  // CURVE (docs/OPERATIONS.md, "Securing roster"). curve_secret: the
  // broker's secret certificate; set, it turns CURVE on for all three
  // endpoints and requires the three key settings. agent_keys and
  // admin_keys: directories of the public certificates admitted there;
  // subscriber_keys: a directory, or "any" (any CURVE client: encryption
  // without authorization).
  std::string curve_secret;
  std::string agent_keys;
  std::string admin_keys;
  std::string subscriber_keys;
  // Without CURVE, an admin endpoint off loopback is refused unless this
  // is set.
  bool insecure_admin = false;
  // Lifecycle knobs, passed to the membership core as they are.
  MembershipOptions membership;
  // Coalescing window for deltas: 0 publishes after every round of the
  // event loop (natural batching); more trades latency for fewer deltas.
  uint64_t publish_interval_ms = 0;
  // A full snapshot on the state channel this often (0: never, only on
  // new subscriptions). Bounds how long a subscriber that lost a delta
  // and has no admin access stays stale.
  uint64_t snapshot_interval_ms = 30'000;
  // roster.beat this often; subscribers call the broker unreachable after
  // three missed beats.
  uint64_t beat_interval_ms = 1'000;
  // SO_SNDBUF of the admin and state sockets, which carry snapshots (0:
  // the kernel sizes it, up to net.ipv4.tcp_wmem's maximum, several MiB).
  // A small buffer makes the I/O thread that writes a 10 MiB snapshot go
  // back to its poll loop every 64 KiB instead of copying MiBs per write,
  // which keeps heartbeat acks on a shared core prompt (PERFORMANCE.md);
  // it also caps a connection's snapshot throughput at one buffer per
  // round trip (64 KiB per 1 ms RTT: 64 MB/s). Below 64 KiB, loopback
  // transfers stall on delayed ACKs (32 KiB: 6.5 s for 10.6 MiB).
  uint64_t snapshot_send_buffer_bytes = kDefaultSnapshotSendBufferBytes;
  // spdlog level name: trace, debug, info, warn, error, critical, off.
  std::string log_level = "info";
  // Log line layout: "text" or "json" (service/log_format.h).
  std::string log_format = "text";
  // ADDR:PORT for /metrics, /healthz and /readyz (broker_http.h); empty:
  // no HTTP endpoints. Unauthenticated: loopback or a management network.
  std::string http_address;
  // When set, the resolved endpoints and pid are written here once every
  // socket is bound (see docs/OPERATIONS.md).
  std::string ready_file;
  // The --config file given, if any, and the arguments parsed (without
  // argv[0]): SIGHUP parses them again to reload (reload.h).
  std::string config_file;
  std::vector<std::string> arguments;
};

// What to do instead of running: print `text` (to stdout when exit_status
// is 0, else to stderr) and exit with `exit_status`.
struct ParseExit {
  int exit_status = 2;
  std::string text;
};

using ParseResult = std::variant<BrokerOptions, ParseExit>;

// Parses argv (and the --config file if given, and ROSTER_* environment
// variables). Checks durations, ranges and option combinations; endpoints
// are checked when bound.
ParseResult parse_options(int argc, const char* const* argv);

// True iff `endpoint` cannot be reached from another host: ipc://,
// inproc://, or tcp:// (also ws://) bound to a loopback address
// (127.0.0.0/8, ::1, localhost, the interface lo). A wildcard, another
// address or a host name is not.
bool is_local_endpoint(std::string_view endpoint);

// One line listing every endpoint and setting, for the startup log.
std::string describe(const BrokerOptions& options);

}  // namespace roster::broker
