// The subscriber's logic without sockets: the Clone pattern, gap and epoch
// detection, snapshot request retries, staleness and failover between
// redundant brokers. It takes decoded
// messages and `now` and says what happened (events, in order) and whether a
// snapshot request must be sent. The Subscriber shell owns the sockets.
//
// Thread safety: none; one owner.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "roster/clock.h"
#include "roster/protocol.h"
#include "roster/subscriber.h"
#include "roster/view.h"

namespace roster::subscriber {

// A record the controller was told of, with the epoch it was learnt in.
struct HeldRecord {
  NodeRecord record;
  uint64_t epoch = 0;
};

// A snapshot replaced the view.
struct ResyncEvent {
  ResyncReason reason = ResyncReason::kInitial;
};
// The view went stale (true) or fresh again (false).
struct StaleEvent {
  bool stale = false;
};
using SyncEvent = std::variant<NodeChange, ResyncEvent, StaleEvent>;

// What the shell must do after a call, filled in by the call.
struct SyncOutput {
  // Stop following the current broker and follow following() instead:
  // fresh state and admin sockets, nothing more read from the old ones.
  // Done before the snapshot request below.
  bool switch_broker = false;
  // Send a snapshot request on a fresh admin socket.
  bool request_snapshot = false;
  std::vector<SyncEvent> events;
};

class ViewSync {
 public:
  explicit ViewSync(const SubscriberOptions& options);

  // Begins: asks for the first snapshot; the staleness clock starts now.
  void start(TimeMs now, SyncOutput& out);
  // A snapshot from the admin channel (reply to our request).
  void on_admin_snapshot(const Snapshot& snapshot, TimeMs now, SyncOutput& out);
  // An error reply to our snapshot request; the request is retried on time.
  void on_admin_error(TimeMs now, SyncOutput& out);
  // Messages of the state channel.
  void on_published_snapshot(const Snapshot& snapshot, TimeMs now, SyncOutput& out);
  void on_delta(const Delta& delta, TimeMs now, SyncOutput& out);
  void on_beat(const Beat& beat, TimeMs now, SyncOutput& out);
  // Timers: staleness and the snapshot request retry.
  void tick(TimeMs now, SyncOutput& out);
  // When tick() must run next.
  TimeMs next_deadline() const;

  const View& view() const { return view_; }
  // The broker followed: an index into the broker list (always 0 with one).
  size_t following() const { return following_; }
  bool synced() const { return synced_; }
  bool stale() const { return stale_; }
  const SubscriberStats& stats() const { return stats_; }

 private:
  void message_seen(TimeMs now, SyncOutput& out);
  void request_snapshot(TimeMs now, SyncOutput& out);
  void begin_resync(ResyncReason reason, TimeMs now, SyncOutput& out);
  void accept_snapshot(const Snapshot& snapshot, ResyncReason reason, TimeMs now, SyncOutput& out);
  void apply_delta(const Delta& delta, TimeMs now, SyncOutput& out);
  void buffer_delta(const Delta& delta);
  // Reports every held-over node removed (the view became complete).
  void release_holdover(uint64_t time_ms, SyncOutput& out);
  // The followed broker was silent for a window: follow the next.
  void fail_over(TimeMs now, SyncOutput& out);
  // How long the followed broker may be silent before staleness (one
  // broker) or failover (several): stale_after_beats beat intervals, and
  // with several brokers twice that after every round in which all of
  // them were silent, up to kMaxSilenceBackoff times.
  TimeMs silence_window() const;
  TimeMs base_timeout() const {
    return std::max<TimeMs>(1, static_cast<TimeMs>(options_.snapshot_timeout_ms));
  }

  SubscriberOptions options_;
  View view_;
  bool synced_ = false;
  // Why the pending resync started (kInitial until the first snapshot).
  ResyncReason pending_reason_ = ResyncReason::kInitial;
  // Deltas received while waiting for a snapshot, in arrival order.
  std::deque<Delta> buffered_;
  // Highest beat seen while waiting for a snapshot, checked once it arrives.
  bool beat_seen_while_waiting_ = false;
  Beat last_beat_while_waiting_;
  // Nodes the controller was told of, learnt in an earlier epoch (before
  // the broker restarted), that an incomplete snapshot of a later epoch
  // (the broker warming up) does not hold: not gone until the view is
  // complete; reported removed then, unless a delta or snapshot of the new
  // epoch names them first (the record is then the new epoch's). A record
  // learnt in the snapshot's own epoch is never held over: that broker has
  // seen the node and forgotten it, so it is reported removed at once.
  // Disjoint from view_.nodes().
  std::map<std::string, HeldRecord> holdover_;
  TimeMs snapshot_requested_at_ = 0;
  // How long the outstanding request may wait; doubles on every retry.
  TimeMs snapshot_timeout_ms_ = 0;
  TimeMs last_message_at_ = 0;
  bool stale_ = false;
  // How many brokers the options list (at least 1), which one is followed,
  // and how many windows in a row the followed ones were silent.
  size_t broker_count_ = 1;
  size_t following_ = 0;
  uint64_t silent_windows_ = 0;
  SubscriberStats stats_;
};

}  // namespace roster::subscriber
