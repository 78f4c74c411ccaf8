#include "wake_fd.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace roster::subscriber {

WakeFd::~WakeFd() {
  if (fd_ >= 0) ::close(fd_);
}

bool WakeFd::open(std::string* error) {
  fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd_ >= 0) return true;
  if (error) *error = std::string("cannot create an epoll set: ") + std::strerror(errno);
  return false;
}

bool WakeFd::add(int fd) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.fd = fd;
  return ::epoll_ctl(fd_, EPOLL_CTL_ADD, fd, &event) == 0;
}

void WakeFd::remove(int fd) {
  epoll_event event{};
  ::epoll_ctl(fd_, EPOLL_CTL_DEL, fd, &event);
}

}  // namespace roster::subscriber
