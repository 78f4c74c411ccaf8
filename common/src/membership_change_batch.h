// The changes of the membership core since its last commit, and the commit
// that turns them into one versioned Delta.
//
// The batch remembers each changed node id once, with the incarnation to
// report as removed should the node no longer be held at commit time. The
// records themselves are read from the node table at commit, so a node
// changed several times in one batch appears once, with its final record,
// and a node forgotten and then joined again shows the new incarnation.
// Changes are listed in node id order.
//
// Versions: commit() of a non-empty batch makes version() + 1 with
// prev_version = version(); an empty batch commits nothing and keeps the
// version, so observers never see an empty delta.
//
// Cost: mark() is O(log pending) and copies the id the first time a node
// changes in a batch; commit() is O(pending) hash lookups.
// Thread safety: none; one owner.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "membership_node_table.h"
#include "roster/clock.h"
#include "roster/protocol.h"

namespace roster::internal {

class ChangeBatch {
 public:
  ChangeBatch() = default;
  ChangeBatch(const ChangeBatch&) = delete;
  ChangeBatch& operator=(const ChangeBatch&) = delete;

  // Notes that node `id` changed; `inc` is the incarnation to report as
  // removed if it is not held at commit time (the latest mark wins).
  void mark(std::string_view id, uint64_t inc);

  // True when no change is waiting.
  bool empty() const { return pending_.empty(); }
  // Nodes changed since the last commit.
  size_t size() const { return pending_.size(); }

  // Commits the batch as the Delta of `epoch` at real time `now`, with each
  // changed node's record as `nodes` holds it (state `removed` with the
  // marked incarnation if not held), and empties it. nullopt, and no new
  // version, when the batch is empty.
  std::optional<Delta> commit(uint64_t epoch, TimeMs now, const NodeTable& nodes);

  // The version of the last commit (0 before any).
  uint64_t version() const { return version_; }

 private:
  std::map<std::string, uint64_t, std::less<>> pending_;
  uint64_t version_ = 0;
};

}  // namespace roster::internal
