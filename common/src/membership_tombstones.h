// Tombstones of forgotten node incarnations, for the membership core.
//
// A tombstone says "incarnations of `node` up to `inc` were forgotten": a
// delayed message of such an incarnation is refused with `removed` instead
// of resurrecting it. One tombstone per node id (forgetting a newer
// incarnation refreshes it). Tombstones expire `ttl` after they were made
// and are capped in number, the oldest evicted first. Because the ttl is the
// same for all, creation order is expiry order: a FIFO list suffices, and
// every operation is O(1).
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

class Tombstones {
 public:
  // Keeps each tombstone `ttl` (virtual ms) and at most `max_count` of them.
  Tombstones(int64_t ttl, size_t max_count) : ttl_(ttl), max_count_(max_count) {}
  Tombstones(const Tombstones&) = delete;
  Tombstones& operator=(const Tombstones&) = delete;

  // The highest forgotten incarnation of `node`; nullopt if none is held.
  std::optional<uint64_t> find(std::string_view node) const;

  // Remembers that `node` up to `inc` was forgotten at `now` (virtual ms),
  // making it the newest tombstone. Returns how many of the oldest were
  // evicted to stay within the cap.
  size_t add(std::string_view node, uint64_t inc, int64_t now);

  // Drops every tombstone whose ttl has passed at `now`; returns how many.
  size_t expire(int64_t now);

  // When the oldest tombstone expires (virtual ms); nullopt if none.
  std::optional<int64_t> next_expiry() const;

  size_t size() const { return order_.size(); }

 private:
  struct Entry {
    std::string node;
    uint64_t inc;
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
