// How the broker's ZeroMQ context spreads its sockets over I/O threads.
//
// Heartbeat acks are small and latency-bound; snapshots (10 MiB at 100k
// nodes) are large. A libzmq I/O thread writes a message to its TCP socket
// until the kernel's buffer is full, so an ack queued behind a snapshot on
// the same I/O thread waits for that write. The agents socket therefore has
// an I/O thread of its own, and the admin and state (XPUB) sockets, which
// carry snapshots, share the other.
#pragma once

#include <cstdint>

#include <zmq.hpp>

namespace roster::broker {

// I/O threads of the broker's context.
constexpr int kIoThreads = 2;
// ZMQ_AFFINITY bit masks: bit N is I/O thread N. Set before bind().
constexpr uint64_t kAgentsIoAffinity = 1u << 0;
constexpr uint64_t kBulkIoAffinity = 1u << 1;

// Sets up `socket`, one that carries snapshots (admin ROUTER, state XPUB):
// on the bulk I/O thread, and with a kernel send buffer of
// `send_buffer_bytes` per connection when it is not 0 (0: the kernel's
// sizing; BrokerOptions::snapshot_send_buffer_bytes). Call before bind().
inline void configure_bulk_socket(zmq::socket_t& socket, uint64_t send_buffer_bytes) {
  socket.set(zmq::sockopt::affinity, kBulkIoAffinity);
  if (send_buffer_bytes > 0) socket.set(zmq::sockopt::sndbuf, static_cast<int>(send_buffer_bytes));
}

}  // namespace roster::broker
