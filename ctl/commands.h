// The rosterctl subcommands. Each prints its result to stdout (errors to
// stderr as "rosterctl: ...") and returns the process exit status: 0 on
// success, 1 on an error (unreachable broker, unknown node, refused
// request). Usage errors (status 2) are caught before they run.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

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

}  // namespace roster::ctl
