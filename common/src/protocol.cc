#include "roster/protocol.h"

namespace roster {

namespace {
constexpr std::string_view kErrorNames[kErrorCodeCount] = {
    "bad_request", "unsupported_version", "unknown_node", "stale_incarnation",
    "expired",     "left",                "removed",      "over_capacity",
    "unrecognized",
};
constexpr std::string_view kStateNames[kNodeStateCount] = {
    "alive", "suspect", "dead", "left", "removed",
};
}  // namespace

std::string_view to_string(ErrorCode code) { return kErrorNames[static_cast<size_t>(code)]; }

std::optional<ErrorCode> error_code_from_string(std::string_view s) {
  // kUnrecognized is never on the wire: its spelling does not parse.
  for (size_t i = 0; i + 1 < kErrorCodeCount; ++i) {
    if (kErrorNames[i] == s) return static_cast<ErrorCode>(i);
  }
  return std::nullopt;
}

std::string_view to_string(NodeState state) { return kStateNames[static_cast<size_t>(state)]; }

std::optional<NodeState> node_state_from_string(std::string_view s) {
  for (size_t i = 0; i < kNodeStateCount; ++i) {
    if (kStateNames[i] == s) return static_cast<NodeState>(i);
  }
  return std::nullopt;
}

bool is_valid_node_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxNodeIdBytes) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace roster
