#include "support/messages.h"

#include <sstream>
#include <type_traits>
#include <utility>
#include <variant>

namespace roster::testing {

NodeRecord alive(const std::string& node, uint64_t inc) {
  NodeRecord r;
  r.node = node;
  r.inc = inc;
  r.state = NodeState::kAlive;
  r.addr = "10.0.0.1:80";
  r.labels = {{"zone", "a"}};
  r.lease_ms = kRecordLeaseMs;
  r.since_ms = kRecordSinceMs;
  return r;
}

NodeRecord in_state(NodeRecord record, NodeState state) {
  record.state = state;
  return record;
}

NodeRecord removed(const std::string& node, uint64_t inc) {
  NodeRecord r;
  r.node = node;
  r.inc = inc;
  r.state = NodeState::kRemoved;
  return r;
}

Snapshot snapshot(uint64_t epoch, uint64_t version, std::vector<NodeRecord> nodes, bool complete) {
  return Snapshot{epoch, version, complete, kSnapshotTimeMs, std::move(nodes)};
}

Delta delta(uint64_t epoch, uint64_t version, std::vector<NodeRecord> changes) {
  return delta(epoch, version - 1, version, std::move(changes));
}

Delta delta(uint64_t epoch, uint64_t prev_version, uint64_t version,
            std::vector<NodeRecord> changes) {
  return Delta{epoch, version, prev_version, kDeltaTimeMs, std::move(changes)};
}

Beat beat(uint64_t epoch, uint64_t version) {
  return Beat{epoch, version, /*time_ms=*/0};
}

std::string describe(const AgentReply& reply) {
  std::ostringstream out;
  if (auto* ack = std::get_if<Ack>(&reply)) {
    out << "ack(seq " << ack->seq << ", lease " << ack->lease_ms << ", " << to_string(ack->state)
        << ")";
  } else {
    const auto& error = std::get<ErrorReply>(reply);
    out << "error(" << to_string(error.code) << ": " << error.message << ")";
  }
  return out.str();
}

std::string describe(const AdminReply& reply) {
  return std::visit(
      [](const auto& r) -> std::string {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, ErrorReply>) {
          return "error(" + std::string(to_string(r.code)) + ": " + r.message + ")";
        } else if constexpr (std::is_same_v<T, Snapshot>) {
          return "snapshot(version " + std::to_string(r.version) + ")";
        } else if constexpr (std::is_same_v<T, NodeInfo>) {
          return "node(" + r.record.node + ")";
        } else if constexpr (std::is_same_v<T, RemovedReply>) {
          return "removed(" + r.node + ")";
        } else {
          return "stats";
        }
      },
      reply);
}

namespace {
template <typename Reply>
std::optional<ErrorCode> error_code_of(const std::optional<Reply>& reply) {
  if (!reply) return std::nullopt;
  if (auto* error = std::get_if<ErrorReply>(&*reply)) return error->code;
  return std::nullopt;
}
}  // namespace

bool is_ack(const std::optional<AgentReply>& reply) {
  return reply && std::holds_alternative<Ack>(*reply);
}

std::optional<ErrorCode> error_code(const std::optional<AgentReply>& reply) {
  return error_code_of(reply);
}

std::optional<ErrorCode> error_code(const std::optional<AdminReply>& reply) {
  return error_code_of(reply);
}

}  // namespace roster::testing
