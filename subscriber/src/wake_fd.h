// One file descriptor that stands for several: it is readable while any
// descriptor added to it is readable (an epoll set, level-triggered, which
// is itself pollable). The Subscriber gives it to a caller's poll loop in
// place of the ZMQ_FD of each of its sockets, one of which is replaced on
// every snapshot request retry.
//
// Thread safety: none; one owner.
#pragma once

#include <string>

namespace roster::subscriber {

class WakeFd {
 public:
  WakeFd() = default;
  // Closes the set (not the descriptors added to it).
  ~WakeFd();
  WakeFd(const WakeFd&) = delete;
  WakeFd& operator=(const WakeFd&) = delete;

  // Creates the set. Returns false with *error set if the system refuses
  // (e.g. out of file descriptors).
  bool open(std::string* error);
  // The descriptor to poll for readability; -1 before open().
  int fd() const { return fd_; }
  // Watches `fd` for readability. Returns false if it cannot.
  // REQUIRES: open() succeeded; `fd` is not watched yet.
  bool add(int fd);
  // Stops watching `fd`. Call it before `fd` is closed.
  void remove(int fd);

 private:
  int fd_ = -1;
};

}  // namespace roster::subscriber
