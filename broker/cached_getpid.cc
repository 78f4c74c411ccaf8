// getpid() for the broker process, answered from a cache.
//
// libzmq checks for a fork before each signal between its threads
// (signaler.cpp, HAVE_FORK): one getpid() per check, and glibc's getpid()
// is a system call on every call since 2.25. On the ack path that was half
// of the event loop thread's system calls (docs/PERFORMANCE.md). Defined
// in the executable, this getpid() takes precedence over glibc's for every
// library of the process (the linker exports it because libzmq refers to
// it); a child of fork() refreshes the cache (pthread_atfork) before any
// of its code runs. (Children of vfork() or posix_spawn() run no atfork
// handler, but they exec at once.)
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>

namespace {

std::atomic<pid_t> g_cached_pid{0};

pid_t pid_from_kernel() {
  return static_cast<pid_t>(::syscall(SYS_getpid));
}

void refresh_in_child() {
  g_cached_pid.store(pid_from_kernel(), std::memory_order_relaxed);
}

const bool g_refresh_registered = ::pthread_atfork(nullptr, nullptr, refresh_in_child) == 0;

}  // namespace

// The process id: the kernel's answer once, then the cache. Safe from any
// thread and from a signal handler.
extern "C" pid_t getpid() noexcept {
  pid_t pid = g_cached_pid.load(std::memory_order_relaxed);
  // Before the atfork handler was registered, or if it could not be, ask
  // the kernel every time: a stale pid after a fork must never be served.
  if (pid == 0 || !g_refresh_registered) {
    pid = pid_from_kernel();
    if (g_refresh_registered) g_cached_pid.store(pid, std::memory_order_relaxed);
  }
  return pid;
}
