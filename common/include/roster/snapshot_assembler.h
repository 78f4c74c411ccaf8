// Puts a chunked admin snapshot back together on the client side
// (snapshot_parts.h, PROTOCOL.md "snapshot in parts"): feed it each reply
// body in the order received; it checks every part against the first
// (epoch, version), their numbering, and the end marker's counts, under
// limits on parts and bytes, and yields the snapshot. A whole `snapshot`
// reply as the first body (a broker from before parts) is accepted as is.
// Hostile or broken input is an error, never a crash or an unbounded
// allocation beyond the limits.
//
// Pure: no sockets, no clock (the caller owns the deadline: a stream that
// stops before its end marker simply stays kMore). Thread safety: none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "roster/protocol.h"
#include "roster/snapshot_parts.h"

namespace roster {

class SnapshotAssembler {
 public:
  struct Limits {
    uint64_t max_parts = kMaxSnapshotParts;
    // Sum of the bodies received: a snapshot's limit plus a part header each.
    uint64_t max_bytes = kMaxStateBodyBytes + kMaxSnapshotParts * kMaxStateEnvelopeBytes;
  };

  enum class Status {
    kMore,    // waiting for more bodies
    kDone,    // take() the snapshot
    kFailed,  // error() says why; refusal() is set if the broker refused
  };

  SnapshotAssembler() = default;
  explicit SnapshotAssembler(Limits limits) : limits_(limits) {}

  // Takes one reply body. After kDone or kFailed every body fails.
  Status add(std::string_view body);

  Status status() const { return status_; }
  // REQUIRES: status() == kFailed. Names the problem, e.g. "part 3 has
  // version 9, expected 8".
  const std::string& error() const { return error_; }
  // The broker's error reply, when that is why it failed.
  const std::optional<ErrorReply>& refusal() const { return refusal_; }
  // Strings repaired (U+FFFD) in the bodies so far (codec.h).
  size_t replaced_strings() const { return replaced_strings_; }
  // Parts received so far.
  uint64_t parts() const { return parts_; }

  // REQUIRES: status() == kDone. Moves the snapshot out.
  Snapshot take() { return std::move(snapshot_); }

 private:
  Status fail(std::string error);

  Limits limits_;
  Status status_ = Status::kMore;
  std::string error_;
  std::optional<ErrorReply> refusal_;
  size_t replaced_strings_ = 0;
  uint64_t parts_ = 0;
  uint64_t bytes_ = 0;
  Snapshot snapshot_;  // epoch and version from the first part; nodes so far
};

}  // namespace roster
