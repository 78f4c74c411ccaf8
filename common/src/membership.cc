// The membership core (membership.h): the lifecycle rules. The mechanisms
// they use live in their own files:
//  - the held records, by slot and by id (membership_node_table.h);
//  - time: every deadline is kept in *virtual* milliseconds, which a stall
//    of the observer moves later all at once (membership_stall_clock.h);
//    times reported to observers (since_ms, last_seen_ms) are real;
//  - timers: every held node has exactly one deadline (`due`): the lease end
//    while alive, the death time while suspect, the forget time while dead
//    or left, armed lazily so that renewing a lease costs no heap operation
//    and tick() costs in proportion to what is due
//    (membership_timer_queue.h);
//  - the changes since the last commit (membership_change_batch.h);
//  - the tombstones of forgotten incarnations (membership_tombstones.h).
#include "roster/membership.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "membership_change_batch.h"
#include "membership_node_table.h"
#include "membership_stall_clock.h"
#include "membership_timer_queue.h"
#include "membership_tombstones.h"
#include "roster/codec.h"

namespace roster {

using internal::Node;

namespace {

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
        clock(now, options.stall_threshold_ms),
        timers(nodes),
        tombstones(static_cast<int64_t>(options.tombstone_ttl_ms), options.max_tombstones) {}

  MembershipOptions options;
  uint64_t epoch;
  TimeMs start;
  internal::StallClock clock;
  internal::NodeTable nodes;
  internal::NodeTimers timers;
  internal::Tombstones tombstones;
  internal::ChangeBatch changes;
  uint64_t tombstones_evicted = 0;

  // Records a call at `now`: a stall of the observer extends every timer.
  void observe(TimeMs now) { clock.observe(now, nodes.size() > 0 || tombstones.size() > 0); }

  uint64_t clamp_lease(uint64_t requested) const {
    return std::min(std::max(requested, options.min_lease_ms), options.max_lease_ms);
  }

  // Sets the node's deadline `after` ms from now (virtual).
  void due_in(Node& n, uint64_t after) {
    timers.set_due(n, clock.vnow() + static_cast<int64_t>(after));
  }

  // --- lifecycle steps ------------------------------------------------------

  // Starts incarnation `req.inc` in `n` (a new node or a restart).
  void start_incarnation(Node& n, const JoinRequest& req) {
    nodes.enter(n, NodeState::kAlive, clock.now());
    n.inc = req.inc;
    n.seq = req.seq;
    n.lease_ms = clamp_lease(req.lease_ms);
    n.addr = req.addr;
    internal::set_labels(n, req.labels);
    n.last_seen_ms = clock.now();
    due_in(n, n.lease_ms);
    changes.mark(n.id, n.inc);
  }

  // Forgets `n` at once: a removed record, a tombstone that says `how` it
  // ended, the slot freed.
  void forget(Node& n, internal::Forgotten how) {
    changes.mark(n.id, n.inc);
    tombstones_evicted += tombstones.add(n.id, n.inc, how, clock.vnow());
    nodes.free(n);
  }

  // The node's timer fired at its due time: the next lifecycle step.
  void fire(Node& n) {
    TimeMs at_real = clock.to_real(n.due);
    switch (n.state) {
      case NodeState::kAlive:
        // The lease ended without a renewal.
        nodes.enter(n, NodeState::kSuspect, at_real);
        timers.set_due(n, n.due + static_cast<int64_t>(options.dead_after_ms));
        changes.mark(n.id, n.inc);
        return;
      case NodeState::kSuspect:
        // No heartbeat for dead_after past the lease end.
        nodes.enter(n, NodeState::kDead, at_real);
        timers.set_due(n, n.due + static_cast<int64_t>(options.forget_dead_after_ms));
        changes.mark(n.id, n.inc);
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
    while (Node* n = timers.pop_due(clock.vnow())) fire(*n);
    tombstones.expire(clock.vnow());
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
    if (n == nullptr && nodes.size() >= options.max_nodes) {
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
    Node* n = nodes.find(req.node);
    // An incarnation that is over (removed, forgotten, or older than a dead
    // or left one) never comes back.
    if (auto over = refuse_if_over(n, req.node, req.inc, req.seq)) return std::move(*over);
    // Over a capacity limit: a record too large, or a new one beyond max_nodes.
    if (auto refused = over_capacity(n, req)) return std::move(*refused);
    // A new node.
    if (n == nullptr) {
      Node& fresh = nodes.allocate(req.node, clock.now());
      start_incarnation(fresh, req);
      return ack(fresh, req.seq);
    }
    // An older incarnation than the live one held.
    if (req.inc < n->inc) return refuse_stale(req.node, req.inc, req.seq, *n);
    // A newer incarnation replaces the held one (a restart).
    if (req.inc > n->inc) {
      start_incarnation(*n, req);
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
                   !n->labels.equals(req.labels) || n->lease_ms != lease;
    if (n->state != NodeState::kAlive) nodes.enter(*n, NodeState::kAlive, clock.now());
    n->seq = req.seq;
    n->lease_ms = lease;
    if (n->addr != req.addr) n->addr = req.addr;
    if (!n->labels.equals(req.labels)) internal::set_labels(*n, req.labels);
    n->last_seen_ms = clock.now();
    due_in(*n, lease);
    if (changed) changes.mark(n->id, n->inc);
    return ack(*n, req.seq);
  }

  // The checks heartbeat and leave share. Returns the held node of
  // (node, inc) or the refusal.
  std::variant<Node*, ErrorReply> held_incarnation(std::string_view node, uint64_t inc,
                                                   uint64_t seq) {
    Node* n = nodes.find(node);
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

  // Takes a HeartbeatRequest or a HeartbeatRef: nothing is copied.
  template <typename Heartbeat>
  AgentReply heartbeat(const Heartbeat& req) {
    auto found = held_incarnation(req.node, req.inc, req.seq);
    if (auto* error = std::get_if<ErrorReply>(&found)) return std::move(*error);
    Node& n = *std::get<Node*>(found);
    if (n.state == NodeState::kLeft) return refuse_left(req.node, req.inc, req.seq);
    // A repeated or older seq is acknowledged but renews nothing.
    if (req.seq <= n.seq) return ack(n, req.seq);
    // Renew the lease; a suspect node is alive again.
    if (n.state == NodeState::kSuspect) {
      nodes.enter(n, NodeState::kAlive, clock.now());
      changes.mark(n.id, n.inc);
    }
    n.seq = req.seq;
    n.last_seen_ms = clock.now();
    due_in(n, n.lease_ms);
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
    nodes.enter(n, NodeState::kLeft, clock.now());
    n.seq = req.seq;
    n.last_seen_ms = clock.now();
    due_in(n, options.forget_left_after_ms);
    changes.mark(n.id, n.inc);
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

AgentReply Membership::handle(const HeartbeatRef& request, TimeMs now) {
  impl_->observe(now);
  return impl_->heartbeat(request);
}

Membership::PrefetchHint Membership::prefetch_index(std::string_view node) const {
  const PrefetchHint hint{internal::hash_id(node)};
  impl_->nodes.prefetch_entry(hint.id_hash);
  return hint;
}

void Membership::prefetch_record(PrefetchHint hint) const {
  impl_->nodes.prefetch_node(hint.id_hash);
}

RemoveResult Membership::remove(std::string_view node, std::optional<uint64_t> inc, TimeMs now) {
  impl_->observe(now);
  Node* n = impl_->nodes.find(node);
  if (n == nullptr) {
    return ErrorReply{0, ErrorCode::kUnknownNode, "node " + std::string(node) + " is not held"};
  }
  if (inc && *inc != n->inc) {
    return ErrorReply{
        0, ErrorCode::kUnknownNode,
        describe(node, *inc) + " is not held (current: " + std::to_string(n->inc) + ")"};
  }
  RemovedReply reply{n->id, n->inc, impl_->changes.version() + 1};
  impl_->forget(*n, internal::Forgotten::kRemoved);
  return reply;
}

void Membership::tick(TimeMs now) {
  impl_->observe(now);
  impl_->run_timers();
}

std::optional<TimeMs> Membership::next_deadline() const {
  const Impl& s = *impl_;
  std::optional<int64_t> earliest = s.timers.next();
  if (auto expiry = s.tombstones.next_expiry()) {
    earliest = earliest ? std::min(*earliest, *expiry) : *expiry;
  }
  if (!earliest) return std::nullopt;
  // Capped so that a caller sleeping until it is never taken for stalled.
  return s.clock.wake_at(*earliest);
}

std::optional<Delta> Membership::commit(TimeMs now) {
  impl_->observe(now);
  return impl_->changes.commit(impl_->epoch, impl_->clock.now(), impl_->nodes);
}

bool Membership::has_pending() const {
  return !impl_->changes.empty();
}

bool Membership::complete(TimeMs now) const {
  return now >= impl_->start + static_cast<TimeMs>(impl_->options.max_lease_ms);
}

Snapshot Membership::snapshot(TimeMs now) const {
  const Impl& s = *impl_;
  Snapshot snap;
  snap.epoch = s.epoch;
  snap.version = s.changes.version();
  snap.complete = complete(now);
  snap.time_ms = static_cast<uint64_t>(now);
  std::vector<const Node*> held;
  held.reserve(s.nodes.size());
  s.nodes.for_each([&held](const Node& n) { held.push_back(&n); });
  std::sort(held.begin(), held.end(), [](const Node* a, const Node* b) { return a->id < b->id; });
  snap.nodes.reserve(held.size());
  for (const Node* n : held) snap.nodes.push_back(internal::record_of(*n));
  return snap;
}

std::optional<NodeInfo> Membership::node(std::string_view node) const {
  const Node* n = impl_->nodes.find(node);
  if (n == nullptr) return std::nullopt;
  return NodeInfo{internal::record_of(*n), static_cast<uint64_t>(n->last_seen_ms)};
}

uint64_t Membership::epoch() const {
  return impl_->epoch;
}

uint64_t Membership::version() const {
  return impl_->changes.version();
}

MembershipCounters Membership::counters() const {
  const Impl& s = *impl_;
  MembershipCounters c;
  c.nodes = s.nodes.size();
  for (size_t i = 0; i < kNodeStateCount; ++i)
    c.by_state[i] = s.nodes.count(static_cast<NodeState>(i));
  c.tombstones = s.tombstones.size();
  c.stalls = s.clock.stalls();
  c.stalled_ms = s.clock.stalled_ms();
  c.tombstones_evicted = s.tombstones_evicted;
  return c;
}

const MembershipOptions& Membership::options() const {
  return impl_->options;
}

}  // namespace roster
