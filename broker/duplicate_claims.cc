#include "duplicate_claims.h"

#include <iterator>
#include <utility>

namespace roster::broker {

namespace {
std::string describe(const DuplicateClaims::Peer& peer) {
  return "inc " + std::to_string(peer.inc) + " from " +
         (peer.address.empty() ? std::string("?") : peer.address) + " peer " + peer.routing_id;
}
}  // namespace

void DuplicateClaims::expire(TimeMs now) {
  for (auto it = contested_.begin(); it != contested_.end();) {
    it = now - it->second.at >= kContestTtlMs ? contested_.erase(it) : std::next(it);
  }
}

void DuplicateClaims::refused(std::string_view node, Peer claimant, uint64_t holder_inc,
                              TimeMs now) {
  if (contested_.size() >= kMaxContested) expire(now);
  auto it = contested_.find(std::string(node));
  if (it == contested_.end()) {
    if (contested_.size() >= kMaxContested) return;
    it = contested_.emplace(std::string(node), Contest{}).first;
  }
  it->second = Contest{std::move(claimant), holder_inc, now};
}

std::optional<std::string> DuplicateClaims::accepted(std::string_view node, uint64_t inc,
                                                     const Peer& holder, TimeMs now) {
  auto it = contested_.find(std::string(node));
  if (it == contested_.end()) return std::nullopt;
  if (now - it->second.at >= kContestTtlMs) {
    contested_.erase(it);
    return std::nullopt;
  }
  if (it->second.holder_inc != inc) return std::nullopt;
  std::string line = "two agents claim node id " + std::string(node) + ": the holder, " +
                     describe(holder) + ", and " + describe(it->second.claimant) +
                     ", refused stale_incarnation; give every node its own id (the refused "
                     "agent exits 4 after lease + dead-after)";
  contested_.erase(it);
  return line;
}

}  // namespace roster::broker
