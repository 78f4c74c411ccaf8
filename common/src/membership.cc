// The membership core (membership.h).
//
// Time: every deadline is kept in *virtual* milliseconds, virtual = real -
// offset. When the observer stalls (a gap between two calls longer than
// stall_threshold_ms), the offset grows by the gap, which extends every
// lease and timer at once in O(1). Times reported to observers (since_ms,
// last_seen_ms) are real.
//
// Timers: every held node has exactly one deadline (`due`): the lease end
// while alive, the death time while suspect, the forget time while dead or
// left. A lazy min-heap (membership_timer_queue.h) holds at most one valid
// entry per node; renewing a lease only moves `due` later and the entry is
// re-armed when it pops. tick() therefore costs in proportion to what is due.
#include "roster/membership.h"

#include <algorithm>
#include <deque>
#include <limits>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "membership_timer_queue.h"
#include "membership_tombstones.h"

namespace roster {

namespace {

constexpr int64_t kNoTimer = std::numeric_limits<int64_t>::max();
// Stale timer entries tolerated beyond one per held node before a rebuild.
constexpr size_t kTimerSlack = 1024;

// One held node incarnation. Lives in a slot of a deque (never moves), so
// the id index can key on a view of `id`.
struct Node {
  std::string id;
  std::string addr;
  Labels labels;
  uint64_t inc = 0;
  uint64_t seq = 0;       // highest applied seq of this incarnation
  uint64_t lease_ms = 0;  // granted
  int64_t since_ms = 0;   // real
  int64_t last_seen_ms = 0;
  int64_t due = kNoTimer;    // virtual: when the current state's timer fires
  int64_t armed = kNoTimer;  // virtual: due time of the valid heap entry
  uint32_t slot = 0;
  uint32_t generation = 0;  // bumped when the slot is freed
  NodeState state = NodeState::kAlive;
  bool held = false;
};

MembershipOptions normalized(MembershipOptions options) {
  if (options.max_lease_ms < options.min_lease_ms) options.max_lease_ms = options.min_lease_ms;
  return options;
}

// A refusal; `over` is the ErrorReply inc hint (the incarnation held, or
// the highest one that is over).
ErrorReply refuse(uint64_t seq, ErrorCode code, std::string message,
                  std::optional<uint64_t> over = std::nullopt) {
  return ErrorReply{seq, code, std::move(message), over};
}

std::string describe(std::string_view node, uint64_t inc) {
  std::string s = "incarnation ";
  s += std::to_string(inc);
  s += " of node ";
  s += node;
  return s;
}

// "; join with an incarnation above H": what an agent must do next.
std::string join_above(uint64_t over) {
  return "; join with an incarnation above " + std::to_string(over);
}

// True if the held incarnation never comes back (dead or left).
bool is_over(const Node& n) {
  return n.state == NodeState::kDead || n.state == NodeState::kLeft;
}

// `stale_incarnation`: older than the live incarnation `n` held.
ErrorReply refuse_stale(std::string_view node, uint64_t inc, uint64_t seq, const Node& n) {
  return refuse(seq, ErrorCode::kStaleIncarnation,
                describe(node, inc) + " is older than the current " + std::to_string(n.inc) +
                    ", held by a live process",
                n.inc);
}

// `expired`: the held incarnation `inc` is dead.
ErrorReply refuse_dead(std::string_view node, uint64_t inc, uint64_t seq) {
  return refuse(seq, ErrorCode::kExpired, describe(node, inc) + " expired" + join_above(inc), inc);
}

// `left`: the held incarnation `inc` left.
ErrorReply refuse_left(std::string_view node, uint64_t inc, uint64_t seq) {
  return refuse(seq, ErrorCode::kLeft, describe(node, inc) + " left" + join_above(inc), inc);
}

// The refusal of incarnation `inc` of `node`, which a forgotten incarnation
// covers (inc <= t.forgotten): `expired` or `left` after how the forgotten
// one ended. It is over, but no operator fenced it.
ErrorReply refuse_forgotten(std::string_view node, uint64_t inc, uint64_t seq,
                            const internal::Tombstone& t) {
  const bool left = t.forgotten_kind == internal::Forgotten::kLeft;
  std::string message = describe(node, inc);
  if (inc < *t.forgotten) message += " is older than " + std::to_string(*t.forgotten) + ", which";
  message += left ? " left and was forgotten" : " was declared dead and forgotten";
  return refuse(seq, left ? ErrorCode::kLeft : ErrorCode::kExpired,
                message + join_above(t.highest()), t.highest());
}

}  // namespace

struct Membership::Impl {
  Impl(const MembershipOptions& opts, uint64_t epoch_in, TimeMs now)
      : options(normalized(opts)),
        epoch(epoch_in),
        start(now),
        last_now(now),
        tombstones(static_cast<int64_t>(options.tombstone_ttl_ms), options.max_tombstones) {}

  MembershipOptions options;
  uint64_t epoch;
  TimeMs start;
  TimeMs last_now;     // real time of the latest call
  int64_t offset = 0;  // virtual = real - offset
  int64_t vnow = 0;    // virtual time of the latest call (set by observe)
  uint64_t version = 0;

  std::deque<Node> slots;
  std::vector<uint32_t> free_slots;
  std::unordered_map<std::string_view, uint32_t> by_id;
  internal::TimerQueue timers;
  internal::Tombstones tombstones;
  // Nodes changed since the last commit -> the incarnation to report as
  // removed if the node is no longer held at commit time.
  std::map<std::string, uint64_t, std::less<>> pending;
  MembershipCounters counters;

  // --- time ---------------------------------------------------------------

  // Records a call at `now`: detects an observer stall and extends every
  // timer by it. Sets last_now and vnow.
  void observe(TimeMs now) {
    if (now < last_now) now = last_now;  // the caller promised non-decreasing
    int64_t gap = now - last_now;
    bool armed = counters.nodes > 0 || tombstones.size() > 0;
    if (options.stall_threshold_ms > 0 && armed &&
        gap > static_cast<int64_t>(options.stall_threshold_ms)) {
      offset += gap;
      ++counters.stalls;
      counters.stalled_ms += static_cast<uint64_t>(gap);
    }
    last_now = now;
    vnow = now - offset;
  }

  uint64_t clamp_lease(uint64_t requested) const {
    return std::min(std::max(requested, options.min_lease_ms), options.max_lease_ms);
  }

  // --- nodes --------------------------------------------------------------

  Node* find(std::string_view id) {
    auto it = by_id.find(id);
    return it == by_id.end() ? nullptr : &slots[it->second];
  }
  const Node* find(std::string_view id) const {
    auto it = by_id.find(id);
    return it == by_id.end() ? nullptr : &slots[it->second];
  }

  Node& allocate(std::string_view id) {
    uint32_t slot;
    if (!free_slots.empty()) {
      slot = free_slots.back();
      free_slots.pop_back();
    } else {
      slot = static_cast<uint32_t>(slots.size());
      slots.emplace_back();
      slots.back().slot = slot;
    }
    Node& n = slots[slot];
    n.id.assign(id.data(), id.size());
    n.held = true;
    n.armed = kNoTimer;
    n.due = kNoTimer;
    by_id.emplace(n.id, slot);
    ++counters.nodes;
    return n;
  }

  // Moves `n` to `state` since real time `since`, keeping counters true.
  void enter(Node& n, NodeState state, int64_t since) {
    --counters.by_state[static_cast<size_t>(n.state)];
    ++counters.by_state[static_cast<size_t>(state)];
    n.state = state;
    n.since_ms = since;
  }

  // Starts incarnation `req.inc` in `n` (a new node or a restart).
  void start_incarnation(Node& n, const JoinRequest& req, bool fresh) {
    if (fresh) {
      n.state = NodeState::kAlive;
      ++counters.by_state[static_cast<size_t>(NodeState::kAlive)];
      n.since_ms = last_now;
    } else {
      enter(n, NodeState::kAlive, last_now);
    }
    n.inc = req.inc;
    n.seq = req.seq;
    n.lease_ms = clamp_lease(req.lease_ms);
    n.addr = req.addr;
    n.labels = req.labels;
    n.last_seen_ms = last_now;
    set_due(n, vnow + static_cast<int64_t>(n.lease_ms));
    mark_changed(n.id, n.inc);
  }

  // Forgets `n` at once: a removed record, a tombstone that says `how` it
  // ended, the slot freed.
  void forget(Node& n, internal::Forgotten how) {
    mark_changed(n.id, n.inc);
    counters.tombstones_evicted += tombstones.add(n.id, n.inc, how, vnow);
    by_id.erase(n.id);
    --counters.nodes;
    --counters.by_state[static_cast<size_t>(n.state)];
    ++n.generation;
    n.held = false;
    n.due = kNoTimer;
    n.armed = kNoTimer;
    std::string().swap(n.id);
    std::string().swap(n.addr);
    Labels().swap(n.labels);
    free_slots.push_back(n.slot);
  }

  void mark_changed(std::string_view id, uint64_t inc) {
    auto it = pending.find(id);
    if (it == pending.end()) {
      pending.emplace(std::string(id), inc);
    } else {
      it->second = inc;
    }
  }

  NodeRecord record_of(const Node& n) const {
    return NodeRecord{
        n.id, n.inc, n.state, n.addr, n.labels, n.lease_ms, static_cast<uint64_t>(n.since_ms)};
  }

  // --- timers -------------------------------------------------------------

  void arm(Node& n) {
    n.armed = n.due;
    timers.push(internal::TimerEntry{n.due, n.slot, n.generation});
    // Deadlines moved earlier and forgotten nodes leave stale entries until
    // they come up; keep them fewer than the held nodes plus a slack, so the
    // heap stays O(nodes) whatever agents do. Amortized O(1) per push.
    if (timers.size() > 2 * counters.nodes + kTimerSlack) compact_timers();
  }

  // Rebuilds the heap with exactly one entry per held node.
  void compact_timers() {
    std::vector<internal::TimerEntry> entries;
    entries.reserve(counters.nodes);
    for (const auto& entry : by_id) {
      Node& n = slots[entry.second];
      n.armed = n.due;
      entries.push_back(internal::TimerEntry{n.due, n.slot, n.generation});
    }
    timers.assign(std::move(entries));
  }

  // Sets the node's deadline; pushes a heap entry only when it moves
  // earlier than the armed one (a later deadline is re-armed on pop).
  void set_due(Node& n, int64_t due) {
    n.due = due;
    if (n.armed == kNoTimer || due < n.armed) arm(n);
  }

  // The node's timer fired at its due time: the next lifecycle step.
  void fire(Node& n) {
    int64_t at_real = n.due + offset;
    switch (n.state) {
      case NodeState::kAlive:
        // The lease ended without a renewal.
        enter(n, NodeState::kSuspect, at_real);
        set_due(n, n.due + static_cast<int64_t>(options.dead_after_ms));
        mark_changed(n.id, n.inc);
        return;
      case NodeState::kSuspect:
        // No heartbeat for dead_after past the lease end.
        enter(n, NodeState::kDead, at_real);
        set_due(n, n.due + static_cast<int64_t>(options.forget_dead_after_ms));
        mark_changed(n.id, n.inc);
        return;
      case NodeState::kDead:
      case NodeState::kRemoved:
        // Dead for forget_dead_after: over, and no longer shown.
        forget(n, internal::Forgotten::kDead);
        return;
      case NodeState::kLeft:
        // Left for forget_left_after.
        forget(n, internal::Forgotten::kLeft);
        return;
    }
  }

  void run_timers() {
    while (!timers.empty() && timers.top().due <= vnow) {
      internal::TimerEntry entry = timers.pop();
      Node& n = slots[entry.slot];
      // A late timer acts only if it is still the node's armed one.
      if (!n.held || n.generation != entry.generation || n.armed != entry.due) continue;
      n.armed = kNoTimer;
      // The deadline moved later since the entry was armed: re-arm.
      if (n.due > vnow) {
        arm(n);
        continue;
      }
      fire(n);
    }
    tombstones.expire(vnow);
  }

  // --- agent requests -------------------------------------------------------

  // The refusal of incarnation `inc` of `node` if it is over for good:
  // removed by the operator (fenced), older than a held incarnation that is
  // dead or left, or forgotten after it was dead or left. nullopt if it may
  // go on: the caller then checks it against the held record. `held` is the
  // node's record if held; its incarnation is above every tombstone's, so
  // the held incarnation and newer ones are never over here (the held one
  // when dead or left is the caller's to refuse), and the heartbeat path
  // stays at one hash lookup.
  std::optional<ErrorReply> refuse_if_over(const Node* held, std::string_view node, uint64_t inc,
                                           uint64_t seq) const {
    if (held != nullptr && inc >= held->inc) return std::nullopt;
    const internal::Tombstone* t = tombstones.find(node);
    // Removed by the operator: fenced, whatever came after.
    if (t != nullptr && t->removed && inc <= *t->removed) {
      uint64_t over = t->highest();
      if (held != nullptr && is_over(*held)) over = held->inc;
      return refuse(seq, ErrorCode::kRemoved, describe(node, inc) + " was removed by the operator",
                    over);
    }
    // Older than a held incarnation that is itself over: over as well.
    if (held != nullptr && is_over(*held)) {
      const bool left = held->state == NodeState::kLeft;
      return refuse(seq, left ? ErrorCode::kLeft : ErrorCode::kExpired,
                    describe(node, inc) + " is older than " + std::to_string(held->inc) +
                        (left ? ", which left" : ", which expired") + join_above(held->inc),
                    held->inc);
    }
    // Older than a live incarnation: stale, the caller's to refuse.
    if (held != nullptr) return std::nullopt;
    // Forgotten after it was dead or left: over, not fenced.
    if (t != nullptr && t->forgotten && inc <= *t->forgotten) {
      return refuse_forgotten(node, inc, seq, *t);
    }
    return std::nullopt;
  }

  Ack ack(const Node& n, uint64_t seq) const { return Ack{seq, epoch, n.lease_ms, n.state}; }

  // The refusal of a join that would store a record over a capacity limit:
  // its id, addr and labels over max_record_bytes, or a new record (`n` is
  // the node held, if any) while max_nodes are held. An older incarnation
  // is left to its own rule (stale_incarnation).
  std::optional<ErrorReply> over_capacity(const Node* n, const JoinRequest& req) const {
    if (n != nullptr && req.inc < n->inc) return std::nullopt;
    size_t bytes = record_bytes(req.node, req.addr, req.labels);
    if (bytes > options.max_record_bytes) {
      return refuse(req.seq, ErrorCode::kOverCapacity,
                    "record of " + std::to_string(bytes) +
                        " bytes (node id + addr + labels) is over the max-record-bytes limit of " +
                        std::to_string(options.max_record_bytes));
    }
    if (n == nullptr && counters.nodes >= options.max_nodes) {
      return refuse(req.seq, ErrorCode::kOverCapacity,
                    "the broker holds its max-nodes limit of " + std::to_string(options.max_nodes) +
                        " nodes");
    }
    return std::nullopt;
  }

  AgentReply join(const JoinRequest& req) {
    if (!is_valid_node_id(req.node)) {
      return refuse(req.seq, ErrorCode::kBadRequest, "invalid node id");
    }
    Node* n = find(req.node);
    // An incarnation that is over (removed, forgotten, or older than a dead
    // or left one) never comes back.
    if (auto over = refuse_if_over(n, req.node, req.inc, req.seq)) return std::move(*over);
    // Over a capacity limit: a record too large, or a new one beyond max_nodes.
    if (auto refused = over_capacity(n, req)) return std::move(*refused);
    // A new node.
    if (n == nullptr) {
      Node& fresh = allocate(req.node);
      start_incarnation(fresh, req, true);
      return ack(fresh, req.seq);
    }
    // An older incarnation than the live one held.
    if (req.inc < n->inc) return refuse_stale(req.node, req.inc, req.seq, *n);
    // A newer incarnation replaces the held one (a restart).
    if (req.inc > n->inc) {
      start_incarnation(*n, req, false);
      return ack(*n, req.seq);
    }
    // The current incarnation: dead and left ones never come back.
    if (n->state == NodeState::kDead) return refuse_dead(req.node, req.inc, req.seq);
    if (n->state == NodeState::kLeft) return refuse_left(req.node, req.inc, req.seq);
    // A repeated or older seq is acknowledged but not applied.
    if (req.seq <= n->seq) return ack(*n, req.seq);
    // Re-join: update the metadata and renew the lease.
    uint64_t lease = clamp_lease(req.lease_ms);
    bool changed = n->state != NodeState::kAlive || n->addr != req.addr ||
                   n->labels != req.labels || n->lease_ms != lease;
    if (n->state != NodeState::kAlive) enter(*n, NodeState::kAlive, last_now);
    n->seq = req.seq;
    n->lease_ms = lease;
    if (n->addr != req.addr) n->addr = req.addr;
    if (n->labels != req.labels) n->labels = req.labels;
    n->last_seen_ms = last_now;
    set_due(*n, vnow + static_cast<int64_t>(lease));
    if (changed) mark_changed(n->id, n->inc);
    return ack(*n, req.seq);
  }

  // The checks heartbeat and leave share. Returns the held node of
  // (node, inc) or the refusal.
  std::variant<Node*, ErrorReply> held_incarnation(const std::string& node, uint64_t inc,
                                                   uint64_t seq) {
    Node* n = find(node);
    // An incarnation that is over (removed, forgotten, or older than a dead
    // or left one).
    if (auto over = refuse_if_over(n, node, inc, seq)) return std::move(*over);
    // Not held (never joined, or a newer incarnation that has not joined).
    if (n == nullptr || inc > n->inc) {
      return refuse(seq, ErrorCode::kUnknownNode, describe(node, inc) + " is unknown: join first");
    }
    // An older incarnation than the live one held.
    if (inc < n->inc) return refuse_stale(node, inc, seq, *n);
    if (n->state == NodeState::kDead) return refuse_dead(node, inc, seq);
    return n;
  }

  AgentReply heartbeat(const HeartbeatRequest& req) {
    auto found = held_incarnation(req.node, req.inc, req.seq);
    if (auto* error = std::get_if<ErrorReply>(&found)) return std::move(*error);
    Node& n = *std::get<Node*>(found);
    if (n.state == NodeState::kLeft) return refuse_left(req.node, req.inc, req.seq);
    // A repeated or older seq is acknowledged but renews nothing.
    if (req.seq <= n.seq) return ack(n, req.seq);
    // Renew the lease; a suspect node is alive again.
    if (n.state == NodeState::kSuspect) {
      enter(n, NodeState::kAlive, last_now);
      mark_changed(n.id, n.inc);
    }
    n.seq = req.seq;
    n.last_seen_ms = last_now;
    set_due(n, vnow + static_cast<int64_t>(n.lease_ms));
    return ack(n, req.seq);
  }

  AgentReply leave(const LeaveRequest& req) {
    auto found = held_incarnation(req.node, req.inc, req.seq);
    if (auto* error = std::get_if<ErrorReply>(&found)) return std::move(*error);
    Node& n = *std::get<Node*>(found);
    // Leaving twice is acknowledged again (idempotent).
    if (n.state == NodeState::kLeft) return ack(n, req.seq);
    // A repeated or older seq is acknowledged but not applied.
    if (req.seq <= n.seq) return ack(n, req.seq);
    enter(n, NodeState::kLeft, last_now);
    n.seq = req.seq;
    n.last_seen_ms = last_now;
    set_due(n, vnow + static_cast<int64_t>(options.forget_left_after_ms));
    mark_changed(n.id, n.inc);
    return ack(n, req.seq);
  }
};

Membership::Membership(const MembershipOptions& options, uint64_t epoch, TimeMs now)
    : impl_(std::make_unique<Impl>(options, epoch, now)) {}

Membership::~Membership() = default;

AgentReply Membership::handle(const AgentRequest& request, TimeMs now) {
  impl_->observe(now);
  struct Visitor {
    Impl& impl;
    AgentReply operator()(const JoinRequest& r) { return impl.join(r); }
    AgentReply operator()(const HeartbeatRequest& r) { return impl.heartbeat(r); }
    AgentReply operator()(const LeaveRequest& r) { return impl.leave(r); }
  };
  return std::visit(Visitor{*impl_}, request);
}

RemoveResult Membership::remove(std::string_view node, std::optional<uint64_t> inc, TimeMs now) {
  impl_->observe(now);
  Node* n = impl_->find(node);
  if (n == nullptr) {
    return ErrorReply{0, ErrorCode::kUnknownNode, "node " + std::string(node) + " is not held"};
  }
  if (inc && *inc != n->inc) {
    return ErrorReply{
        0, ErrorCode::kUnknownNode,
        describe(node, *inc) + " is not held (current: " + std::to_string(n->inc) + ")"};
  }
  RemovedReply reply{n->id, n->inc, impl_->version + 1};
  impl_->forget(*n, internal::Forgotten::kRemoved);
  return reply;
}

void Membership::tick(TimeMs now) {
  impl_->observe(now);
  impl_->run_timers();
}

std::optional<TimeMs> Membership::next_deadline() const {
  const Impl& s = *impl_;
  std::optional<int64_t> earliest;
  if (!s.timers.empty()) earliest = s.timers.top().due;
  if (auto expiry = s.tombstones.next_expiry()) {
    earliest = earliest ? std::min(*earliest, *expiry) : *expiry;
  }
  if (!earliest) return std::nullopt;
  TimeMs deadline = *earliest + s.offset;
  // Wake up well within the stall threshold, so that a caller sleeping
  // until the next deadline is never mistaken for a stalled observer.
  if (s.options.stall_threshold_ms > 0) {
    int64_t keepalive =
        std::max<int64_t>(1, static_cast<int64_t>(s.options.stall_threshold_ms / 2));
    deadline = std::min(deadline, s.last_now + keepalive);
  }
  return deadline;
}

std::optional<Delta> Membership::commit(TimeMs now) {
  Impl& s = *impl_;
  s.observe(now);
  if (s.pending.empty()) return std::nullopt;
  Delta delta;
  delta.epoch = s.epoch;
  delta.prev_version = s.version;
  delta.version = ++s.version;
  delta.time_ms = static_cast<uint64_t>(s.last_now);
  delta.changes.reserve(s.pending.size());
  for (const auto& [id, removed_inc] : s.pending) {
    if (const Node* n = s.find(id)) {
      delta.changes.push_back(s.record_of(*n));
    } else {
      NodeRecord removed;
      removed.node = id;
      removed.inc = removed_inc;
      removed.state = NodeState::kRemoved;
      delta.changes.push_back(std::move(removed));
    }
  }
  s.pending.clear();
  return delta;
}

bool Membership::has_pending() const {
  return !impl_->pending.empty();
}

bool Membership::complete(TimeMs now) const {
  return now >= impl_->start + static_cast<TimeMs>(impl_->options.max_lease_ms);
}

Snapshot Membership::snapshot(TimeMs now) const {
  const Impl& s = *impl_;
  Snapshot snap;
  snap.epoch = s.epoch;
  snap.version = s.version;
  snap.complete = complete(now);
  snap.time_ms = static_cast<uint64_t>(now);
  std::vector<const Node*> held;
  held.reserve(s.by_id.size());
  for (const auto& entry : s.by_id) held.push_back(&s.slots[entry.second]);
  std::sort(held.begin(), held.end(), [](const Node* a, const Node* b) { return a->id < b->id; });
  snap.nodes.reserve(held.size());
  for (const Node* n : held) snap.nodes.push_back(s.record_of(*n));
  return snap;
}

std::optional<NodeInfo> Membership::node(std::string_view node) const {
  const Node* n = impl_->find(node);
  if (n == nullptr) return std::nullopt;
  return NodeInfo{impl_->record_of(*n), static_cast<uint64_t>(n->last_seen_ms)};
}

uint64_t Membership::epoch() const {
  return impl_->epoch;
}

uint64_t Membership::version() const {
  return impl_->version;
}

MembershipCounters Membership::counters() const {
  MembershipCounters c = impl_->counters;
  c.tombstones = impl_->tombstones.size();
  return c;
}

const MembershipOptions& Membership::options() const {
  return impl_->options;
}

}  // namespace roster
