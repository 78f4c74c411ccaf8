// Readings of a process from /proc (memory, CPU time, descriptors) and this
// process's open-file limit, for tests and the load benchmark.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace roster::testing {

// Resident set size of `pid` in KiB (VmRSS of /proc/PID/status); 0 when
// unreadable.
uint64_t rss_kib(pid_t pid);

// CPU time (user + system) used so far by process `pid`, in seconds; 0
// when unreadable.
double process_cpu_seconds(pid_t pid);

// CPU time (user + system) used so far by this process, in seconds.
double self_cpu_seconds();

// Number of open file descriptors of `pid`; 0 when unreadable.
size_t open_fd_count(pid_t pid);

// Raises this process's open-file limit (soft and, when allowed, hard) to
// at least `wanted`. Returns the soft limit now in force.
uint64_t raise_fd_limit(uint64_t wanted);

}  // namespace roster::testing
