// rosterctl: the operator and controller command line of roster.
//
//   rosterctl [--admin EP[,EP...]] [--state EP[,EP...]] [--timeout D] [--json]
//             [--curve-secret FILE --broker-key FILE] COMMAND
//     members | watch [--count N] [--duration D] [--beat-interval D]
//     | node NODE | remove NODE [--inc N] | stats [--all]
//     | keygen NAME [--node GLOB]... [--force]
//
// Several endpoints name redundant brokers (commands.h says what each
// command does with them).
//
// Exit status: 0 success, 1 error (message on stderr), 2 usage error. It
// never aborts on what a broker sends: strings are repaired (invalid UTF-8)
// and escaped (control characters) before they are printed.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <utility>

#include "broker_list.h"
#include "commands.h"
#include "curve_client.h"
#include "roster/duration.h"
#include "roster/protocol.h"
#include "roster/utf8.h"
#include "roster_build_version.h"

namespace {

constexpr int kUsageError = 2;

// CLI11 check: a duration such as 250ms, 3s, 1m.
std::string check_duration(const std::string& text) {
  return roster::parse_duration_ms(text) ? "" : "not a duration (e.g. 250ms, 3s, 1m): " + text;
}

// CLI11 check: a node id as the protocol allows it.
std::string check_node_id(const std::string& text) {
  return roster::is_valid_node_id(text) ? ""
                                        : "not a node id (1..128 bytes of A-Za-z0-9._:-): " + text;
}

}  // namespace

int main(int argc, char** argv) {
  using roster::ctl::CtlOptions;
  using roster::ctl::WatchOptions;

  // Library warnings go to stderr: stdout is for results (and JSON).
  spdlog::set_default_logger(spdlog::stderr_color_mt("rosterctl"));

  CLI::App app{"rosterctl: inspect and operate a roster broker"};
  app.set_version_flag("--version", roster::version_text("rosterctl"));
  app.require_subcommand(1);
  app.fallthrough();

  CtlOptions options;
  std::string admin_list(roster::kDefaultAdminEndpoint);
  std::string state_list = "tcp://127.0.0.1:7401";
  std::string timeout = "3s";
  app.add_option("--admin", admin_list,
                 "broker admin endpoint; several (redundant brokers) comma-separated")
      ->envname("ROSTER_ADMIN")
      ->capture_default_str();
  app.add_option("--state", state_list,
                 "broker state (publish) endpoint; several comma-separated, in --admin's order")
      ->envname("ROSTER_STATE")
      ->capture_default_str();
  app.add_option("--timeout", timeout, "give up on an unreachable broker after this long")
      ->check(check_duration)
      ->capture_default_str();
  app.add_flag("--json", options.json, "print JSON instead of text");
  app.add_option("--curve-secret", options.curve.secret_certificate_file,
                 "this client's secret CURVE certificate (the NAME_secret file of `rosterctl "
                 "keygen NAME`); with --broker-key, talk CURVE to the broker")
      ->envname("ROSTER_CURVE_SECRET")
      ->type_name("FILE");
  app.add_option("--broker-key", options.curve.broker_certificate_file,
                 "the broker's public CURVE certificate; with --curve-secret")
      ->envname("ROSTER_BROKER_KEY")
      ->type_name("FILE");

  app.add_subcommand("members", "list every node: node, inc, state, addr, labels, since");

  auto* watch_cmd = app.add_subcommand(
      "watch", "print each change live, with resyncs and staleness, until SIGINT/SIGTERM");
  WatchOptions watch;
  std::string duration = "0";
  std::string beat_interval = "1s";
  watch_cmd->add_option("--count", watch.count, "exit after this many changes (0: no limit)");
  watch_cmd->add_option("--duration", duration, "exit after this long (0: no limit)")
      ->check(check_duration);
  watch_cmd
      ->add_option("--beat-interval", beat_interval,
                   "the broker's beat interval; stale after three without a message")
      ->check(check_duration)
      ->capture_default_str();

  std::string node;
  auto* node_cmd = app.add_subcommand("node", "show one node");
  node_cmd->add_option("NODE", node, "node id")->required()->check(check_node_id);

  std::string remove_node;
  std::optional<uint64_t> inc;
  auto* remove_cmd = app.add_subcommand("remove", "remove a node now (operator removal)");
  remove_cmd->add_option("NODE", remove_node, "node id")->required()->check(check_node_id);
  remove_cmd->add_option("--inc", inc, "remove only this incarnation");

  bool stats_all = false;
  auto* stats_cmd = app.add_subcommand("stats", "show the broker's counters");
  stats_cmd->add_flag("--all", stats_all, "every broker's counters, not only the first's");

  roster::ctl::KeygenOptions keygen;
  auto* keygen_cmd = app.add_subcommand(
      "keygen", "write a CURVE key pair: NAME (public certificate) and NAME_secret (mode 0600)");
  keygen_cmd->add_option("NAME", keygen.path, "path of the public certificate")->required();
  keygen_cmd
      ->add_option("--node", keygen.node_globs,
                   "node-id glob this key may claim on the agents endpoint (repeatable)")
      ->check([](const std::string& glob) {
        return roster::ctl::is_valid_node_glob(glob)
                   ? ""
                   : "not a node-id glob (A-Za-z0-9._:- and * ? [ ] !): " + glob;
      });
  keygen_cmd->add_flag("--force", keygen.force, "replace existing files");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int status = app.exit(e);
    return status == 0 ? 0 : kUsageError;
  }

  std::string list_error;
  auto admin_endpoints = roster::ctl::split_endpoints(admin_list, &list_error);
  auto state_endpoints = roster::ctl::split_endpoints(state_list, &list_error);
  if (!admin_endpoints || !state_endpoints) {
    std::cerr << "rosterctl: " << list_error << "\n";
    return kUsageError;
  }
  options.admin_endpoints = std::move(*admin_endpoints);
  options.state_endpoints = std::move(*state_endpoints);
  options.timeout_ms = *roster::parse_duration_ms(timeout);
  if (options.timeout_ms == 0) {
    std::cerr << "rosterctl: --timeout must be more than 0\n";
    return kUsageError;
  }
  {
    // Both certificates or neither, and both readable: a usage error now
    // rather than a failed connection later.
    std::string curve_error;
    resolve_curve_client(options.curve, &curve_error);
    if (!curve_error.empty()) {
      std::cerr << "rosterctl: " << curve_error << "\n";
      return kUsageError;
    }
  }
  if (app.got_subcommand(watch_cmd)) {
    // watch pairs the lists: the i-th state endpoint is the i-th broker's.
    if (options.admin_endpoints.size() != options.state_endpoints.size()) {
      std::cerr << "rosterctl: watch needs as many --state endpoints as --admin endpoints ("
                << options.state_endpoints.size() << " and " << options.admin_endpoints.size()
                << ")\n";
      return kUsageError;
    }
    watch.duration_ms = *roster::parse_duration_ms(duration);
    watch.beat_interval_ms = *roster::parse_duration_ms(beat_interval);
    if (watch.beat_interval_ms == 0) {
      std::cerr << "rosterctl: --beat-interval must be more than 0\n";
      return kUsageError;
    }
  }
  // Nothing a broker sends may abort rosterctl: whatever escapes a command
  // is an error with a message and status 1, never std::terminate.
  try {
    if (app.got_subcommand("members")) return roster::ctl::run_members(options);
    if (app.got_subcommand(watch_cmd)) return roster::ctl::run_watch(options, watch);
    if (app.got_subcommand(node_cmd)) return roster::ctl::run_node(options, node);
    if (app.got_subcommand(remove_cmd)) return roster::ctl::run_remove(options, remove_node, inc);
    if (app.got_subcommand(stats_cmd)) return roster::ctl::run_stats(options, stats_all);
    if (app.got_subcommand(keygen_cmd)) return roster::ctl::run_keygen(keygen);
  } catch (const std::exception& e) {
    std::cerr << "rosterctl: error: " << roster::escape_for_terminal(e.what()) << std::endl;
    return 1;
  } catch (...) {
    std::cerr << "rosterctl: error: unexpected exception" << std::endl;
    return 1;
  }
  return kUsageError;
}
