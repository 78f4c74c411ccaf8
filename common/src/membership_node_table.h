// The node records held by the membership core: one slot per held node
// incarnation, an index by node id, and the number of nodes in each state.
//
// A slot lives in a NodeSlots array (membership_node_slots.h) and never
// moves, so a Node& stays valid until the node is freed. The id index
// (membership_id_index.h) stores no ids: it compares against each slot's
// own id, so each id is stored once. A freed slot is reused by a later
// allocate(); its generation is bumped on free, so a timer entry that
// names (slot, generation) of a freed node is recognised as stale. The
// table keeps its counts true as long as a held node's state changes only
// through enter().
//
// Cost: find() is one hash of the id and one probe of a flat array, and
// allocates nothing; allocate() and free() are O(1) expected (plus copying
// the id); for_each() visits every slot, O(slots).
//
// Thread safety: none; one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "membership_id_index.h"
#include "membership_labels.h"
#include "membership_node_slots.h"
#include "roster/protocol.h"

namespace roster::internal {

// The due time of a node with no timer (virtual ms, membership_stall_clock.h).
inline constexpr int64_t kNoTimer = std::numeric_limits<int64_t>::max();

// One held node incarnation. The table owns id, slot, generation and held;
// the state changes through NodeTable::enter(); the owner sets the rest.
// 144 bytes on a 64-bit target: labels live out of line in one packed block
// (membership_labels.h), and ids and addrs up to 15 bytes fit in their
// strings without a heap block.
struct Node {
  std::string id;
  std::string addr;
  PackedLabels labels;  // no heap block when there are none
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

// The record of `n` as observers see it.
NodeRecord record_of(const Node& n);

// The labels of `n` (an empty set when it has none).
Labels labels_of(const Node& n);
// Gives `n` the labels `labels`; an empty set takes no heap memory.
void set_labels(Node& n, const Labels& labels);

class NodeTable {
 public:
  NodeTable() = default;
  NodeTable(const NodeTable&) = delete;
  NodeTable& operator=(const NodeTable&) = delete;

  // The held node `id`; nullptr if none.
  Node* find(std::string_view id) { return const_cast<Node*>(std::as_const(*this).find(id)); }
  const Node* find(std::string_view id) const {
    uint32_t slot = by_id_.find(id, hash_id(id), IdOf{slots_});
    return slot == IdIndex::kNone ? nullptr : &slots_[slot];
  }

  // Hints for a coming find() of an id whose hash_id() is `hash`; neither
  // changes anything. prefetch_entry() starts loading the index entry into
  // the CPU cache; prefetch_node(), best called once that load is done,
  // starts loading the node the entry names.
  void prefetch_entry(uint64_t hash) const { by_id_.prefetch(hash); }
  void prefetch_node(uint64_t hash) const {
    const uint32_t slot = by_id_.first_candidate(hash);
    if (slot == IdIndex::kNone) return;
    const char* node = reinterpret_cast<const char*>(&slots_[slot]);
    // Every cache line of the node: a heartbeat reads all of them.
    for (size_t at = 0; at < sizeof(Node); at += 64) __builtin_prefetch(node + at);
    __builtin_prefetch(node + sizeof(Node) - 1);
  }

  // Holds a new node `id`, alive since real time `since`, with no timer and
  // zero inc, seq, lease and last_seen; the owner fills in the rest.
  // REQUIRES: find(id) == nullptr.
  Node& allocate(std::string_view id, int64_t since);

  // Moves held node `n` to `state` since real time `since`, keeping the
  // counts true.
  void enter(Node& n, NodeState state, int64_t since) {
    --by_state_[static_cast<size_t>(n.state)];
    ++by_state_[static_cast<size_t>(state)];
    n.state = state;
    n.since_ms = since;
  }

  // Stops holding `n`: drops it from the index and the counts, releases its
  // strings and labels, clears its timer and bumps the slot's generation. `n` must not
  // be used afterwards. REQUIRES: n is held by this table.
  void free(Node& n);

  // The node in slot `slot`, held or not (a timer names slots).
  // REQUIRES: slot < slot_count().
  Node& at(uint32_t slot) { return slots_[slot]; }
  size_t slot_count() const { return slots_.size(); }

  // Calls fn(Node&) / fn(const Node&) for every held node, in slot order
  // (not id order). fn must not allocate or free nodes.
  template <typename Fn>
  void for_each(Fn&& fn) {
    slots_.for_each([&](Node& n) {
      if (n.held) fn(n);
    });
  }
  template <typename Fn>
  void for_each(Fn&& fn) const {
    slots_.for_each([&](const Node& n) {
      if (n.held) fn(n);
    });
  }

  // Nodes held, in any state.
  size_t size() const { return by_id_.size(); }
  // Nodes held in `state`.
  uint64_t count(NodeState state) const { return by_state_[static_cast<size_t>(state)]; }

 private:
  // The id of a slot, for the index.
  struct IdOf {
    const NodeSlots<Node>& slots;
    std::string_view operator()(uint32_t slot) const { return slots[slot].id; }
  };

  NodeSlots<Node> slots_;
  std::vector<uint32_t> free_slots_;
  IdIndex by_id_;
  uint64_t by_state_[kNodeStateCount] = {};
};

}  // namespace roster::internal
