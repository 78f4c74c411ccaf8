// The membership core: the observed state of every node incarnation, with
// leases, leave, operator removal, forgetting, tombstones and versioned
// changes. The lifecycle as clients see it is in docs/PROTOCOL.md ("Agent
// channel": "Rules"; "Error codes"; "State channel": "Following the
// state"), and how its timers play out in docs/OPERATIONS.md ("Choosing
// the timers").
//
// Pure: no sockets, threads or clock reads. Every call takes `now` (TimeMs,
// clock.h) and the caller passes non-decreasing values. Changes accumulate in
// a pending batch; commit() turns the batch into one Delta with
// version = previous + 1, so one operator action or one expiry sweep is
// always seen atomically.
//
// Thread safety: none. One thread (the broker's event loop) owns an instance.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <variant>

#include "roster/clock.h"
#include "roster/protocol.h"

namespace roster {

struct HeartbeatRef;  // codec.h

// Knobs of the lifecycle. Defaults suit a LAN cluster with agents that
// heartbeat every lease/3.
struct MembershipOptions {
  // Requested leases are clamped to [min_lease_ms, max_lease_ms]. A short
  // lease detects failure fast but costs heartbeats; a long one is cheap.
  uint64_t min_lease_ms = 250;
  uint64_t max_lease_ms = 60'000;
  // suspect -> dead after this long without a heartbeat. Gives a node that
  // missed its lease (GC pause, packet loss) a chance to come back.
  uint64_t dead_after_ms = 5'000;
  // dead -> forgotten. Keeps the dead record visible long enough for every
  // controller to notice, then frees it.
  uint64_t forget_dead_after_ms = 30'000;
  // left -> forgotten. A graceful leave needs less time to be noticed.
  uint64_t forget_left_after_ms = 10'000;
  // A forgotten (node, inc) is remembered this long so that a delayed
  // message of that incarnation is refused: `removed` after an operator
  // removal, `expired` or `left` after a natural forget.
  uint64_t tombstone_ttl_ms = 600'000;
  // At most this many tombstones; the oldest is evicted first. Bounds memory
  // under any churn (about 100 bytes each).
  size_t max_tombstones = 100'000;
  // A gap between two calls longer than this is a stall of the observer (the
  // broker was paused or starved), not of the nodes: every lease is extended
  // by the gap before anything expires. The caller must call tick() much more
  // often than this when healthy: sleeping until next_deadline() is enough.
  // 0 disables stall protection.
  uint64_t stall_threshold_ms = 1'000;
  // At most this many records held, in any state (alive, suspect, dead,
  // left): a join that would add another is refused with over_capacity (a
  // restart or re-join of a held node adds none). Bounds the core's memory
  // (about 200 bytes per node with an id and addr of up to 15 bytes and no
  // labels; each label adds its map entry) and, with max_record_bytes, the
  // largest snapshot: 200,000 x (2,048 + kMaxRecordOverheadBytes) is 439 MiB, within the
  // 512 MiB (kMaxStateBodyBytes) that clients accept.
  size_t max_nodes = 200'000;
  // At most this many bytes of node id + addr + label keys and values
  // (record_bytes(), protocol.h) per record: a join whose record would be
  // larger is refused with over_capacity. 2 KiB leaves room for an address
  // and a dozen labels; the protocol alone allows 10,624.
  size_t max_record_bytes = 2'048;
};

// Counters of the core for `stats`.
struct MembershipCounters {
  uint64_t nodes = 0;                       // records held (alive+suspect+dead+left)
  uint64_t by_state[kNodeStateCount] = {};  // indexed by NodeState
  uint64_t tombstones = 0;
  uint64_t stalls = 0;              // stalls detected
  uint64_t stalled_ms = 0;          // total time leases were extended by
  uint64_t tombstones_evicted = 0;  // evicted at the cap before their ttl
};

// Result of an operator removal: the reply, or kUnknownNode.
using RemoveResult = std::variant<RemovedReply, ErrorReply>;

class Membership {
 public:
  // `epoch` identifies this state lineage; `now` is the start time, which
  // begins the warm-up (snapshots say complete: false for one max lease).
  Membership(const MembershipOptions& options, uint64_t epoch, TimeMs now);
  ~Membership();
  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // Applies one agent request at `now` and returns its reply (an Ack with
  // the granted lease and the resulting state, or an ErrorReply with the
  // protocol code). Any change joins the pending batch. Runs no timers: a
  // lease that ended since the last tick() is still renewed.
  // Refusals of an incarnation that is over: `removed` only if the operator
  // removed it (or a newer one); `expired` / `left` if it, or a newer one,
  // was dead / left (held or forgotten since); `stale_incarnation` if a live
  // newer one is held. Each carries the ErrorReply inc hint: the incarnation
  // held for stale_incarnation, else the highest incarnation that is over.
  // O(1) expected (hash lookups), O(log n) when a deadline moves earlier.
  AgentReply handle(const AgentRequest& request, TimeMs now);
  // The same for a heartbeat read in place (codec.h: decode_heartbeat_ref).
  // Allocates nothing when it acknowledges (only a refusal builds a
  // message); `request` is not kept.
  AgentReply handle(const HeartbeatRef& request, TimeMs now);

  // What prefetch_index() learned of a node id, for prefetch_record().
  struct PrefetchHint {
    uint64_t id_hash = 0;
  };
  // Hints that change nothing, for a caller holding several heartbeats:
  // each starts loading into the CPU cache what handle() of a heartbeat
  // from `node` will read, so that the group waits for memory about once
  // rather than once per request. prefetch_index() loads the id's index
  // entry; prefetch_record() loads the node record that entry names, and
  // only pays once the entry has arrived: call prefetch_index() for the
  // whole group first, then prefetch_record() with each one's hint, then
  // handle(). Allocate nothing; `node` is not kept.
  PrefetchHint prefetch_index(std::string_view node) const;
  void prefetch_record(PrefetchHint hint) const;

  // Operator removal: forgets `node` at once (only incarnation `inc` when
  // given), leaving a tombstone. The reply's version is the version of the
  // next commit(), which carries the removal.
  RemoveResult remove(std::string_view node, std::optional<uint64_t> inc, TimeMs now);

  // Runs every timer due at `now`: lease expiry (alive -> suspect), death
  // (suspect -> dead), forgetting (dead/left -> removed) and tombstone
  // expiry. Costs in proportion to what is due, not to the number of nodes.
  void tick(TimeMs now);

  // The earliest time tick() has work to do; nullopt when nothing is armed.
  // While anything is armed it is never later than the latest call plus half
  // the stall threshold, so a caller that sleeps until it is never taken for
  // a stalled observer. It may be early (a timer whose deadline moved later
  // since); ticking early is harmless.
  std::optional<TimeMs> next_deadline() const;

  // Commits the pending batch as one Delta (version = previous + 1,
  // prev_version = previous); nullopt and no version bump when the batch
  // holds no change. A node changed several times in one batch appears once,
  // with its final record.
  std::optional<Delta> commit(TimeMs now);

  // True when changes are waiting for commit().
  bool has_pending() const;

  // The committed view. REQUIRES: !has_pending() (call commit() first).
  Snapshot snapshot(TimeMs now) const;

  // True once warm-up is over at `now` (one max lease after the start):
  // what snapshot(now).complete says, without building the snapshot.
  bool complete(TimeMs now) const;

  // The record of `node` and when it was last heard from; nullopt if not held.
  std::optional<NodeInfo> node(std::string_view node) const;

  uint64_t epoch() const;
  uint64_t version() const;  // of the last commit
  MembershipCounters counters() const;
  const MembershipOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace roster
