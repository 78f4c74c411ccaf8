#include "support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace roster::testing {

bool wait_until(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(poll);
  }
}

TempDir::TempDir() {
  const char* base = getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/roster-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp: ") + strerror(errno));
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string bin(const std::string& name) {
  return std::string(ROSTER_BIN_DIR) + "/" + name;
}

namespace {
std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<char*> to_argv(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}
}  // namespace

std::unique_ptr<Process> Process::start(const std::vector<std::string>& argv,
                                        const std::string& log_path) {
  ProcessOptions options;
  options.log_path = log_path;
  return start(argv, options);
}

std::unique_ptr<Process> Process::start(const std::vector<std::string>& argv,
                                        const ProcessOptions& options, std::string* error) {
  std::string ignored;
  if (error == nullptr) error = &ignored;
  std::unique_ptr<TempDir> dir;
  std::string log = options.log_path;
  if (log.empty()) {
    dir = std::make_unique<TempDir>();
    log = dir->file("output.log");
  }
  int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = "cannot open " + log + ": " + strerror(errno);
    return nullptr;
  }
  auto args = to_argv(argv);
  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + strerror(errno);
    close(fd);
    return nullptr;
  }
  if (pid == 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    setpgid(0, 0);
    // A test binary that crashes must not leave brokers and agents behind.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (options.nofile) {
      rlimit limit{static_cast<rlim_t>(options.nofile->soft),
                   static_cast<rlim_t>(options.nofile->hard)};
      if (setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(126);
    }
    execv(args[0], args.data());
    fprintf(stderr, "exec %s: %s\n", args[0], strerror(errno));
    _exit(127);
  }
  close(fd);
  return std::unique_ptr<Process>(new Process(pid, log, std::move(dir)));
}

Process::Process(pid_t pid, std::string log_path, std::unique_ptr<TempDir> dir)
    : pid_(pid), log_path_(std::move(log_path)), dir_(std::move(dir)) {}

Process::~Process() {
  if (running()) {
    kill(pid_, SIGKILL);
    // A SIGSTOPped child still dies from SIGKILL.
    int status = 0;
    waitpid(pid_, &status, 0);
  }
}

void Process::signal(int sig) {
  if (running()) kill(pid_, sig);
}

bool Process::running() {
  if (status_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    status_ = decode_status(status);
    return false;
  }
  return r == 0;
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds timeout) {
  wait_until([this] { return !running(); }, timeout, std::chrono::milliseconds(1));
  return status_;
}

int Process::stop(std::chrono::milliseconds grace) {
  signal(SIGTERM);
  if (auto status = wait_exit(grace)) return *status;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  status_ = decode_status(status);
  return *status_;
}

std::string Process::output() const {
  return read_file(log_path_);
}

bool Process::wait_for_output(const std::string& text, std::chrono::milliseconds timeout,
                              std::string* output) const {
  std::string seen;
  const bool found = wait_until(
      [&] {
        seen = this->output();
        return seen.find(text) != std::string::npos;
      },
      timeout);
  if (output) *output = std::move(seen);
  return found;
}

std::string Process::output_tail(size_t max_bytes) const {
  std::string text = output();
  if (text.size() > max_bytes) text = "..." + text.substr(text.size() - max_bytes);
  return text;
}

std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = std::string(path ? path : "") + ":/usr/sbin:/sbin:/usr/bin:/bin";
  std::stringstream in(dirs);
  std::string dir;
  while (std::getline(in, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const std::vector<std::string>& extra_env) {
  TempDir dir;
  const std::string out_path = dir.file("out");
  const std::string err_path = dir.file("err");
  auto args = to_argv(argv);
  CommandResult result;
  pid_t pid = fork();
  if (pid < 0) return result;
  if (pid == 0) {
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (const auto& kv : extra_env) putenv(const_cast<char*>(kv.c_str()));
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  bool exited = wait_until(
      [&] {
        pid_t r = waitpid(pid, &status, WNOHANG);
        return r == pid;
      },
      timeout, std::chrono::milliseconds(1));
  if (!exited) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    result.exit_status = -1;
  } else {
    result.exit_status = decode_status(status);
  }
  result.out = read_file(out_path);
  result.err = read_file(err_path);
  return result;
}

}  // namespace roster::testing
