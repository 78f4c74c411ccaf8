#include "roster/agent_config.h"

#include <algorithm>
#include <set>

#include "roster/enum_names.h"

namespace roster {

namespace {
constexpr std::string_view kBrokerModeNames[] = {"all", "failover"};

// "transport://address" with a transport ZeroMQ knows and a non-empty address.
bool looks_like_endpoint(const std::string& endpoint) {
  static const char* const kTransports[] = {"tcp",  "ipc",  "inproc", "pgm", "epgm",
                                            "tipc", "vmci", "udp",    "ws",  "wss"};
  const auto sep = endpoint.find("://");
  if (sep == std::string::npos || sep + 3 >= endpoint.size()) return false;
  const std::string transport = endpoint.substr(0, sep);
  return std::any_of(std::begin(kTransports), std::end(kTransports),
                     [&](const char* t) { return transport == t; });
}
}  // namespace

std::string_view to_string(BrokerMode mode) {
  return enum_name(mode, kBrokerModeNames, std::string_view("unknown"));
}

std::optional<BrokerMode> broker_mode_from_name(std::string_view name) {
  return enum_from_name<BrokerMode>(name, kBrokerModeNames);
}

std::optional<std::string> validate_labels(const Labels& labels) {
  if (labels.size() > kMaxLabels) {
    return "at most " + std::to_string(kMaxLabels) + " labels (got " +
           std::to_string(labels.size()) + ")";
  }
  for (const auto& [key, value] : labels) {
    if (key.empty() || key.size() > kMaxLabelKeyBytes) {
      return "label key '" + key + "' must be 1.." + std::to_string(kMaxLabelKeyBytes) + " bytes";
    }
    if (value.size() > kMaxLabelValueBytes) {
      return "label '" + key + "': value over " + std::to_string(kMaxLabelValueBytes) + " bytes";
    }
  }
  return std::nullopt;
}

std::optional<std::string> validate_agent_config(const AgentConfig& config) {
  if (config.brokers.empty()) return "at least one broker endpoint is required";
  for (const auto& endpoint : config.brokers) {
    if (!looks_like_endpoint(endpoint)) {
      return "broker endpoint '" + endpoint + "' is not of the form transport://address";
    }
  }
  if (std::set<std::string>(config.brokers.begin(), config.brokers.end()).size() !=
      config.brokers.size()) {
    return "a broker endpoint is listed twice";
  }
  if (config.broker_mode != BrokerMode::kAll && config.broker_mode != BrokerMode::kFailover) {
    return "unknown broker mode";
  }
  if (!is_valid_node_id(config.node_id)) {
    return "node id '" + config.node_id + "' must be 1.." + std::to_string(kMaxNodeIdBytes) +
           " bytes of [A-Za-z0-9._:-]";
  }
  if (config.addr.size() > kMaxAddrBytes) {
    return "addr is over " + std::to_string(kMaxAddrBytes) + " bytes";
  }
  if (auto error = validate_labels(config.labels)) return error;
  if (config.lease_ms == 0) return "the lease must be positive";
  if (config.interval_ms >= config.lease_ms) {
    return "the heartbeat interval must be shorter than the lease";
  }
  if (config.leave_timeout_ms == 0) return "the leave timeout must be positive";
  if (config.backoff_min_ms == 0) return "the minimum backoff must be positive";
  if (config.backoff_max_ms != 0 && config.backoff_max_ms < config.backoff_min_ms) {
    return "the maximum backoff must not be below the minimum";
  }
  return std::nullopt;
}

uint64_t effective_interval_ms(uint64_t lease_ms, uint64_t interval_ms) {
  if (interval_ms > 0) return interval_ms;
  return std::max<uint64_t>(1, lease_ms / 3);
}

}  // namespace roster
