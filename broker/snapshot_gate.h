// At most one snapshot reply in flight per admin client. A snapshot reply
// (about 10 MB at 100k nodes) is in flight from the moment the request is
// forwarded to the publisher until the broker has written the last byte to
// the client's connection, or dropped it (client gone, or its queue full).
// While one is in flight, one more request from the same client waits and
// is forwarded once the first is delivered; any further one is refused.
// So a client that asks and never reads holds one snapshot, not thousands.
//
// Delivery is signalled through a flag that the reply's free callback sets
// from a ZeroMQ I/O thread (see track_delivery() in envelope.h); everything
// else is the event loop's.
//
// Thread safety: none, except the delivery flags (atomic).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace roster::broker {

class SnapshotGate {
 public:
  using DeliveryFlag = std::shared_ptr<std::atomic<bool>>;

  enum class Verdict {
    kForward,  // forward to the publisher now
    kWait,     // held until the client's reply in flight is delivered
    kRefuse,   // one is in flight and one waits: answer over_capacity
  };

  // A snapshot request from `routing_id` (REQ clients: `delimiter`; in
  // parts of `part_bytes` when set).
  Verdict request(const std::string& routing_id, bool delimiter,
                  std::optional<uint64_t> part_bytes = std::nullopt);

  // The publisher's reply to `routing_id` is about to be sent: returns the
  // flag its free callback must set once the reply is delivered or dropped.
  DeliveryFlag sending(const std::string& routing_id);

  // A request that waited and may now be forwarded.
  struct Released {
    std::string routing_id;
    bool delimiter = false;
    std::optional<uint64_t> part_bytes;
  };
  // Forgets clients whose reply was delivered and returns the requests
  // that waited behind one (now in flight in turn).
  std::vector<Released> release();

  // Clients with a snapshot in flight.
  size_t in_flight() const { return clients_.size(); }

 private:
  struct Client {
    DeliveryFlag delivered;  // null until the publisher's reply is sent
    // A waiting request, if any (its routing_id is unused).
    std::optional<Released> waiting;
  };
  std::map<std::string, Client> clients_;
};

}  // namespace roster::broker
