// When the publisher puts a snapshot on the state channel: every snapshot
// interval, and soon after a trigger (a subscription that covers
// roster.snapshot, or the end of the warm-up). Triggers are coalesced: any
// number of them within the spacing after the last snapshot cost one
// snapshot, and the spacing grows with the snapshot's size, so that a
// subscriber toggling its subscription cannot make the broker send every
// subscriber more than about `triggered_bytes_per_second` of snapshots.
//
// Pure: no clock, no sockets; the publisher thread passes `now`.
// Thread safety: none; owned by the publisher thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "roster/clock.h"

namespace roster::broker {

struct SnapshotPacing {
  // A snapshot this often (0: none but triggered ones).
  TimeMs interval_ms = 30'000;
  // Triggered snapshots come at least this far apart (after any snapshot),
  // so a burst of late subscribers costs one snapshot.
  TimeMs min_triggered_gap_ms = 50;
  // ... and at least size / this rate apart: a 10 MB snapshot (100k nodes)
  // at most every ~10 s, a 10 kB one every 50 ms.
  uint64_t triggered_bytes_per_second = 1024 * 1024;
  // ... and never more than this apart, however large the snapshot.
  TimeMs max_triggered_gap_ms = 30'000;
  // A due snapshot that was held back (see deferred()) is retried after this.
  TimeMs retry_ms = 1'000;
};

class SnapshotPacer {
 public:
  // Periodic snapshots start one interval after `now`.
  SnapshotPacer(const SnapshotPacing& pacing, TimeMs now);

  // A snapshot is wanted soon: at once if the spacing after the last one
  // has passed, else when it has. Further triggers until then add nothing.
  void trigger();

  // True if a snapshot is to be published at `now`.
  bool due(TimeMs now) const;

  // The earliest time due() can turn true; nullopt if nothing is scheduled.
  std::optional<TimeMs> next_due() const;

  // A snapshot of `bytes` was published at `now`: clears the trigger,
  // restarts the periodic interval and sets the spacing before the next
  // triggered one.
  void published(TimeMs now, size_t bytes);

  // A due snapshot was held back at `now` (the publisher's memory budget
  // was spent): what was due stays due, and is retried after retry_ms.
  void deferred(TimeMs now);

  // The spacing after a snapshot of `bytes` before a triggered one.
  TimeMs triggered_gap(size_t bytes) const;

 private:
  SnapshotPacing pacing_;
  std::optional<TimeMs> next_periodic_;
  bool triggered_ = false;
  TimeMs earliest_triggered_ = 0;
  std::optional<TimeMs> retry_at_;
};

}  // namespace roster::broker
