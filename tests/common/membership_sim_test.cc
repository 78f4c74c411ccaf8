// Randomized simulation of the membership core: thousands of virtual agents
// joining, heartbeating, leaving, crashing, pausing and restarting over a
// network that delays, duplicates and reorders messages, an operator
// removing nodes, and an observer that stalls. Time is simulated; the run is
// deterministic for a seed.
//
// The seed is random unless ROSTER_SIM_SEED is set, and every failure
// message carries it. ROSTER_SIM_EVENTS overrides the number of core calls
// (default 1M; 500k under AddressSanitizer).
//
// Checked after every core call and every commit:
//  - each delta continues the view (version + 1, same epoch), and replaying
//    the deltas reproduces snapshot(): every changed record, the node count
//    and the per-state counts after every commit, the whole snapshot every
//    200 deltas and at the end;
//  - replies follow the rules given the core's state before the call;
//  - no dead, left or forgotten incarnation is ever alive again, and no
//    node goes back to an older incarnation, while its tombstone must still
//    exist (tombstones lapse only by ttl or eviction at the cap);
//  - after every tick, every node is in the state its timers say, in
//    virtual time (stalls accounted): alive before its lease ends, suspect
//    from then until dead_after later, dead until forget_dead_after, left
//    until forget_left_after;
//  - tombstones never exceed the cap;
//  - at the end, once everything stops and the timers pass, nothing is
//    held: no node, no tombstone, no timer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <queue>
#include <random>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "roster/membership.h"
#include "roster/view.h"

namespace roster {
namespace {

constexpr TimeMs kStart = 1'700'000'000'000;
constexpr uint64_t kEpoch = 42;
constexpr int kAgents = 3'000;

#if defined(__SANITIZE_ADDRESS__)
constexpr uint64_t kDefaultEvents = 500'000;
#else
constexpr uint64_t kDefaultEvents = 1'000'000;
#endif

MembershipOptions SimOptions() {
  MembershipOptions o;
  o.min_lease_ms = 200;
  o.max_lease_ms = 2'000;
  o.dead_after_ms = 1'000;
  o.forget_dead_after_ms = 3'000;
  o.forget_left_after_ms = 2'000;
  o.tombstone_ttl_ms = 20'000;
  o.max_tombstones = 1'200;
  o.stall_threshold_ms = 500;
  return o;
}

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  return std::strtoull(value, nullptr, 10);
}

std::string AgentId(int index) {
  return "node-" + std::to_string(index);
}
int AgentIndex(const std::string& id) {
  return std::stoi(id.substr(5));
}

const char* RequestName(const AgentRequest& r) {
  switch (r.index()) {
    case 0:
      return "join";
    case 1:
      return "heartbeat";
    default:
      return "leave";
  }
}

uint64_t IncOf(const AgentRequest& r) {
  return std::visit([](const auto& m) { return m.inc; }, r);
}
uint64_t SeqOf(const AgentRequest& r) {
  return std::visit([](const auto& m) { return m.seq; }, r);
}
const std::string& NodeOf(const AgentRequest& r) {
  return std::visit([](const auto& m) -> const std::string& { return m.node; }, r);
}

bool Live(NodeState s) {
  return s == NodeState::kAlive || s == NodeState::kSuspect;
}

// A virtual agent process.
struct Agent {
  bool running = false;
  uint64_t inc = 0;
  uint64_t next_inc = 1;
  uint64_t seq = 0;
  uint64_t lease = 0;    // requested
  uint64_t granted = 0;  // from the latest ack, 0 before any
  std::string addr;
  Labels labels;
  uint64_t wake_generation = 0;
};

// What the acks of the core told the simulation about a held incarnation:
// enough to know, independently of the core, when each timer must fire.
struct Track {
  bool held = false;
  uint64_t inc = 0;
  uint64_t max_seq = 0;
  int64_t renew_v = 0;  // virtual time of the latest applied renewal
  uint64_t lease = 0;
  bool left = false;
  int64_t left_v = 0;
  // History across incarnations, for the resurrection checks.
  uint64_t max_inc = 0;             // highest incarnation ever in a delta
  uint64_t max_terminated_inc = 0;  // highest seen dead, left or removed
  bool forgotten = false;
  TimeMs forgotten_at = 0;
  uint64_t evictions_at_forget = 0;
};

// The simulation's copy of the committed view, per agent index.
struct Seen {
  bool present = false;
  uint64_t inc = 0;
  NodeState state = NodeState::kAlive;
};

enum class EventKind { kDeliver, kAgentWake, kTick, kRemove, kStall };

struct Event {
  TimeMs at;
  uint64_t order;  // FIFO among equal times, for determinism
  EventKind kind;
  int agent = 0;
  uint64_t generation = 0;
  size_t message = 0;  // index into the in-flight messages
  bool operator>(const Event& o) const { return at != o.at ? at > o.at : order > o.order; }
};

class Simulation {
 public:
  Simulation(uint64_t seed, uint64_t target_events)
      : options_(SimOptions()),
        rng_(seed),
        target_events_(target_events),
        core_(options_, kEpoch, kStart),
        agents_(kAgents),
        tracks_(kAgents),
        seen_(kAgents) {
    Snapshot empty;
    empty.epoch = kEpoch;
    view_.reset(empty);
    for (int i = 0; i < kAgents; ++i) WakeAgentAt(i, kStart + Uniform(0, 3'000));
    Schedule(Event{kStart + Uniform(2'000, 5'000), 0, EventKind::kStall});
    Schedule(Event{kStart + 50, 0, EventKind::kRemove});
    ScheduleTick(kStart + 10);
  }

  // Runs until the target number of core calls, then stops every agent and
  // lets the timers run out. Returns false with failure() set on a failure.
  bool Run() {
    while (!failed_ && !queue_.empty()) {
      Event e = queue_.top();
      queue_.pop();
      if (!stopping_ && events_ >= target_events_) {
        stopping_ = true;
        frozen_until_ = 0;
      }
      Process(e);
    }
    if (failed_) return false;
    return CheckEnd();
  }

  const std::string& failure() const { return failure_; }
  uint64_t events() const { return events_; }
  uint64_t deltas() const { return deltas_; }
  TimeMs simulated_ms() const { return last_core_now_ - kStart; }
  uint64_t acks() const { return acks_; }
  uint64_t errors(ErrorCode code) const { return errors_[static_cast<size_t>(code)]; }
  uint64_t records(NodeState state) const { return records_[static_cast<size_t>(state)]; }
  const Membership& core() const { return core_; }

 private:
  // --- scheduling -----------------------------------------------------------

  int64_t Uniform(int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng_);
  }
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }

  void Schedule(Event e) {
    e.order = ++order_;
    queue_.push(e);
  }

  void WakeAgentAt(int agent, TimeMs at) {
    Schedule(Event{at, 0, EventKind::kAgentWake, agent, ++agents_[agent].wake_generation});
  }

  void ScheduleTick(TimeMs at) {
    if (tick_scheduled_ && tick_at_ <= at) return;
    tick_scheduled_ = true;
    tick_at_ = at;
    Schedule(Event{at, 0, EventKind::kTick, 0, ++tick_generation_});
  }

  // Sends a message over the network: usually quick, sometimes late,
  // sometimes duplicated; random delays reorder them.
  void Send(AgentRequest request, TimeMs now) {
    int copies = Chance(0.03) ? 2 : 1;
    size_t index = messages_.size();
    if (!free_messages_.empty()) {
      index = free_messages_.back();
      free_messages_.pop_back();
      messages_[index] = Message{std::move(request), copies};
    } else {
      messages_.push_back(Message{std::move(request), copies});
    }
    for (int i = 0; i < copies; ++i) {
      int64_t delay = Chance(0.9)   ? Uniform(0, 30)
                      : Chance(0.9) ? Uniform(30, 300)
                                    : Uniform(300, 4'000);
      Schedule(Event{now + delay, 0, EventKind::kDeliver, 0, 0, index});
    }
  }

  // The time the core sees: never earlier than a call it already saw, and
  // nothing reaches it while it is frozen (stalled).
  TimeMs CoreNow(TimeMs at) {
    TimeMs now = std::max({at, frozen_until_, last_core_now_});
    last_core_now_ = now;
    return now;
  }

  int64_t Virtual(TimeMs now) const {
    return now - static_cast<int64_t>(core_.counters().stalled_ms);
  }

  void Process(const Event& e) {
    switch (e.kind) {
      case EventKind::kAgentWake:
        if (!stopping_ && e.generation == agents_[e.agent].wake_generation)
          AgentWake(e.agent, e.at);
        return;
      case EventKind::kDeliver:
        Deliver(e.message, CoreNow(e.at));
        return;
      case EventKind::kTick:
        if (e.generation != tick_generation_) return;
        tick_scheduled_ = false;
        Tick(CoreNow(e.at));
        return;
      case EventKind::kRemove:
        if (stopping_) return;
        OperatorRemove(CoreNow(e.at));
        Schedule(Event{e.at + Uniform(10, 100), 0, EventKind::kRemove});
        return;
      case EventKind::kStall:
        if (stopping_) return;
        frozen_until_ =
            e.at + Uniform(static_cast<int64_t>(options_.stall_threshold_ms) + 1, 5'000);
        Schedule(Event{frozen_until_ + Uniform(1'000, 8'000), 0, EventKind::kStall});
        return;
    }
  }

  // --- agents -----------------------------------------------------------------

  uint64_t Interval(const Agent& a) {
    uint64_t lease =
        a.granted ? a.granted : std::clamp(a.lease, options_.min_lease_ms, options_.max_lease_ms);
    return std::max<uint64_t>(lease / 3, 1);
  }

  void StartIncarnation(int index, TimeMs now) {
    Agent& a = agents_[index];
    a.running = true;
    a.inc = a.next_inc;
    a.next_inc += static_cast<uint64_t>(Uniform(1, 3));
    a.seq = 1;
    a.lease = static_cast<uint64_t>(Uniform(100, 2'500));  // some outside the clamp range
    a.granted = 0;
    a.addr = "10.0." + std::to_string(index % 250) + "." + std::to_string(Uniform(1, 9));
    a.labels.clear();
    if (Chance(0.5)) a.labels["zone"] = "z" + std::to_string(Uniform(1, 3));
    Send(JoinRequest{AgentId(index), a.inc, a.seq, a.lease, a.addr, a.labels}, now);
  }

  void AgentWake(int index, TimeMs now) {
    Agent& a = agents_[index];
    if (!a.running) {
      StartIncarnation(index, now);
      WakeAgentAt(index, now + static_cast<int64_t>(Interval(a)));
      return;
    }
    std::string id = AgentId(index);
    double r = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (r < 0.002) {  // graceful leave; a new process starts later
      Send(LeaveRequest{id, a.inc, ++a.seq, "shutdown"}, now);
      a.running = false;
      WakeAgentAt(index, now + Uniform(500, 6'000));
      return;
    }
    if (r < 0.004) {  // crash: silence, then a new process
      a.running = false;
      WakeAgentAt(index, now + Uniform(500, 9'000));
      return;
    }
    if (r < 0.006) {  // restart with a new incarnation at once
      StartIncarnation(index, now);
    } else if (r < 0.009) {  // re-join with new metadata
      a.addr = "10.1." + std::to_string(index % 250) + "." + std::to_string(Uniform(1, 9));
      if (Chance(0.5)) a.lease = static_cast<uint64_t>(Uniform(100, 2'500));
      Send(JoinRequest{id, a.inc, ++a.seq, a.lease, a.addr, a.labels}, now);
    } else if (r < 0.015) {  // a pause (GC, overload): no heartbeat for a while
      WakeAgentAt(index, now + static_cast<int64_t>(Interval(a)) * Uniform(3, 12));
      return;
    } else if (r < 0.018 && a.inc > 1) {  // a zombie of an older incarnation
      uint64_t old_inc = static_cast<uint64_t>(Uniform(1, static_cast<int64_t>(a.inc) - 1));
      uint64_t seq = static_cast<uint64_t>(Uniform(1, 50));
      if (Chance(0.5)) {
        Send(HeartbeatRequest{id, old_inc, seq}, now);
      } else {
        Send(JoinRequest{id, old_inc, seq, 1'000, "zombie", {}}, now);
      }
      Send(HeartbeatRequest{id, a.inc, ++a.seq}, now);
    } else {
      Send(HeartbeatRequest{id, a.inc, ++a.seq}, now);
    }
    WakeAgentAt(index, now + static_cast<int64_t>(Interval(a)));
  }

  // The agent's reaction to a reply (replies travel instantly).
  void AgentReact(int index, const AgentRequest& request, const AgentReply& reply, TimeMs now) {
    Agent& a = agents_[index];
    if (stopping_ || !a.running || IncOf(request) != a.inc) return;
    if (const auto* ack = std::get_if<Ack>(&reply)) {
      a.granted = ack->lease_ms;
      return;
    }
    switch (std::get<ErrorReply>(reply).code) {
      case ErrorCode::kUnknownNode:  // join again
        Send(JoinRequest{AgentId(index), a.inc, ++a.seq, a.lease, a.addr, a.labels}, now);
        return;
      case ErrorCode::kExpired:
      case ErrorCode::kLeft:  // this incarnation is over: restart
        StartIncarnation(index, now);
        return;
      case ErrorCode::kRemoved:  // told to stop; a new process comes later
        a.running = false;
        WakeAgentAt(index, now + Uniform(1'000, 6'000));
        return;
      default:
        return;
    }
  }

  // --- core calls -----------------------------------------------------------

  bool Fail(const std::string& what) {
    if (!failed_) {
      failed_ = true;
      std::ostringstream s;
      s << what << " (event " << events_ << ", version " << core_.version() << ", t+"
        << (last_core_now_ - kStart) << " ms)";
      failure_ = s.str();
    }
    return false;
  }

  void Deliver(size_t index, TimeMs now) {
    AgentRequest request = messages_[index].request;
    if (--messages_[index].copies == 0) free_messages_.push_back(index);
    const std::string& id = NodeOf(request);
    int agent = AgentIndex(id);
    std::optional<NodeInfo> before = core_.node(id);
    AgentReply reply = core_.handle(request, now);
    ++events_;
    if (!CheckReply(request, before, reply, now)) return;
    AgentReact(agent, request, reply, now);
    if (++uncommitted_ >= batch_size_) {
      Commit(now, false);
      batch_size_ = static_cast<int>(Uniform(1, 8));
    }
    AfterCall(now);
  }

  void Tick(TimeMs now) {
    if (uncommitted_ > 0) Commit(now, false);
    core_.tick(now);
    ++events_;
    Commit(now, true);
    if (!failed_) CheckTimers(now);
    AfterCall(now);
  }

  // After each call: the next tick comes at the core's next deadline, with
  // some slack like a real poll loop.
  void AfterCall(TimeMs now) {
    if (failed_) return;
    std::optional<TimeMs> deadline = core_.next_deadline();
    if (!deadline) return;
    if (*deadline > now + static_cast<int64_t>(options_.stall_threshold_ms) / 2) {
      Fail("next_deadline is later than half the stall threshold");
      return;
    }
    ScheduleTick(std::max(*deadline, now) + Uniform(0, 5));
  }

  void OperatorRemove(TimeMs now) {
    int agent = static_cast<int>(Uniform(0, kAgents - 1));
    std::string id = AgentId(agent);
    std::optional<NodeInfo> before = core_.node(id);
    std::optional<uint64_t> inc;
    double r = std::uniform_real_distribution<double>(0, 1)(rng_);
    if (r < 0.3 && before) {
      inc = before->record.inc;
    } else if (r < 0.5) {
      inc = static_cast<uint64_t>(Uniform(1, 40));
    }
    uint64_t version = core_.version();
    RemoveResult result = core_.remove(id, inc, now);
    ++events_;
    bool should_remove = before && (!inc || *inc == before->record.inc);
    if (should_remove) {
      const auto* removed = std::get_if<RemovedReply>(&result);
      if (removed == nullptr) {
        Fail("operator removal of held " + id + " refused");
        return;
      }
      if (removed->node != id || removed->inc != before->record.inc ||
          removed->version != version + 1) {
        Fail("bad removed reply for " + id);
        return;
      }
      if (core_.node(id)) Fail("removed node " + id + " still held");
      Track& t = tracks_[agent];
      t.held = false;
      t.forgotten = true;
      t.forgotten_at = now;
      t.evictions_at_forget = core_.counters().tombstones_evicted;
      t.max_terminated_inc = std::max(t.max_terminated_inc, removed->inc);
    } else {
      const auto* error = std::get_if<ErrorReply>(&result);
      if (error == nullptr || error->code != ErrorCode::kUnknownNode) {
        Fail("operator removal of " + id + " not held should be unknown_node");
      }
    }
    ++uncommitted_;
    AfterCall(now);
  }

  // Checks a reply against the rules given the core's state before the call,
  // and learns from acks when leases were renewed.
  bool CheckReply(const AgentRequest& request, const std::optional<NodeInfo>& before,
                  const AgentReply& reply, TimeMs now) {
    const std::string& id = NodeOf(request);
    uint64_t inc = IncOf(request);
    uint64_t seq = SeqOf(request);
    auto what = [&] {
      return std::string(RequestName(request)) + " of " + id + " inc " + std::to_string(inc) +
             " seq " + std::to_string(seq);
    };
    bool is_join = request.index() == 0;
    bool is_leave = request.index() == 2;
    const NodeRecord* held = before ? &before->record : nullptr;
    std::optional<NodeInfo> after = core_.node(id);

    if (const auto* error = std::get_if<ErrorReply>(&reply)) {
      ++errors_[static_cast<size_t>(error->code)];
      if (error->seq != seq) return Fail(what() + ": error does not echo seq");
      switch (error->code) {
        case ErrorCode::kRemoved:
          if (held && inc >= held->inc) return Fail(what() + ": removed while held");
          break;
        case ErrorCode::kStaleIncarnation:
          // Only a live holder makes an older incarnation stale.
          if (!held || inc >= held->inc || held->state == NodeState::kDead ||
              held->state == NodeState::kLeft) {
            return Fail(what() + ": wrongly stale");
          }
          if (error->inc != held->inc) return Fail(what() + ": stale without the held inc");
          break;
        case ErrorCode::kUnknownNode:
          if (is_join || (held && inc <= held->inc)) return Fail(what() + ": wrongly unknown");
          break;
        case ErrorCode::kExpired:
          // This or a newer incarnation is dead, held or forgotten since.
          if (held && (inc > held->inc || held->state != NodeState::kDead)) {
            return Fail(what() + ": wrongly expired");
          }
          if (!error->inc || *error->inc < inc) return Fail(what() + ": expired without a hint");
          break;
        case ErrorCode::kLeft:
          if (held && (inc > held->inc || held->state != NodeState::kLeft ||
                       (is_leave && inc == held->inc))) {
            return Fail(what() + ": wrongly left");
          }
          if (!error->inc || *error->inc < inc) return Fail(what() + ": left without a hint");
          break;
        default:
          return Fail(what() + ": unexpected error " + std::string(to_string(error->code)));
      }
      if (held && (!after || after->record != *held))
        return Fail(what() + ": refusal changed the node");
      return true;
    }

    const Ack& ack = std::get<Ack>(reply);
    ++acks_;
    if (ack.seq != seq || ack.epoch != kEpoch)
      return Fail(what() + ": ack does not echo seq/epoch");
    if (!after) return Fail(what() + ": acked but not held");
    if (ack.state != after->record.state || ack.lease_ms != after->record.lease_ms) {
      return Fail(what() + ": ack does not match the record");
    }
    if (ack.lease_ms < options_.min_lease_ms || ack.lease_ms > options_.max_lease_ms) {
      return Fail(what() + ": lease not clamped");
    }
    if (held && inc < held->inc) return Fail(what() + ": older incarnation acked");
    if (held && inc == held->inc && held->state == NodeState::kDead) {
      return Fail(what() + ": dead incarnation acked");
    }
    if (!is_join && (!held || inc > held->inc)) return Fail(what() + ": unknown incarnation acked");
    if (!is_leave && held && inc == held->inc && held->state == NodeState::kLeft) {
      return Fail(what() + ": left incarnation acked");
    }

    // Learn when the lease was renewed.
    Track& t = tracks_[AgentIndex(id)];
    int64_t v = Virtual(now);
    bool fresh = is_join && (!held || inc > held->inc);
    if (fresh) {
      if (ack.state != NodeState::kAlive) return Fail(what() + ": new incarnation not alive");
      t.held = true;
      t.inc = inc;
      t.max_seq = seq;
      t.renew_v = v;
      t.lease = ack.lease_ms;
      t.left = false;
      return true;
    }
    if (!t.held || t.inc != inc)
      return Fail(what() + ": acked an incarnation the acks never started");
    if (seq <= t.max_seq) {  // repeated or older: nothing applied
      if (after->record != *held) return Fail(what() + ": repeated seq changed the node");
      return true;
    }
    if (held->state == NodeState::kLeft) return true;  // leave again: idempotent
    t.max_seq = seq;
    if (is_leave) {
      if (ack.state != NodeState::kLeft) return Fail(what() + ": leave did not leave");
      t.left = true;
      t.left_v = v;
      return true;
    }
    if (ack.state != NodeState::kAlive) return Fail(what() + ": renewal did not make it alive");
    t.renew_v = v;
    t.lease = ack.lease_ms;
    return true;
  }

  // --- commits and views --------------------------------------------------------

  void Commit(TimeMs now, bool after_tick) {
    uncommitted_ = 0;
    uint64_t version = core_.version();
    std::optional<Delta> delta = core_.commit(now);
    if (!delta) {
      if (core_.version() != version) Fail("empty commit bumped the version");
      return;
    }
    ++deltas_;
    if (delta->version != version + 1 || delta->prev_version != version ||
        core_.version() != delta->version || delta->epoch != kEpoch) {
      Fail("delta does not continue the versions");
      return;
    }
    if (view_.apply(*delta) != View::ApplyResult::kApplied) {
      Fail("view refused the delta");
      return;
    }
    uint64_t evictions = core_.counters().tombstones_evicted;
    for (const NodeRecord& r : delta->changes) {
      if (!CheckRecord(r, now, after_tick, evictions)) return;
      // The replayed record is the core's (or both are gone).
      std::optional<NodeInfo> held = core_.node(r.node);
      auto replayed = view_.nodes().find(r.node);
      bool in_view = replayed != view_.nodes().end();
      if (held.has_value() != in_view || (held && held->record != replayed->second)) {
        Fail("replayed record of " + r.node + " differs from the core's");
        return;
      }
    }
    MembershipCounters c = core_.counters();
    if (c.nodes != view_.nodes().size()) {
      Fail("core holds " + std::to_string(c.nodes) + " nodes, the deltas " +
           std::to_string(view_.nodes().size()));
      return;
    }
    for (size_t s = 0; s < kNodeStateCount; ++s) {
      if (c.by_state[s] != seen_by_state_[s]) {
        Fail("per-state counter differs from the deltas for " +
             std::string(to_string(static_cast<NodeState>(s))));
        return;
      }
    }
    if (c.tombstones > options_.max_tombstones) Fail("tombstones beyond the cap");
    if (deltas_ % 200 == 0) CompareSnapshot(now);
  }

  void CompareSnapshot(TimeMs now) {
    Snapshot snap = core_.snapshot(now);
    Snapshot replayed = view_.to_snapshot(snap.time_ms);
    replayed.complete = snap.complete;
    if (snap != replayed) Fail("replayed deltas differ from the snapshot");
    if (snap.complete != (now >= kStart + static_cast<TimeMs>(options_.max_lease_ms))) {
      Fail("snapshot completeness does not follow the warm-up");
    }
  }

  bool CheckRecord(const NodeRecord& r, TimeMs now, bool after_tick, uint64_t evictions) {
    int index = AgentIndex(r.node);
    Seen& seen = seen_[index];
    Track& t = tracks_[index];
    auto what = [&] {
      return "record " + r.node + " inc " + std::to_string(r.inc) + " " +
             std::string(to_string(r.state));
    };
    // Tombstones lapse only by ttl or eviction; until then no resurrection.
    bool lapsed =
        t.forgotten && (evictions > t.evictions_at_forget ||
                        now - t.forgotten_at >= static_cast<TimeMs>(options_.tombstone_ttl_ms));
    if (r.state != NodeState::kRemoved) {
      if (r.inc < t.max_inc && !lapsed) return Fail(what() + ": went back to an older incarnation");
      if (Live(r.state) && r.inc <= t.max_terminated_inc && !lapsed) {
        return Fail(what() + ": a dead, left or removed incarnation is alive again");
      }
      if (seen.present && seen.inc == r.inc) {
        if (seen.state == NodeState::kDead || seen.state == NodeState::kLeft) {
          return Fail(what() + ": changed after " + std::string(to_string(seen.state)));
        }
      }
      if (static_cast<TimeMs>(r.since_ms) > now) return Fail(what() + ": since_ms in the future");
    }
    // Timer-driven states appear only in expiry sweeps.
    if ((r.state == NodeState::kSuspect || r.state == NodeState::kDead) && !after_tick) {
      if (!(seen.present && seen.inc == r.inc && seen.state == r.state)) {
        return Fail(what() + ": timer state outside tick()");
      }
    }
    ++records_[static_cast<size_t>(r.state)];
    // Update the simulation's view and history.
    if (seen.present) --seen_by_state_[static_cast<size_t>(seen.state)];
    if (r.state == NodeState::kRemoved) {
      seen.present = false;
      t.forgotten = true;
      t.forgotten_at = now;
      t.evictions_at_forget = evictions;
      t.max_terminated_inc = std::max(t.max_terminated_inc, r.inc);
      if (t.held && t.inc == r.inc) t.held = false;
    } else {
      seen.present = true;
      seen.inc = r.inc;
      seen.state = r.state;
      ++seen_by_state_[static_cast<size_t>(r.state)];
      t.max_inc = std::max(t.max_inc, r.inc);
      if (!Live(r.state)) t.max_terminated_inc = std::max(t.max_terminated_inc, r.inc);
      if (!t.held || t.inc != r.inc) return Fail(what() + ": a record the acks never started");
    }
    return true;
  }

  // After a tick, every held node is in the state its timers say (virtual
  // time: stalls extend every timer).
  void CheckTimers(TimeMs now) {
    int64_t v = Virtual(now);
    int64_t dead_after = static_cast<int64_t>(options_.dead_after_ms);
    int64_t forget_dead = static_cast<int64_t>(options_.forget_dead_after_ms);
    int64_t forget_left = static_cast<int64_t>(options_.forget_left_after_ms);
    for (int i = 0; i < kAgents; ++i) {
      const Seen& s = seen_[i];
      if (!s.present) continue;
      const Track& t = tracks_[i];
      int64_t lease_end = t.renew_v + static_cast<int64_t>(t.lease);
      auto what = [&] {
        return AgentId(i) + " inc " + std::to_string(s.inc) + " " +
               std::string(to_string(s.state)) + " at v=" + std::to_string(v) + ", lease end " +
               std::to_string(lease_end);
      };
      switch (s.state) {
        case NodeState::kAlive:
          if (v >= lease_end) Fail(what() + ": alive past its lease");
          break;
        case NodeState::kSuspect:
          if (v < lease_end) Fail(what() + ": suspected before its lease ended");
          if (v >= lease_end + dead_after) Fail(what() + ": suspect past dead_after");
          break;
        case NodeState::kDead:
          if (v < lease_end + dead_after) Fail(what() + ": dead too early");
          if (v >= lease_end + dead_after + forget_dead) Fail(what() + ": dead not forgotten");
          break;
        case NodeState::kLeft:
          if (!t.left) Fail(what() + ": left without an acked leave");
          if (v >= t.left_v + forget_left) Fail(what() + ": left not forgotten");
          break;
        case NodeState::kRemoved:
          Fail(what() + ": removed record kept");
          break;
      }
      if (failed_) return;
    }
  }

  bool CheckEnd() {
    MembershipCounters c = core_.counters();
    if (c.nodes != 0) return Fail(std::to_string(c.nodes) + " nodes retained forever");
    if (c.tombstones != 0) return Fail(std::to_string(c.tombstones) + " tombstones retained");
    if (core_.next_deadline()) return Fail("a timer is still armed");
    if (core_.has_pending()) return Fail("changes left uncommitted");
    if (!view_.nodes().empty()) return Fail("the replayed view still holds nodes");
    CompareSnapshot(last_core_now_);
    return !failed_;
  }

  struct Message {
    AgentRequest request;
    int copies = 0;  // deliveries still to come
  };

  MembershipOptions options_;
  std::mt19937_64 rng_;
  uint64_t target_events_;
  Membership core_;
  View view_;
  std::vector<Agent> agents_;
  std::vector<Track> tracks_;
  std::vector<Seen> seen_;
  uint64_t seen_by_state_[kNodeStateCount] = {};
  uint64_t acks_ = 0;
  uint64_t errors_[kErrorCodeCount] = {};
  uint64_t records_[kNodeStateCount] = {};
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> queue_;
  std::vector<Message> messages_;
  std::vector<size_t> free_messages_;
  uint64_t order_ = 0;
  uint64_t tick_generation_ = 0;
  bool tick_scheduled_ = false;
  TimeMs tick_at_ = 0;
  TimeMs frozen_until_ = 0;
  TimeMs last_core_now_ = kStart;
  uint64_t events_ = 0;
  uint64_t deltas_ = 0;
  int uncommitted_ = 0;
  int batch_size_ = 4;
  bool stopping_ = false;
  bool failed_ = false;
  std::string failure_;
};

TEST(MembershipSimulation, RandomizedLifecycleKeepsEveryInvariant) {
  uint64_t seed = EnvOr("ROSTER_SIM_SEED", std::random_device{}());
  uint64_t events = EnvOr("ROSTER_SIM_EVENTS", kDefaultEvents);
  SCOPED_TRACE("ROSTER_SIM_SEED=" + std::to_string(seed));
  Simulation sim(seed, events);
  bool ok = sim.Run();
  MembershipCounters c = sim.core().counters();
  std::printf(
      "seed %llu: %llu core calls over %lld simulated ms, %llu deltas, %llu stalls (%llu ms), "
      "%llu tombstones evicted\n",
      static_cast<unsigned long long>(seed), static_cast<unsigned long long>(sim.events()),
      static_cast<long long>(sim.simulated_ms()), static_cast<unsigned long long>(sim.deltas()),
      static_cast<unsigned long long>(c.stalls), static_cast<unsigned long long>(c.stalled_ms),
      static_cast<unsigned long long>(c.tombstones_evicted));
  std::printf("acks %llu;", static_cast<unsigned long long>(sim.acks()));
  for (size_t i = 0; i < kErrorCodeCount; ++i) {
    auto code = static_cast<ErrorCode>(i);
    std::printf(" %s %llu", std::string(to_string(code)).c_str(),
                static_cast<unsigned long long>(sim.errors(code)));
  }
  std::printf("\nrecords:");
  for (size_t i = 0; i < kNodeStateCount; ++i) {
    auto state = static_cast<NodeState>(i);
    std::printf(" %s %llu", std::string(to_string(state)).c_str(),
                static_cast<unsigned long long>(sim.records(state)));
  }
  std::printf("\n");
  ASSERT_TRUE(ok) << sim.failure();
  EXPECT_GE(sim.events(), events);
  // The run exercised every path it claims to check.
  if (events >= 100'000) {
    EXPECT_GT(c.stalls, 0u);
    EXPECT_GT(c.tombstones_evicted, 0u);
    for (ErrorCode code : {ErrorCode::kUnknownNode, ErrorCode::kStaleIncarnation,
                           ErrorCode::kExpired, ErrorCode::kLeft, ErrorCode::kRemoved}) {
      EXPECT_GT(sim.errors(code), 0u) << to_string(code);
    }
    for (size_t i = 0; i < kNodeStateCount; ++i) {
      EXPECT_GT(sim.records(static_cast<NodeState>(i)), 0u) << to_string(static_cast<NodeState>(i));
    }
  }
}

}  // namespace
}  // namespace roster
