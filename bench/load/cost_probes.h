// Precise readings of what a process costs, for the pair_cost scenario:
// CPU time summed over its threads in nanoseconds (not clock ticks), and
// the real TCP payload bytes through a local port (from the kernel's
// tcp_info, read with `ss`).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace roster::bench {

// CPU time (on-CPU time of every live thread, /proc/PID/task/*/schedstat)
// used so far by `pid`, in seconds. Falls back to utime+stime in clock
// ticks (testing::process_cpu_seconds) when schedstat is unreadable.
double precise_cpu_seconds(pid_t pid);

// TCP payload bytes of the established connections whose local port is
// `port`, as the owner of that port sees them.
struct TcpBytes {
  uint64_t received = 0;  // bytes_received: peer -> port
  uint64_t sent = 0;      // bytes_acked: port -> peer, acked by the peer
  size_t connections = 0;
};

// The totals now, from `ss -tinH state established sport = :PORT`;
// nullopt (and *error) when ss is missing or fails.
std::optional<TcpBytes> tcp_bytes_on_port(uint16_t port, std::string* error);

// The port of a tcp://HOST:PORT endpoint; 0 when there is none.
uint16_t endpoint_port(const std::string& endpoint);

}  // namespace roster::bench
