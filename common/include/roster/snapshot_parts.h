// Chunked admin snapshots, a compatible addition to protocol v1: a snapshot
// request with `part_bytes` is answered with snapshot_part messages, each
// holding a run of the snapshot's records, then one snapshot_end that says
// how many parts and records were sent (the Clone pattern's end marker).
// docs/PROTOCOL.md, "snapshot in parts", is the reference.
#pragma once

#include <cstddef>
#include <cstdint>
#include <variant>
#include <vector>

#include "roster/protocol.h"

namespace roster {

// The broker clamps a requested part_bytes into [kMinPartBytes,
// kMaxPartBytes], and makes parts larger still when more than
// kMaxSnapshotParts would be needed.
inline constexpr uint64_t kMinPartBytes = 64 * 1024;
inline constexpr uint64_t kMaxPartBytes = 64 * 1024 * 1024;
inline constexpr uint64_t kMaxSnapshotParts = 256;
// What roster's own clients ask for.
inline constexpr uint64_t kClientPartBytes = 1024 * 1024;

// Returns the part size the broker uses for a request of `requested`
// bytes: clamped as above.
inline uint64_t clamp_part_bytes(uint64_t requested) {
  return requested < kMinPartBytes   ? kMinPartBytes
         : requested > kMaxPartBytes ? kMaxPartBytes
                                     : requested;
}

// The fields of a part other than its records.
struct SnapshotPartHeader {
  uint64_t epoch = 0;
  uint64_t version = 0;
  uint64_t part = 0;  // 0, 1, 2, ... in the order sent
};

// One part: the next run of the snapshot's records.
struct SnapshotPart {
  uint64_t epoch = 0;
  uint64_t version = 0;
  uint64_t part = 0;
  std::vector<NodeRecord> nodes;
};

// The end marker: the rest of the snapshot's fields, and what was sent.
struct SnapshotEnd {
  uint64_t epoch = 0;
  uint64_t version = 0;
  bool complete = false;
  uint64_t time_ms = 0;
  uint64_t parts = 0;       // snapshot_part messages before this one
  uint64_t node_count = 0;  // records in them, all parts together
};

// One reply to a snapshot request with part_bytes.
using SnapshotReply = std::variant<Snapshot, SnapshotPart, SnapshotEnd, ErrorReply>;

inline bool operator==(const SnapshotPart& a, const SnapshotPart& b) {
  return a.epoch == b.epoch && a.version == b.version && a.part == b.part && a.nodes == b.nodes;
}
inline bool operator==(const SnapshotEnd& a, const SnapshotEnd& b) {
  return a.epoch == b.epoch && a.version == b.version && a.complete == b.complete &&
         a.time_ms == b.time_ms && a.parts == b.parts && a.node_count == b.node_count;
}

}  // namespace roster
