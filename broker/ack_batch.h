// The heartbeat acks of one event-loop round, queued while the round reads
// its requests and sent together after the reads. Sent one by one between
// reads, each ack found libzmq's I/O thread idle and woke it (a mailbox
// signal and a wake-up per ack); sent together, the I/O thread wakes about
// once per connection and round. docs/PERFORMANCE.md has the figures.
//
// Thread safety: none; use from the thread that owns the socket.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <zmq.hpp>

#include "counters.h"
#include "envelope.h"
#include "roster/codec.h"

namespace roster::broker {

class AckBatch {
 public:
  // Acks go out on `router`; each one's latency (request read -> ack handed
  // to the socket) is observed in `latency`. Both must outlive the batch.
  // Holds `capacity` acks (at least 1); allocates nothing after this.
  AckBatch(zmq::socket_t& router, LatencyCounts& latency, size_t capacity);

  // Encodes `ack` for the sender of `request` and queues it, taking the
  // request's routing id frame (request.id_frame is empty afterwards).
  // `received` is when the request was read. A full batch is flushed first,
  // so acks always leave in the order they were added.
  void add(RoutedRequest& request, const Ack& ack, std::chrono::steady_clock::time_point received);

  // Hands every queued ack to the socket in the order added, never
  // blocking (an ack whose peer is gone or at its high-water mark is
  // dropped, as every reply of the broker), and empties the batch.
  // Returns the number of acks the socket took.
  size_t flush();

  // Acks queued and not yet flushed.
  size_t size() const { return count_; }

 private:
  struct Entry {
    zmq::message_t id_frame;
    bool delimiter = false;
    uint8_t size = 0;
    char body[kMaxAckBytes];
    std::chrono::steady_clock::time_point received{};
  };

  zmq::socket_t& router_;
  LatencyCounts& latency_;
  std::vector<Entry> entries_;
  size_t count_ = 0;
};

}  // namespace roster::broker
