// A stand-in for systemd's notification socket: a datagram unix socket in a
// temp dir that a child finds through NOTIFY_SOCKET and sends its
// sd_notify(3) messages to ("READY=1\nSTATUS=...").
//
// Thread safety: none; the test thread owns it.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "support/process.h"

namespace roster::testing {

class NotifySocket {
 public:
  NotifySocket() : path_(dir_.file("notify")) {
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    EXPECT_LT(path_.size(), sizeof(address.sun_path));
    path_.copy(address.sun_path, sizeof(address.sun_path) - 1);
    EXPECT_EQ(bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  }
  ~NotifySocket() { close(fd_); }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;

  // The value for NOTIFY_SOCKET.
  const std::string& path() const { return path_; }

  // Every message received so far (one per datagram), oldest first.
  const std::vector<std::string>& messages() {
    receive();
    return messages_;
  }

  // Waits up to `timeout` for a message that `matches`; the first such one,
  // or empty.
  std::string wait_for(const std::function<bool(const std::string&)>& matches,
                       std::chrono::milliseconds timeout) {
    std::string found;
    wait_until(
        [&] {
          for (const std::string& message : messages()) {
            if (matches(message)) {
              found = message;
              return true;
            }
          }
          return false;
        },
        timeout);
    return found;
  }

  // Waits for a message holding the line `line` (e.g. "READY=1").
  std::string wait_for_line(const std::string& line, std::chrono::milliseconds timeout) {
    return wait_for([&](const std::string& m) { return has_line(m, line); }, timeout);
  }

  // How many messages so far hold the line `line`.
  size_t count_line(const std::string& line) {
    size_t count = 0;
    for (const std::string& message : messages()) count += has_line(message, line) ? 1 : 0;
    return count;
  }

  // True if `message` has a line equal to `line`.
  static bool has_line(const std::string& message, const std::string& line) {
    size_t start = 0;
    while (start <= message.size()) {
      size_t end = message.find('\n', start);
      if (end == std::string::npos) end = message.size();
      if (message.compare(start, end - start, line) == 0) return true;
      start = end + 1;
    }
    return false;
  }

 private:
  void receive() {
    char buffer[4096];
    while (true) {
      ssize_t n = recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n < 0) return;
      messages_.emplace_back(buffer, static_cast<size_t>(n));
    }
  }

  TempDir dir_;
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

}  // namespace roster::testing
