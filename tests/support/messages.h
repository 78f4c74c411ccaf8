// Message builders and describers for tests: node records, snapshots,
// deltas and beats with every field set to a recognizable value (so that
// encoding and copying are exercised), and replies as readable strings for
// assertion messages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "roster/protocol.h"

namespace roster::testing {

// Field values the builders use, for assertions.
inline constexpr uint64_t kRecordLeaseMs = 3000;
inline constexpr uint64_t kRecordSinceMs = 1'700'000'000'000;
inline constexpr uint64_t kSnapshotTimeMs = 77;
inline constexpr uint64_t kDeltaTimeMs = 88;

// `node` alive at incarnation `inc`: addr "10.0.0.1:80", label zone=a,
// lease kRecordLeaseMs, since kRecordSinceMs.
NodeRecord alive(const std::string& node, uint64_t inc = 1);
// `record` with its state set to `state`.
NodeRecord in_state(NodeRecord record, NodeState state);
// The tombstone of (node, inc): state removed, nothing else set.
NodeRecord removed(const std::string& node, uint64_t inc = 1);

// A snapshot at (epoch, version) holding `nodes`, time kSnapshotTimeMs.
Snapshot snapshot(uint64_t epoch, uint64_t version, std::vector<NodeRecord> nodes,
                  bool complete = true);
// A delta from version-1 to `version`, time kDeltaTimeMs.
Delta delta(uint64_t epoch, uint64_t version, std::vector<NodeRecord> changes);
// A delta from `prev_version` to `version` (a gap when they are apart by
// more than one).
Delta delta(uint64_t epoch, uint64_t prev_version, uint64_t version,
            std::vector<NodeRecord> changes);
Beat beat(uint64_t epoch, uint64_t version);

// Acks and errors as strings, e.g. "error(unknown_node: ...)".
std::string describe(const AgentReply& reply);
std::string describe(const AdminReply& reply);

// True when `reply` is an Ack.
bool is_ack(const std::optional<AgentReply>& reply);
// The error code of an agent reply; nullopt for an ack (or no reply).
std::optional<ErrorCode> error_code(const std::optional<AgentReply>& reply);
// The error code of an admin reply; nullopt if not an error.
std::optional<ErrorCode> error_code(const std::optional<AdminReply>& reply);

}  // namespace roster::testing
