// The test kit's process launcher (tests and the load benchmark): child
// processes, temporary directories and waiting for a condition with a
// deadline (tests never sleep for a fixed time).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace roster::testing {

// Polls `condition` every `poll` until it returns true or `timeout` passes.
// Returns the last result of `condition`.
bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll = std::chrono::milliseconds(2));

// A fresh directory under $TMPDIR (or /tmp), removed with its contents on
// destruction. Short paths, so ipc:// endpoints fit in sun_path.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // path() + "/" + name
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Path of a roster executable built by this tree, e.g. bin("roster-broker").
std::string bin(const std::string& name);

// A resource limit (soft, hard) for a child process.
struct ResourceLimit {
  uint64_t soft = 0;
  uint64_t hard = 0;
};

// How a child process is started.
struct ProcessOptions {
  // Receives stdout+stderr; when empty, a file in a private temp dir.
  std::string log_path;
  // RLIMIT_NOFILE set in the child before exec; unchanged when unset.
  std::optional<ResourceLimit> nofile;
};

// A child process. Its stdout and stderr go to one log file, its stdin is
// /dev/null, it runs in a process group of its own and is killed when this
// process dies. The destructor kills (SIGKILL) and reaps it if it still
// runs.
//
// Thread safety: none; one owner.
class Process {
 public:
  // Starts argv[0] (a path) with the given arguments. `log_path` receives
  // stdout+stderr; when empty, a file in a private temp dir is used.
  // Returns nullptr if the log cannot be opened or fork fails; a failed
  // exec is exit status 127 with the reason in the log.
  static std::unique_ptr<Process> start(const std::vector<std::string>& argv,
                                        const std::string& log_path = "");
  // The same, with `options`; when it returns nullptr and `error` is given,
  // *error says why.
  static std::unique_ptr<Process> start(const std::vector<std::string>& argv,
                                        const ProcessOptions& options,
                                        std::string* error = nullptr);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  // Sends `sig` if the process still runs.
  void signal(int sig);
  // True until the process has exited (reaps it when it has).
  bool running();
  // Waits up to `timeout` for exit. Returns the exit status, or 128+signal
  // if killed by a signal; nullopt if it still runs.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL if it still runs after `grace`. Returns the exit
  // status, or 128+signal.
  int stop(std::chrono::milliseconds grace);
  // Everything the process has written so far.
  std::string output() const;
  // Waits up to `timeout` until output() contains `text`; stores the
  // output then (or at the timeout) in *output when given.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout,
                       std::string* output = nullptr) const;
  // The last `max_bytes` of output(), for error messages.
  std::string output_tail(size_t max_bytes = 2000) const;
  const std::string& log_path() const { return log_path_; }

 private:
  Process(pid_t pid, std::string log_path, std::unique_ptr<TempDir> dir);
  pid_t pid_;
  std::string log_path_;
  std::unique_ptr<TempDir> dir_;
  std::optional<int> status_;
};

// The first executable `name` on $PATH (or the usual sbin directories,
// where ss lives on some systems); empty when there is none.
std::string find_on_path(const std::string& name);

// Runs a command to completion (up to `timeout`), capturing stdout and
// stderr separately. exit_status is 128+signal if killed, -1 on timeout.
struct CommandResult {
  int exit_status = -1;
  std::string out;
  std::string err;
};
CommandResult run_command(const std::vector<std::string>& argv,
                          std::chrono::milliseconds timeout = std::chrono::seconds(20),
                          const std::vector<std::string>& extra_env = {});

}  // namespace roster::testing
