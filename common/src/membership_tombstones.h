// Tombstones of forgotten node incarnations, for the membership core.
//
// A tombstone says which incarnations of `node` are over and how they
// ended, so that a delayed message of one cannot resurrect it and its reply
// can say why. It records, per node id:
//   - the highest incarnation removed by the operator (fences: `removed`);
//   - the highest incarnation forgotten after it was dead or left, and which
//     of the two (over, but not fenced: `expired` / `left`).
// The two are kept apart so that a later natural forget of a higher
// incarnation never weakens an earlier removal's fence for the older ones.
//
// One tombstone per node id: forgetting another incarnation updates and
// refreshes it. Tombstones expire `ttl` after their latest update and are
// capped in number, the oldest evicted first. Because the ttl is the same
// for all, update order is expiry order: a FIFO list suffices, and every
// operation is O(1); each tombstone costs the node id plus a fixed size.
//
// Thread safety: none; one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace roster::internal {

// How a forgotten incarnation ended.
enum class Forgotten : uint8_t {
  kDead,     // declared dead, then forgotten
  kLeft,     // left, then forgotten
  kRemoved,  // removed by the operator (forgotten at once)
};

// What is known of one node id's forgotten incarnations.
struct Tombstone {
  // Highest incarnation removed by the operator; nullopt if none.
  std::optional<uint64_t> removed;
  // Highest incarnation forgotten after dead or left; nullopt if none.
  std::optional<uint64_t> forgotten;
  // How `forgotten` ended (kDead or kLeft); meaningful only with it.
  Forgotten forgotten_kind = Forgotten::kDead;

  // The highest incarnation that is over, of either kind.
  // REQUIRES: removed or forgotten is set.
  uint64_t highest() const;
};

class Tombstones {
 public:
  // Keeps each tombstone `ttl` (virtual ms) and at most `max_count` of them.
  Tombstones(int64_t ttl, size_t max_count) : ttl_(ttl), max_count_(max_count) {}
  Tombstones(const Tombstones&) = delete;
  Tombstones& operator=(const Tombstones&) = delete;

  // The tombstone of `node`; nullptr if none is held. The pointer is valid
  // until the next non-const call.
  const Tombstone* find(std::string_view node) const;

  // Remembers that incarnation `inc` of `node` was forgotten at `now`
  // (virtual ms) in the way `how`, making it the newest tombstone. A lower
  // incarnation than the one already recorded for that kind leaves the
  // record as it is (it is covered). Returns how many of the oldest were
  // evicted to stay within the cap.
  size_t add(std::string_view node, uint64_t inc, Forgotten how, int64_t now);

  // Drops every tombstone whose ttl has passed at `now`; returns how many.
  size_t expire(int64_t now);

  // When the oldest tombstone expires (virtual ms); nullopt if none.
  std::optional<int64_t> next_expiry() const;

  size_t size() const { return order_.size(); }

 private:
  struct Entry {
    std::string node;
    Tombstone tombstone;
    int64_t expires;
  };
  using List = std::list<Entry>;

  void pop_oldest();

  int64_t ttl_;
  size_t max_count_;
  List order_;  // oldest first
  // Keys view the node string inside the list entry, which never moves.
  std::unordered_map<std::string_view, List::iterator> by_node_;
};

}  // namespace roster::internal
