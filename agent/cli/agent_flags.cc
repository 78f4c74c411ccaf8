#include "agent_flags.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <vector>

#include "cli_options.h"
#include "curve_client.h"
#include "roster/duration.h"
#include "roster_build_version.h"

namespace roster {

namespace {
std::string hostname() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "";
  return name;
}

// A CLI11 validator accepting what parse_duration_ms accepts.
const CLI::Validator kDuration(
    [](std::string& text) -> std::string {
      if (parse_duration_ms(text)) return "";
      return "'" + text + "' is not a duration (e.g. 250ms, 3s, 1m, 1m30s)";
    },
    "", "duration");

std::optional<std::string> parse_labels(const std::vector<std::string>& items, Labels& labels) {
  for (const auto& item : items) {
    const auto eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return "--label '" + item + "' is not of the form key=value";
    }
    labels[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return std::nullopt;
}
}  // namespace

ParsedFlags parse_agent_flags(int argc, char** argv) {
  CLI::App app{
      "roster-agent: keeps this node registered with a roster broker (join, heartbeat every "
      "interval, leave on SIGTERM/SIGINT).\nExit status: 0 left, 1 refused by the broker or "
      "runtime error, 2 usage, 3 removed by the operator, 4 another agent holds this node "
      "id.\nDurations: 250ms, 3s, 1.5s, 5m, 1h, "
      "1m30s. Every option can also come from the environment: --node-id from "
      "ROSTER_AGENT_NODE_ID, --broker from ROSTER_AGENT_BROKER (endpoints separated by commas), "
      "--config from ROSTER_AGENT_CONFIG (precedence: command line, then config file, then "
      "environment).",
      "roster-agent"};
  app.set_version_flag("--version", version_text("roster-agent"));
  AgentFlags flags;
  AgentConfig& config = flags.config;
  std::vector<std::string> labels;
  std::string lease = "3s";
  std::string interval;
  std::string leave_timeout = "1s";
  std::string dead_after = "5s";
  std::string broker_mode(to_string(config.broker_mode));
  config.node_id = hostname();

  app.add_option("--broker", config.brokers,
                 "broker agent endpoint, e.g. tcp://broker:7400; repeat for redundant brokers "
                 "(see --broker-mode)")
      ->required()
      ->take_all()
      ->delimiter(',');
  app.add_option("--broker-mode", broker_mode,
                 "with several --broker: 'all' heartbeats every broker independently (each "
                 "keeps this node in its view); 'failover' uses one at a time, in order, moving "
                 "on when it is lost")
      ->check(CLI::IsMember({"all", "failover"}))
      ->capture_default_str();
  app.add_option("--node-id", config.node_id, "node id: 1..128 bytes of [A-Za-z0-9._:-]")
      ->capture_default_str();
  app.add_option("--addr", config.addr, "address published for controllers");
  app.add_option("--label", labels, "label key=value; repeatable");
  app.add_option("--lease", lease, "requested lease")
      ->check(kDuration)
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--interval", interval, "heartbeat interval (default: lease/3)")
      ->check(kDuration)
      ->type_name("DURATION");
  app.add_option("--leave-timeout", leave_timeout,
                 "how long to wait for the ack of the leave on SIGTERM/SIGINT")
      ->check(kDuration)
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--dead-after", dead_after,
                 "the broker's --dead-after: refused stale_incarnation by a live holder for "
                 "longer than lease + dead-after, the agent exits 4 (another agent holds the id)")
      ->check(kDuration)
      ->type_name("DURATION")
      ->capture_default_str();
  app.add_option("--curve-secret", config.curve.secret_certificate_file,
                 "this agent's secret CURVE certificate (the NAME_secret file of `rosterctl "
                 "keygen NAME`); with --broker-key, talk CURVE to the broker")
      ->type_name("FILE");
  app.add_option("--broker-key", config.curve.broker_certificate_file,
                 "the broker's public CURVE certificate; with --curve-secret")
      ->type_name("FILE");
  add_log_options(app, flags.log_level, "trace, debug, info, warn, error, critical, off",
                  flags.log_format,
                  "log lines as text (under systemd with the <N> priority prefix journald reads) "
                  "or as one JSON object per line");
  add_http_option(app, flags.http_address,
                  "serve /healthz and /metrics (Prometheus) over HTTP on ADDR:PORT; off by "
                  "default. No authentication: bind loopback or a management network");
  add_config_and_environment(
      app, kAgentEnvironmentPrefix,
      "read options from a TOML/INI file: one 'option = value' line per long option "
      "name without the dashes, e.g. lease = \"3s\" or broker = [\"tcp://a:7400\", "
      "\"tcp://b:7400\"]");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return {std::nullopt, app.exit(e)};
  } catch (const CLI::CallForAllHelp& e) {
    return {std::nullopt, app.exit(e)};
  } catch (const CLI::CallForVersion& e) {
    return {std::nullopt, app.exit(e)};
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return {std::nullopt, kExitUsage};
  }

  config.lease_ms = *parse_duration_ms(lease);
  if (!interval.empty()) config.interval_ms = *parse_duration_ms(interval);
  config.leave_timeout_ms = *parse_duration_ms(leave_timeout);
  config.dead_after_ms = *parse_duration_ms(dead_after);
  config.broker_mode = *broker_mode_from_name(broker_mode);
  std::optional<std::string> error = parse_labels(labels, config.labels);
  if (!error) error = validate_agent_config(config);
  if (!error) {
    // Read the certificates now: a missing or bad file is a usage error
    // (exit 2) naming the file, not a runtime failure after the start.
    std::string curve_error;
    resolve_curve_client(config.curve, &curve_error);
    if (!curve_error.empty()) error = curve_error;
  }
  if (error) {
    std::cerr << "roster-agent: " << *error << "\nRun with --help for more information.\n";
    return {std::nullopt, kExitUsage};
  }
  return {std::move(flags), kExitOk};
}

}  // namespace roster
