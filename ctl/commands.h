// The rosterctl subcommands. Each prints its result to stdout (errors to
// stderr as "rosterctl: ...") and returns the process exit status: 0 on
// success, 1 on an error (unreachable broker, unknown node, refused
// request). Usage errors (status 2) are caught before they run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "roster/curve_client_options.h"

namespace roster::ctl {

// Options shared by every subcommand.
struct CtlOptions {
  // The brokers' admin and state endpoints (--admin A,B and --state A,B),
  // at least one each; state_endpoints[i] is admin_endpoints[i]'s broker.
  // Reads (members, node, stats) ask the first admin endpoint that
  // answers; remove asks every one; watch follows one broker and fails
  // over (SubscriberOptions::brokers).
  std::vector<std::string> admin_endpoints;
  std::vector<std::string> state_endpoints;
  // How long to wait for the broker before giving up with status 1.
  uint64_t timeout_ms = 3'000;
  // Print JSON (nlohmann_json) instead of text.
  bool json = false;
  // CURVE (--curve-secret/--broker-key, or ROSTER_CURVE_SECRET/
  // ROSTER_BROKER_KEY) on every connection to the broker; empty: plaintext.
  CurveClientOptions curve;
};

// Options of `watch`.
struct WatchOptions {
  // Exit 0 after this many changes (0: run until SIGINT/SIGTERM).
  uint64_t count = 0;
  // Exit 0 after this long (0: run until SIGINT/SIGTERM).
  uint64_t duration_ms = 0;
  // The broker's --beat-interval: staleness is three beats without a message.
  uint64_t beat_interval_ms = 1'000;
};

// `members`: every node of an admin snapshot, as a table or JSON.
int run_members(const CtlOptions& options);
// `node NODE`: one node's record and when it was last heard from.
// REQUIRES: is_valid_node_id(node)
int run_node(const CtlOptions& options, const std::string& node);
// `remove NODE [--inc N]`: the operator removal, sent to every broker. With
// one broker: 0 when it removed the node. With several: one result per
// broker; 0 only when at least one removed the node and every broker that
// answered removed it (those that did not answer are named as
// unreachable, which alone does not fail the command).
// REQUIRES: is_valid_node_id(node)
int run_remove(const CtlOptions& options, const std::string& node, std::optional<uint64_t> inc);
// `stats`: the counters of the first broker that answers; with `all`,
// every broker's (0 only when every one answered).
int run_stats(const CtlOptions& options, bool all);
// `watch`: every change as it happens, plus resyncs and staleness.
int run_watch(const CtlOptions& options, const WatchOptions& watch);

// Options of `keygen`.
struct KeygenOptions {
  // Writes `path` (public certificate) and `path`_secret (mode 0600).
  std::string path;
  // Node-id globs the key may claim on a broker's agents endpoint, stored
  // comma-separated in the public certificate's metadata "node".
  std::vector<std::string> node_globs;
  // Replace existing files instead of refusing.
  bool force = false;
};

// True iff `glob` is 1..256 characters of node-id characters
// ([A-Za-z0-9._:-]) and glob characters (* ? [ ] !): no comma, no space.
bool is_valid_node_glob(const std::string& glob);
// `keygen NAME [--node GLOB]...`: a new CURVE key pair in CZMQ's certificate
// format, metadata name = the file name of NAME. Needs no broker.
int run_keygen(const KeygenOptions& keygen);

}  // namespace roster::ctl
