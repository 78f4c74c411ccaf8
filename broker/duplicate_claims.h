// Names both peers when two live agents claim one node id. A request
// refused stale_incarnation marks its node as contested, with the
// claimant's peer; the next accepted request of the holder's incarnation
// then yields one warning line naming the holder's peer and the
// claimant's. The holder heartbeats every interval, so the line comes
// within one interval; a crashed predecessor (the claimant's own earlier
// process) never answers, and nothing is logged for it.
//
// Bounded: at most kMaxContested nodes are remembered, each for at most
// kContestTtlMs; the hot path costs one emptiness check while none is.
//
// Thread safety: none; owned by the event loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "roster/clock.h"

namespace roster::broker {

class DuplicateClaims {
 public:
  // One side of a claim, for the log line: the transport's peer address
  // (may be empty), the printable routing id and the incarnation claimed.
  struct Peer {
    std::string address;
    std::string routing_id;
    uint64_t inc = 0;
  };

  static constexpr size_t kMaxContested = 1024;
  static constexpr TimeMs kContestTtlMs = 60'000;

  // Notes that `claimant` was refused stale_incarnation for `node`, whose
  // live holder has incarnation `holder_inc`. A full table drops the new
  // contest (the claimant retries; it is noted again later).
  void refused(std::string_view node, Peer claimant, uint64_t holder_inc, TimeMs now);

  // True when no contest is remembered: accepted() need not be called.
  bool empty() const { return contested_.empty(); }

  // True when a contest of `node` is remembered (cheap: call it before
  // looking up the holder's peer address for accepted()).
  bool contested(std::string_view node) const {
    return !contested_.empty() && contested_.count(std::string(node)) > 0;
  }

  // Called for a request of incarnation `inc` of `node` that was accepted,
  // from `holder`. Returns the warning line when it is the holder of a
  // remembered contest (which it then forgets), else nullopt.
  std::optional<std::string> accepted(std::string_view node, uint64_t inc, const Peer& holder,
                                      TimeMs now);

 private:
  struct Contest {
    Peer claimant;
    uint64_t holder_inc = 0;
    TimeMs at = 0;
  };
  void expire(TimeMs now);

  std::unordered_map<std::string, Contest> contested_;
};

}  // namespace roster::broker
