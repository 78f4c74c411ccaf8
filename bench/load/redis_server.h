// A throwaway redis-server for the comparison scenario: loopback only, no
// persistence, keyspace notifications for expired keys and generic
// commands (`notify-keyspace-events Exg`), in a temporary directory.
#pragma once

#include <memory>
#include <string>

#include "support/process.h"

namespace roster::bench {

// The redis-server executable found on PATH, or "" when there is none.
std::string find_redis_server();

// A running redis-server child process, stopped (SIGTERM, then SIGKILL)
// on destruction. Thread safety: none; one owner.
class RedisServer {
 public:
  // Starts `executable` on a free loopback port, its files and log in a
  // fresh temporary directory, and waits until it accepts connections.
  // Returns nullptr with *error set when it does not start within 10 s.
  static std::unique_ptr<RedisServer> start(const std::string& executable, std::string* error);
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return process_->pid(); }
  // SIGTERM, then SIGKILL after a second; the exit status.
  int stop();

 private:
  RedisServer(std::unique_ptr<testing::TempDir> dir, std::unique_ptr<testing::Process> process,
              int port);
  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<testing::Process> process_;
  int port_;
};

}  // namespace roster::bench
