// The broker's file descriptor limit (RLIMIT_NOFILE). Every agent and
// every subscriber connection holds one descriptor; at the limit libzmq
// cannot accept new connections (see socket_monitor.h), so the broker
// raises its soft limit to the hard one at start.
#pragma once

#include <cstdint>
#include <string>

namespace roster::broker {

// What raise_fd_limit() found and did.
struct FdLimit {
  uint64_t soft_before = 0;  // the soft limit the process started with
  uint64_t soft = 0;         // the soft limit now
  uint64_t hard = 0;         // the hard limit (UINT64_MAX: unlimited)
  std::string error;         // why the soft limit could not be raised; empty if it was
};

// Raises the soft RLIMIT_NOFILE to the hard limit (to the kernel's
// fs.nr_open when the hard limit is unlimited). Never fails the start: a
// failure is reported in `error`. Call once, before any thread starts.
FdLimit raise_fd_limit();

// Logs `limit` at info (soft and hard limit, and whether it was raised),
// or at warn when it could not be raised. REQUIRES: logging started.
void log_fd_limit(const FdLimit& limit);

}  // namespace roster::broker
