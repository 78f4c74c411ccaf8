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

namespace roster::broker {

// I/O threads of the broker's context.
constexpr int kIoThreads = 2;
// ZMQ_AFFINITY bit masks: bit N is I/O thread N. Set before bind().
constexpr uint64_t kAgentsIoAffinity = 1u << 0;
constexpr uint64_t kBulkIoAffinity = 1u << 1;

}  // namespace roster::broker
