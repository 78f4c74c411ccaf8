// CPU time per thread of a process, from /proc/PID/task, to tell which
// thread (the broker's event loop, its ZeroMQ I/O thread, the load
// generator...) saturated during a run.
#pragma once

#include <sys/types.h>

#include <map>
#include <string>

namespace roster::bench {

// CPU seconds (user + system) used so far by each thread of `pid`, keyed
// by "name/tid" (name from /proc/PID/task/TID/comm). Empty when unreadable.
std::map<std::string, double> thread_cpu_seconds(pid_t pid);

// Per thread present in `after`: (after - before) / `wall_seconds` * 100,
// the % of one core it used in between.
std::map<std::string, double> thread_cpu_pct(const std::map<std::string, double>& before,
                                             const std::map<std::string, double>& after,
                                             double wall_seconds);

}  // namespace roster::bench
