#include "view_sync.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace roster::subscriber {

namespace {

// Retries wait at most this many times options.snapshot_timeout_ms.
constexpr TimeMs kMaxBackoff = 16;
// With several brokers, a silent round stretches the window at most this
// many times stale_after_beats beat intervals.
constexpr TimeMs kMaxSilenceBackoff = 8;

NodeRecord removed_record(const NodeRecord& gone) {
  NodeRecord record;
  record.node = gone.node;
  record.inc = gone.inc;
  record.state = NodeState::kRemoved;
  return record;
}

// True when `a` and `b` differ at most in since_ms. Two brokers (or one
// broker before and after a restart) that both see a node alive record
// since when each saw it: that is no change of the node.
bool same_but_since(const NodeRecord& a, const NodeRecord& b) {
  NodeRecord a_at_b = a;
  a_at_b.since_ms = b.since_ms;
  return a_at_b == b;
}

// Appends one NodeChange per difference between `before` (what the
// controller was told it has, with the epoch each record was learnt in) and
// `after` (both in id order), as found when a snapshot replaces the view.
// When `holdover` is set (the snapshot is incomplete: the broker is warming
// up), a node missing from `after` that was learnt in another epoch is not
// gone: it moves to `holdover` instead of being reported removed. One learnt
// in after's own epoch is gone: that broker saw it and forgot it. A record
// learnt in another epoch that differs only in since_ms is no change.
void emit_differences(const std::map<std::string, HeldRecord>& before, const View& after,
                      uint64_t time_ms, std::map<std::string, HeldRecord>* holdover,
                      SyncOutput& out) {
  auto change = [&](std::optional<NodeRecord> old, NodeRecord record) {
    NodeChange c;
    c.old = std::move(old);
    c.record = std::move(record);
    c.epoch = after.epoch();
    c.version = after.version();
    c.time_ms = time_ms;
    c.from_resync = true;
    out.events.emplace_back(std::move(c));
  };
  auto b = before.begin();
  auto a = after.nodes().begin();
  while (b != before.end() || a != after.nodes().end()) {
    if (a == after.nodes().end() || (b != before.end() && b->first < a->first)) {
      const HeldRecord& gone = b->second;
      if (holdover != nullptr && gone.epoch != after.epoch()) {
        holdover->emplace(b->first, gone);
      } else {
        change(gone.record, removed_record(gone.record));
      }
      ++b;
    } else if (b == before.end() || a->first < b->first) {
      change(std::nullopt, a->second);
      ++a;
    } else {
      const HeldRecord& was = b->second;
      const bool other_lineage = was.epoch != after.epoch();
      if (was.record != a->second && !(other_lineage && same_but_since(was.record, a->second))) {
        change(was.record, a->second);
      }
      ++a;
      ++b;
    }
  }
}

}  // namespace

ViewSync::ViewSync(const SubscriberOptions& options)
    : options_(options), broker_count_(std::max<size_t>(1, options.brokers.size())) {}

void ViewSync::start(TimeMs now, SyncOutput& out) {
  last_message_at_ = now;
  begin_resync(ResyncReason::kInitial, now, out);
}

void ViewSync::on_admin_snapshot(const Snapshot& snapshot, TimeMs now, SyncOutput& out) {
  // The followed broker answered: it is reachable, so the brokers were not
  // all silent in a row (whether its state channel is heard stays the
  // staleness rule).
  silent_windows_ = 0;
  // A late reply once a published snapshot already synced the view.
  if (synced_) return;
  accept_snapshot(snapshot, pending_reason_, now, out);
}

void ViewSync::on_admin_error(TimeMs, SyncOutput&) {
  ++stats_.admin_errors;
}

void ViewSync::on_published_snapshot(const Snapshot& snapshot, TimeMs now, SyncOutput& out) {
  message_seen(now, out);
  // Waiting for a snapshot: this one serves as well as the admin's.
  if (!synced_) {
    accept_snapshot(snapshot, pending_reason_, now, out);
    return;
  }
  // The broker restarted.
  if (snapshot.epoch != view_.epoch()) {
    ++stats_.epoch_changes;
    accept_snapshot(snapshot, ResyncReason::kEpochChange, now, out);
    return;
  }
  // Ahead of the view: deltas were missed.
  if (snapshot.version > view_.version()) {
    ++stats_.gaps;
    accept_snapshot(snapshot, ResyncReason::kGap, now, out);
    return;
  }
  // Same lineage, not newer: it can only tell that warming up is over.
  if (snapshot.complete) {
    view_.set_complete(true);
    release_holdover(snapshot.time_ms, out);
  }
}

void ViewSync::on_delta(const Delta& delta, TimeMs now, SyncOutput& out) {
  message_seen(now, out);
  if (!synced_) {
    buffer_delta(delta);
    return;
  }
  apply_delta(delta, now, out);
}

void ViewSync::on_beat(const Beat& beat, TimeMs now, SyncOutput& out) {
  message_seen(now, out);
  // Waiting for a snapshot: remember the beat, checked against the snapshot.
  if (!synced_) {
    beat_seen_while_waiting_ = true;
    last_beat_while_waiting_ = beat;
    return;
  }
  // The broker restarted.
  if (beat.epoch != view_.epoch()) {
    ++stats_.epoch_changes;
    begin_resync(ResyncReason::kEpochChange, now, out);
    return;
  }
  // The broker is at a version no delta brought us to: deltas were dropped.
  if (beat.version > view_.version()) {
    ++stats_.gaps;
    begin_resync(ResyncReason::kGap, now, out);
  }
}

void ViewSync::tick(TimeMs now, SyncOutput& out) {
  const TimeMs stale_after =
      static_cast<TimeMs>(options_.beat_interval_ms) * options_.stale_after_beats;
  if (broker_count_ > 1) {
    // Several brokers: a silent one is left for the next.
    if (now - last_message_at_ >= silence_window()) fail_over(now, out);
  } else if (!stale_ && now - last_message_at_ >= stale_after) {
    stale_ = true;
    ++stats_.stale_periods;
    out.events.emplace_back(StaleEvent{true});
  }
  if (!synced_ && now - snapshot_requested_at_ >= snapshot_timeout_ms_) {
    // Back off: a snapshot too big to arrive in time gets more time.
    snapshot_timeout_ms_ = std::min(snapshot_timeout_ms_ * 2, kMaxBackoff * base_timeout());
    request_snapshot(now, out);
  }
}

TimeMs ViewSync::next_deadline() const {
  TimeMs deadline = std::numeric_limits<TimeMs>::max();
  if (broker_count_ > 1) {
    deadline = last_message_at_ + silence_window();
  } else if (!stale_) {
    deadline = last_message_at_ +
               static_cast<TimeMs>(options_.beat_interval_ms) * options_.stale_after_beats;
  }
  if (!synced_) {
    const TimeMs retry_at = snapshot_requested_at_ + snapshot_timeout_ms_;
    if (retry_at < deadline) deadline = retry_at;
  }
  return deadline;
}

TimeMs ViewSync::silence_window() const {
  const TimeMs stale_after =
      static_cast<TimeMs>(options_.beat_interval_ms) * options_.stale_after_beats;
  const uint64_t silent_rounds = silent_windows_ / broker_count_;
  const TimeMs factor = silent_rounds >= 3
                            ? kMaxSilenceBackoff
                            : std::min<TimeMs>(TimeMs{1} << silent_rounds, kMaxSilenceBackoff);
  return stale_after * factor;
}

void ViewSync::fail_over(TimeMs now, SyncOutput& out) {
  ++silent_windows_;
  // Every broker in turn was silent for a whole window: none is reachable.
  if (!stale_ && silent_windows_ >= broker_count_) {
    stale_ = true;
    ++stats_.stale_periods;
    out.events.emplace_back(StaleEvent{true});
  }
  following_ = (following_ + 1) % broker_count_;
  stats_.broker_index = following_;
  ++stats_.failovers;
  out.switch_broker = true;
  // The next broker gets a whole window from now to be heard.
  last_message_at_ = now;
  // Its snapshot replaces the view (another lineage: another epoch); the
  // view stays readable meanwhile.
  begin_resync(view_.has_base() ? ResyncReason::kFailover : ResyncReason::kInitial, now, out);
}

void ViewSync::message_seen(TimeMs now, SyncOutput& out) {
  last_message_at_ = now;
  silent_windows_ = 0;
  if (!stale_) return;
  stale_ = false;
  out.events.emplace_back(StaleEvent{false});
}

void ViewSync::request_snapshot(TimeMs now, SyncOutput& out) {
  out.request_snapshot = true;
  snapshot_requested_at_ = now;
  ++stats_.snapshot_requests;
}

void ViewSync::begin_resync(ResyncReason reason, TimeMs now, SyncOutput& out) {
  synced_ = false;
  pending_reason_ = reason;
  buffered_.clear();
  beat_seen_while_waiting_ = false;
  snapshot_timeout_ms_ = base_timeout();
  request_snapshot(now, out);
}

void ViewSync::accept_snapshot(const Snapshot& snapshot, ResyncReason reason, TimeMs now,
                               SyncOutput& out) {
  // What the controller was told it has: the view (learnt in its epoch),
  // plus nodes of earlier epochs an incomplete snapshot did not confirm.
  std::map<std::string, HeldRecord> before;
  before.swap(holdover_);
  for (const auto& [id, record] : view_.nodes()) {
    before.insert_or_assign(id, HeldRecord{record, view_.epoch()});
  }
  view_.reset(snapshot);
  synced_ = true;
  ++stats_.resyncs;
  out.events.emplace_back(ResyncEvent{reason});
  emit_differences(before, view_, snapshot.time_ms, snapshot.complete ? nullptr : &holdover_, out);

  // Apply the deltas that arrived meanwhile: those at or below the
  // snapshot's version are ignored as old, the rest must follow on.
  std::deque<Delta> pending;
  pending.swap(buffered_);
  const bool beat_seen = beat_seen_while_waiting_;
  const Beat beat = last_beat_while_waiting_;
  beat_seen_while_waiting_ = false;
  for (const Delta& delta : pending) {
    if (synced_) {
      apply_delta(delta, now, out);
    } else {
      buffer_delta(delta);  // a gap among them started another resync
    }
  }
  // A beat seen while waiting that no delta explains: deltas were dropped.
  if (synced_ && beat_seen && beat.epoch == view_.epoch() && beat.version > view_.version()) {
    ++stats_.gaps;
    begin_resync(ResyncReason::kGap, now, out);
  }
}

void ViewSync::apply_delta(const Delta& delta, TimeMs now, SyncOutput& out) {
  // View::apply() holds the rules (epoch, old, gap); this says what each
  // outcome means for the subscriber.
  std::vector<View::Change> applied;
  switch (view_.apply(delta, &applied)) {
    case View::ApplyResult::kApplied:
      break;
    case View::ApplyResult::kOld:
      ++stats_.deltas_old;
      return;
    case View::ApplyResult::kEpoch:
      ++stats_.epoch_changes;
      begin_resync(ResyncReason::kEpochChange, now, out);
      buffer_delta(delta);
      return;
    case View::ApplyResult::kGap:
      ++stats_.gaps;
      begin_resync(ResyncReason::kGap, now, out);
      buffer_delta(delta);
      return;
    case View::ApplyResult::kNoBase:
      // Only called once synced, so never without a snapshot; kept for one.
      buffer_delta(delta);
      return;
  }
  ++stats_.deltas_applied;
  for (View::Change& applied_change : applied) {
    std::optional<NodeRecord> old = std::move(applied_change.old);
    if (!old) {
      // A node held over from before the broker restarted (or from the
      // broker followed before a failover) shows up again: from now on its
      // record is this epoch's; the same record seen since another time is
      // no change.
      if (auto held = holdover_.find(applied_change.record.node); held != holdover_.end()) {
        old = std::move(held->second.record);
        holdover_.erase(held);
        if (same_but_since(*old, applied_change.record)) continue;
      }
    }
    // Removing a node the view never held changes nothing.
    if (!old && applied_change.record.state == NodeState::kRemoved) continue;
    NodeChange change;
    change.old = std::move(old);
    change.record = std::move(applied_change.record);
    change.epoch = delta.epoch;
    change.version = delta.version;
    change.time_ms = delta.time_ms;
    out.events.emplace_back(std::move(change));
  }
}

void ViewSync::release_holdover(uint64_t time_ms, SyncOutput& out) {
  // The broker's view is complete now: what it still lacks is gone.
  for (auto& [id, held] : holdover_) {
    NodeChange change;
    change.old = held.record;
    change.record = removed_record(held.record);
    change.epoch = view_.epoch();
    change.version = view_.version();
    change.time_ms = time_ms;
    change.from_resync = true;
    out.events.emplace_back(std::move(change));
  }
  holdover_.clear();
}

void ViewSync::buffer_delta(const Delta& delta) {
  if (options_.max_buffered_deltas == 0) return;
  while (buffered_.size() >= options_.max_buffered_deltas) buffered_.pop_front();
  buffered_.push_back(delta);
}

}  // namespace roster::subscriber
