#include "snapshot_gate.h"

namespace roster::broker {

SnapshotGate::Verdict SnapshotGate::request(const std::string& routing_id, bool delimiter,
                                            std::optional<uint64_t> part_bytes) {
  auto [it, inserted] = clients_.try_emplace(routing_id);
  // Nothing in flight for this client.
  if (inserted) return Verdict::kForward;
  // One in flight and one waiting already.
  if (it->second.waiting) return Verdict::kRefuse;
  it->second.waiting = Released{{}, delimiter, part_bytes};
  return Verdict::kWait;
}

SnapshotGate::DeliveryFlag SnapshotGate::sending(const std::string& routing_id) {
  auto flag = std::make_shared<std::atomic<bool>>(false);
  // The entry exists unless the loop forwarded a request without asking;
  // tracking it anyway keeps the bound.
  clients_[routing_id].delivered = flag;
  return flag;
}

std::vector<SnapshotGate::Released> SnapshotGate::release() {
  std::vector<Released> released;
  for (auto it = clients_.begin(); it != clients_.end();) {
    Client& client = it->second;
    // Still with the publisher, or still queued for the client.
    if (!client.delivered || !client.delivered->load(std::memory_order_acquire)) {
      ++it;
      continue;
    }
    if (client.waiting) {
      released.push_back({it->first, client.waiting->delimiter, client.waiting->part_bytes});
      client = Client{};
      ++it;
    } else {
      it = clients_.erase(it);
    }
  }
  return released;
}

}  // namespace roster::broker
