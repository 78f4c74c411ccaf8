// A membership view built from the state channel: a snapshot plus the deltas
// that follow it. Used by the broker's publisher (its own copy of the state)
// and by the subscriber library (the controller's copy).
//
// Thread safety: none; one owner.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "roster/protocol.h"

namespace roster {

class View {
 public:
  // What apply() did with a delta. The checks run in this order, so a
  // delta gets the first that holds: kNoBase, kEpoch, kOld, kGap, kApplied.
  enum class ApplyResult {
    kApplied,  // prev_version matched: the view is now at delta.version
    kOld,      // delta.version <= version(): already contained, ignored
    kGap,      // prev_version != version(): deltas were missed, resync needed
    kEpoch,    // another epoch: resync needed
    kNoBase,   // the view has no snapshot yet
  };

  // What one record of an applied delta did to the view.
  struct Change {
    // The node's record just before this one was applied; nullopt when the
    // view did not hold the node (then a kRemoved record changed nothing).
    // A node named twice in one delta sees its first record here.
    std::optional<NodeRecord> old;
    // The delta's record; kRemoved when the node left the view.
    NodeRecord record;
  };

  // Replaces the whole view with `snapshot`.
  void reset(const Snapshot& snapshot);

  // Applies `delta` if it continues this view (same epoch, prev_version ==
  // version()). A kRemoved record deletes the node; any other record
  // replaces the node's record. Changes nothing unless kApplied. When
  // `changes` is not null and the delta is applied, appends one Change per
  // record of the delta, in the delta's order (nothing otherwise).
  ApplyResult apply(const Delta& delta, std::vector<Change>* changes = nullptr);

  // Marks the view complete or not (snapshots carry it; deltas do not).
  void set_complete(bool complete) { complete_ = complete; }

  bool has_base() const { return has_base_; }
  uint64_t epoch() const { return epoch_; }
  uint64_t version() const { return version_; }
  bool complete() const { return complete_; }
  // Records by node id, in id order.
  const std::map<std::string, NodeRecord>& nodes() const { return nodes_; }
  // The view as a snapshot stamped with `time_ms`, nodes in id order.
  Snapshot to_snapshot(uint64_t time_ms) const;

 private:
  bool has_base_ = false;
  uint64_t epoch_ = 0;
  uint64_t version_ = 0;
  bool complete_ = false;
  std::map<std::string, NodeRecord> nodes_;
};

}  // namespace roster
