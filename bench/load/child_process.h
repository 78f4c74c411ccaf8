// Child processes of the benchmark: the broker under test and the ceiling
// ROUTER, started with --ready-file and stopped at the end of a scenario;
// plus /proc readings of a process (RSS, open files).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace roster::bench {

// A started child process; stdout and stderr go to a log file. The
// destructor kills (SIGKILL) and reaps it if it still runs.
//
// Thread safety: none; one owner.
class ChildProcess {
 public:
  // Starts argv[0] (a path) with the arguments. Returns nullptr and sets
  // *error when fork or exec fails.
  static std::unique_ptr<ChildProcess> start(const std::vector<std::string>& argv,
                                             const std::string& log_path, std::string* error);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // True until the process has exited (reaps it when it has).
  bool running();
  // SIGTERM, then SIGKILL after `grace`. Returns the exit status, or
  // 128+signal when a signal ended it.
  int stop(std::chrono::milliseconds grace);
  // The last `max_bytes` of the log, for error messages.
  std::string log_tail(size_t max_bytes = 2000) const;

 private:
  ChildProcess(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  pid_t pid_;
  std::string log_path_;
  bool exited_ = false;
  int status_ = -1;
};

// A server that wrote its endpoints to a ready file (agents=EP, publish=EP,
// admin=EP, pid=N lines; the ceiling writes only agents).
struct RunningServer {
  std::unique_ptr<ChildProcess> process;
  std::map<std::string, std::string> endpoints;
};

// Starts `argv` plus "--ready-file DIR/NAME.ready", logging to DIR/NAME.log,
// and waits up to `timeout` for the ready file to hold an agents line.
// Returns false and sets *error (with the log tail) when it does not.
bool start_server(const std::vector<std::string>& argv, const std::string& dir,
                  const std::string& name, std::chrono::milliseconds timeout, RunningServer* server,
                  std::string* error);

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

}  // namespace roster::bench
