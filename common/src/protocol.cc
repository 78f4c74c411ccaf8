#include "roster/protocol.h"

#include <algorithm>
#include <limits>

#include "roster/enum_names.h"

namespace roster {

namespace {
constexpr std::string_view kErrorNames[kErrorCodeCount] = {
    "bad_request", "unsupported_version", "unknown_node", "stale_incarnation", "expired", "left",
    "removed",     "over_capacity",       "forbidden",    "unrecognized",
};
constexpr std::string_view kStateNames[kNodeStateCount] = {
    "alive", "suspect", "dead", "left", "removed",
};
}  // namespace

std::string_view to_string(ErrorCode code) {
  return enum_name(code, kErrorNames, std::string_view("unrecognized"));
}

std::optional<ErrorCode> error_code_from_string(std::string_view s) {
  // kUnrecognized is never on the wire: its spelling does not parse.
  return enum_from_name<ErrorCode>(s, kErrorNames, kErrorCodeCount - 1);
}

std::string_view to_string(NodeState state) {
  return enum_name(state, kStateNames, std::string_view("unknown"));
}

std::optional<NodeState> node_state_from_string(std::string_view s) {
  return enum_from_name<NodeState>(s, kStateNames);
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

size_t record_bytes(std::string_view node, std::string_view addr, const Labels& labels) {
  size_t bytes = node.size() + addr.size();
  for (const auto& [key, value] : labels) bytes += key.size() + value.size();
  return bytes;
}

uint64_t max_snapshot_bytes(uint64_t max_nodes, uint64_t max_record_bytes) {
  const uint64_t per_record =
      std::min<uint64_t>(max_record_bytes, kMaxRecordContentBytes) + kMaxRecordOverheadBytes;
  const uint64_t most = std::numeric_limits<uint64_t>::max();
  if (max_nodes > (most - kMaxStateEnvelopeBytes) / per_record) return most;
  return kMaxStateEnvelopeBytes + max_nodes * per_record;
}

}  // namespace roster
