#include "options.h"

#include <CLI/CLI.hpp>

#include <sstream>

#include "cli_options.h"
#include "roster/duration.h"
#include "roster_build_version.h"

namespace roster::broker {

namespace {

// Turns "3s" into "3000" so CLI11 can store it in an integer; rejects
// anything parse_duration_ms() refuses.
CLI::Validator duration_transform() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        auto ms = parse_duration_ms(text);
        if (!ms) {
          return "invalid duration '" + text + "' (examples: 250ms, 3s, 1.5s, 5m, 1h, 1m30s)";
        }
        text = std::to_string(*ms);
        return {};
      },
      "", "duration");
}

void add_duration(CLI::App& app, const std::string& name, uint64_t& target,
                  const std::string& help) {
  app.add_option(name, target, help)
      ->transform(duration_transform())
      ->type_name("DURATION")
      ->default_str(format_duration_ms(target));
}

void add_endpoint(CLI::App& app, const std::string& name, std::string& target,
                  const std::string& help) {
  app.add_option(name, target, help)->type_name("ENDPOINT")->capture_default_str();
}

// A file or directory option; type_name says which (FILE, DIR, ...).
void add_path(CLI::App& app, const std::string& name, std::string& target,
              const std::string& type_name, const std::string& help) {
  app.add_option(name, target, help)->type_name(type_name);
}

// The CURVE settings go together; without them the admin endpoint stays
// on this host unless --insecure-admin says otherwise.
std::string check_curve(const BrokerOptions& o) {
  if (o.curve_secret.empty()) {
    for (const auto* flag : {&o.agent_keys, &o.admin_keys, &o.subscriber_keys}) {
      if (!flag->empty()) {
        return "--agent-keys, --admin-keys and --subscriber-keys need --curve-secret (CURVE is "
               "off without it)";
      }
    }
    if (!o.insecure_admin && !is_local_endpoint(o.admin_endpoint)) {
      return "--admin " + o.admin_endpoint +
             " is not a loopback address and CURVE is off: anyone who reaches it could remove "
             "nodes. Bind it to 127.0.0.1, or turn CURVE on (--curve-secret, --admin-keys), or "
             "accept the risk with --insecure-admin";
    }
    return {};
  }
  if (o.agent_keys.empty() || o.admin_keys.empty() || o.subscriber_keys.empty()) {
    return "--curve-secret needs --agent-keys DIR, --admin-keys DIR and --subscriber-keys "
           "DIR|any: say which keys each endpoint admits";
  }
  return {};
}

// Checks that hold between options; an error message or empty.
std::string check_combination(const BrokerOptions& o) {
  const MembershipOptions& m = o.membership;
  if (m.min_lease_ms == 0) return "--min-lease must be greater than 0";
  if (m.min_lease_ms > m.max_lease_ms) {
    return "--min-lease (" + format_duration_ms(m.min_lease_ms) +
           ") is greater than --max-lease (" + format_duration_ms(m.max_lease_ms) + ")";
  }
  if (m.stall_threshold_ms == 0) return "--stall-threshold must be greater than 0";
  if (o.beat_interval_ms == 0) return "--beat-interval must be greater than 0";
  if (m.max_tombstones == 0) return "--max-tombstones must be greater than 0";
  if (m.max_nodes == 0) return "--max-nodes must be greater than 0";
  if (m.max_record_bytes == 0) return "--max-record-bytes must be greater than 0";
  const uint64_t send_buffer = o.snapshot_send_buffer_bytes;
  if (send_buffer != 0 &&
      (send_buffer < kMinSnapshotSendBufferBytes || send_buffer > kMaxSnapshotSendBufferBytes)) {
    return "--snapshot-send-buffer must be 0 (the kernel's sizing) or from " +
           std::to_string(kMinSnapshotSendBufferBytes) + " to " +
           std::to_string(kMaxSnapshotSendBufferBytes) + " bytes";
  }
  // The largest snapshot must stay within what clients accept.
  uint64_t largest = max_snapshot_bytes(m.max_nodes, m.max_record_bytes);
  if (largest > kMaxStateBodyBytes) {
    return "--max-nodes (" + std::to_string(m.max_nodes) + ") x (--max-record-bytes (" +
           std::to_string(m.max_record_bytes) + ") + " + std::to_string(kMaxRecordOverheadBytes) +
           ") allows a snapshot of up to " + std::to_string(largest) +
           " bytes, over the limit of " + std::to_string(kMaxStateBodyBytes) +
           " bytes that clients accept: lower one of them";
  }
  if (o.agents_endpoint.empty() || o.publish_endpoint.empty() || o.admin_endpoint.empty()) {
    return "endpoints must not be empty";
  }
  return check_curve(o);
}

}  // namespace

ParseResult parse_options(int argc, const char* const* argv) {
  BrokerOptions o;
  MembershipOptions& m = o.membership;
  CLI::App app{
      "roster-broker: cluster membership broker. Agents heartbeat the agents endpoint; "
      "membership snapshots, deltas and beats are published on the publish endpoint; "
      "operators query the admin endpoint. Durations: 250ms, 3s, 1.5s, 5m, 1h, 1m30s. Every "
      "option can also come from the environment: --max-lease from ROSTER_BROKER_MAX_LEASE, "
      "--config from ROSTER_BROKER_CONFIG (precedence: command line, then config file, then "
      "environment).",
      "roster-broker"};
  app.option_defaults()->always_capture_default();
  app.set_version_flag("--version", version_text("roster-broker"));

  add_endpoint(app, "--agents", o.agents_endpoint, "Agent channel (ROUTER) to bind");
  add_endpoint(app, "--publish", o.publish_endpoint, "State channel (XPUB) to bind");
  add_endpoint(app, "--admin", o.admin_endpoint,
               "Admin channel (ROUTER) to bind; keep it on loopback or a trusted network");
  add_path(app, "--curve-secret", o.curve_secret, "FILE",
           "The broker's secret CURVE certificate (rosterctl keygen): turns CURVE on for "
           "all three endpoints; needs --agent-keys, --admin-keys and --subscriber-keys");
  add_path(app, "--agent-keys", o.agent_keys, "DIR",
           "Directory of the public certificates admitted on the agents endpoint; each may "
           "claim the node ids its metadata 'node' globs match. SIGHUP reloads it");
  add_path(app, "--admin-keys", o.admin_keys, "DIR",
           "Directory of the public certificates admitted on the admin endpoint. SIGHUP "
           "reloads it");
  add_path(app, "--subscriber-keys", o.subscriber_keys, "DIR|any",
           "Directory of the public certificates admitted on the publish endpoint, or "
           "'any' (any CURVE client: encryption without authorization). SIGHUP reloads it");
  app.add_flag("--insecure-admin", o.insecure_admin,
               "Allow an admin endpoint off loopback without CURVE (anyone reaching it can "
               "remove nodes)");
  add_duration(app, "--min-lease", m.min_lease_ms, "Shortest lease granted to an agent");
  add_duration(app, "--max-lease", m.max_lease_ms,
               "Longest lease granted to an agent; also the warm-up after a start "
               "(snapshots say complete: false meanwhile)");
  add_duration(app, "--dead-after", m.dead_after_ms,
               "A suspect node (lease expired) is declared dead after this long");
  add_duration(app, "--forget-dead-after", m.forget_dead_after_ms,
               "A dead node is forgotten (removed) after this long");
  add_duration(app, "--forget-left-after", m.forget_left_after_ms,
               "A node that left is forgotten (removed) after this long");
  add_duration(app, "--tombstone-ttl", m.tombstone_ttl_ms,
               "A forgotten incarnation is refused (expired, left, or removed after an operator "
               "removal) for this long");
  app.add_option("--max-tombstones", m.max_tombstones,
                 "At most this many tombstones are kept (oldest evicted first)")
      ->capture_default_str();
  app.add_option("--max-nodes", m.max_nodes,
                 "At most this many nodes held (any state); a join beyond is refused with "
                 "over_capacity")
      ->capture_default_str();
  app.add_option("--max-record-bytes", m.max_record_bytes,
                 "At most this many bytes of node id + addr + label keys and values per node; a "
                 "larger join is refused with over_capacity. max-nodes x (max-record-bytes + 256) "
                 "must stay within 512 MiB")
      ->capture_default_str();
  add_duration(app, "--stall-threshold", m.stall_threshold_ms,
               "A pause of the broker longer than this extends every lease instead of "
               "expiring nodes");
  add_duration(app, "--publish-interval", o.publish_interval_ms,
               "Coalescing window for deltas (0: publish after every event-loop round)");
  add_duration(app, "--snapshot-interval", o.snapshot_interval_ms,
               "Publish a full snapshot this often (0: only when a subscriber arrives)");
  add_duration(app, "--beat-interval", o.beat_interval_ms, "Publish roster.beat this often");
  app.add_option("--snapshot-send-buffer", o.snapshot_send_buffer_bytes,
                 "Kernel send buffer (bytes) of each admin and state connection, which carry "
                 "snapshots: small keeps acks prompt while a snapshot is written, large is faster "
                 "over long round trips; 0 lets the kernel size it. Applies at start")
      ->capture_default_str();
  add_log_options(app, o.log_level, "Log level", o.log_format,
                  "Log lines as text (under systemd with the <N> priority prefix journald reads) "
                  "or as one JSON object per line");
  add_http_option(app, o.http_address,
                  "Serve /metrics (Prometheus), /healthz and /readyz over HTTP on ADDR:PORT (port "
                  "0: any free one, written to --ready-file); off by default. No authentication: "
                  "bind loopback or a management network");
  app.add_option("--ready-file", o.ready_file,
                 "Once every socket is bound, write agents=EP, publish=EP, admin=EP, pid=N "
                 "(and http=ADDR:PORT with --http) lines here (atomically: FILE.tmp then rename)")
      ->type_name("FILE");
  add_config_and_environment(
      app, kEnvironmentPrefix,
      "Read options from a TOML/INI file: one 'option = value' line per long option "
      "name without the dashes, e.g. min-lease = \"2s\"");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return ParseExit{0, app.help()};
  } catch (const CLI::CallForAllHelp&) {
    return ParseExit{0, app.help("", CLI::AppFormatMode::All)};
  } catch (const CLI::CallForVersion& e) {
    return ParseExit{0, e.what()};
  } catch (const CLI::ParseError& e) {
    return ParseExit{2, std::string("roster-broker: ") + e.what() + " (see --help)"};
  }
  std::string problem = check_combination(o);
  if (!problem.empty()) return ParseExit{2, "roster-broker: " + problem + " (see --help)"};
  const CLI::Option* config = app.get_config_ptr();
  if (config != nullptr && config->count() > 0) o.config_file = config->as<std::string>();
  if (argc > 1) o.arguments.assign(argv + 1, argv + argc);
  return o;
}

bool is_local_endpoint(std::string_view endpoint) {
  const auto scheme_end = endpoint.find("://");
  if (scheme_end == std::string_view::npos) return false;
  const std::string_view scheme = endpoint.substr(0, scheme_end);
  if (scheme == "ipc" || scheme == "inproc") return true;
  if (scheme != "tcp" && scheme != "ws") return false;
  std::string_view host = endpoint.substr(scheme_end + 3);
  // tcp://HOST:PORT (ws:// may add a path): the host is before the last ':'.
  const auto slash = host.find('/');
  if (slash != std::string_view::npos) host = host.substr(0, slash);
  const auto colon = host.rfind(':');
  if (colon == std::string_view::npos) return false;
  host = host.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost" || host == "lo" || host == "::1") return true;
  // 127.0.0.0/8, as a dotted quad.
  if (host.substr(0, 4) != "127.") return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

std::string describe(const BrokerOptions& o) {
  const MembershipOptions& m = o.membership;
  std::ostringstream out;
  out << "agents=" << o.agents_endpoint << " publish=" << o.publish_endpoint
      << " admin=" << o.admin_endpoint << " curve=" << (o.curve_secret.empty() ? "off" : "on")
      << " min_lease=" << format_duration_ms(m.min_lease_ms)
      << " max_lease=" << format_duration_ms(m.max_lease_ms)
      << " dead_after=" << format_duration_ms(m.dead_after_ms)
      << " forget_dead_after=" << format_duration_ms(m.forget_dead_after_ms)
      << " forget_left_after=" << format_duration_ms(m.forget_left_after_ms)
      << " tombstone_ttl=" << format_duration_ms(m.tombstone_ttl_ms)
      << " max_tombstones=" << m.max_tombstones << " max_nodes=" << m.max_nodes
      << " max_record_bytes=" << m.max_record_bytes
      << " stall_threshold=" << format_duration_ms(m.stall_threshold_ms)
      << " publish_interval=" << format_duration_ms(o.publish_interval_ms)
      << " snapshot_interval=" << format_duration_ms(o.snapshot_interval_ms)
      << " beat_interval=" << format_duration_ms(o.beat_interval_ms)
      << " snapshot_send_buffer=" << o.snapshot_send_buffer_bytes << " log_level=" << o.log_level
      << " log_format=" << o.log_format
      << " http=" << (o.http_address.empty() ? "off" : o.http_address);
  return out.str();
}

}  // namespace roster::broker
