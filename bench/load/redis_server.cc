#include "redis_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

namespace roster::bench {

namespace {

// A loopback TCP port that was free a moment ago (0 when none was found).
// Another process may take it before redis-server binds it; start()
// retries then.
int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

constexpr int kStartAttempts = 3;

}  // namespace

std::string find_redis_server() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(std::string(path ? path : "") + ":/usr/bin:/usr/sbin:/usr/local/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/redis-server";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

std::unique_ptr<RedisServer> RedisServer::start(const std::string& executable, std::string* error) {
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    auto dir = std::make_unique<testing::TempDir>();
    const int port = free_loopback_port();
    if (port == 0) {
      *error = "no free loopback port";
      return nullptr;
    }
    auto process = testing::Process::start(
        {executable, "--port", std::to_string(port), "--bind", "127.0.0.1", "--dir", dir->path(),
         "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", "",
         "--notify-keyspace-events", "Exg"},
        dir->file("redis.log"));
    if (!process) {
      *error = "cannot start " + executable;
      return nullptr;
    }
    std::string output;
    if (process->wait_for_output("Ready to accept connections", std::chrono::seconds(10),
                                 &output)) {
      return std::unique_ptr<RedisServer>(
          new RedisServer(std::move(dir), std::move(process), port));
    }
    *error = "redis-server did not start: " + process->output_tail(500);
    process->stop(std::chrono::seconds(1));
    if (output.find("Address already in use") == std::string::npos) return nullptr;
  }
  return nullptr;
}

RedisServer::RedisServer(std::unique_ptr<testing::TempDir> dir,
                         std::unique_ptr<testing::Process> process, int port)
    : dir_(std::move(dir)), process_(std::move(process)), port_(port) {}

RedisServer::~RedisServer() {
  stop();
}

int RedisServer::stop() {
  return process_->stop(std::chrono::seconds(1));
}

}  // namespace roster::bench
