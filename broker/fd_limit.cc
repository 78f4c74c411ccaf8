#include "fd_limit.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

namespace roster::broker {

namespace {

// The kernel's ceiling on RLIMIT_NOFILE (fs.nr_open); its usual default
// when it cannot be read.
rlim_t nr_open() {
  std::ifstream in("/proc/sys/fs/nr_open");
  unsigned long long value = 0;
  if (in >> value && value > 0) return static_cast<rlim_t>(value);
  return 1'048'576;
}

uint64_t as_u64(rlim_t value) {
  return value == RLIM_INFINITY ? std::numeric_limits<uint64_t>::max()
                                : static_cast<uint64_t>(value);
}

std::string describe_limit(uint64_t value) {
  return value == std::numeric_limits<uint64_t>::max() ? "unlimited" : std::to_string(value);
}

}  // namespace

FdLimit raise_fd_limit() {
  FdLimit result;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    result.error = std::string("getrlimit: ") + std::strerror(errno);
    return result;
  }
  result.soft_before = result.soft = as_u64(limit.rlim_cur);
  result.hard = as_u64(limit.rlim_max);
  rlim_t target = limit.rlim_max == RLIM_INFINITY ? nr_open() : limit.rlim_max;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur >= target) return result;
  rlimit raised = limit;
  raised.rlim_cur = target;
  if (setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    result.error = std::string("setrlimit: ") + std::strerror(errno);
    return result;
  }
  result.soft = as_u64(target);
  return result;
}

void log_fd_limit(const FdLimit& limit) {
  if (!limit.error.empty()) {
    spdlog::warn(
        "file descriptors: cannot raise the soft limit {} to the hard limit {} ({}): at most "
        "about {} agent and subscriber connections",
        describe_limit(limit.soft), describe_limit(limit.hard), limit.error,
        describe_limit(limit.soft));
    return;
  }
  if (limit.soft != limit.soft_before) {
    spdlog::info("file descriptors: soft limit raised from {} to {} (hard limit {})",
                 describe_limit(limit.soft_before), describe_limit(limit.soft),
                 describe_limit(limit.hard));
    return;
  }
  spdlog::info("file descriptors: soft limit {} (hard limit {})", describe_limit(limit.soft),
               describe_limit(limit.hard));
}

}  // namespace roster::broker
