#include "ready_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>

namespace roster::broker {

namespace {

// Writes all of `text` to `fd` and syncs it; the errno of a failure, or 0.
int write_synced(int fd, const std::string& text) {
  size_t written = 0;
  while (written < text.size()) {
    ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return EIO;
    written += static_cast<size_t>(n);
  }
  // A full disk may show only here (delayed allocation). EINVAL: a file
  // that cannot be synced (e.g. a pipe) is written as well as it can be.
  if (fsync(fd) != 0 && errno != EINVAL) return errno;
  return 0;
}

}  // namespace

std::optional<std::string> write_ready_file(const std::string& path, const ReadyInfo& info) {
  const std::string tmp = path + ".tmp";
  const std::string text = "agents=" + info.agents + "\npublish=" + info.publish +
                           "\nadmin=" + info.admin + "\npid=" + std::to_string(info.pid) + "\n" +
                           (info.http.empty() ? "" : "http=" + info.http + "\n");
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return "cannot write --ready-file " + tmp + ": " + std::strerror(errno);
  int error = write_synced(fd, text);
  if (close(fd) != 0 && error == 0) error = errno;
  if (error != 0) {
    unlink(tmp.c_str());
    return "cannot write --ready-file " + tmp + ": " + std::strerror(error);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string message = "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno);
    unlink(tmp.c_str());
    return message;
  }
  return std::nullopt;
}

std::optional<ReadyInfo> read_ready_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  ReadyInfo info;
  bool has_agents = false;
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = line.substr(0, eq);
    std::string value = line.substr(eq + 1);
    if (key == "agents") {
      info.agents = std::move(value);
      has_agents = true;
    } else if (key == "publish") {
      info.publish = std::move(value);
    } else if (key == "admin") {
      info.admin = std::move(value);
    } else if (key == "http") {
      info.http = std::move(value);
    } else if (key == "pid") {
      info.pid = std::strtol(value.c_str(), nullptr, 10);
    }
  }
  if (!has_agents) return std::nullopt;
  return info;
}

}  // namespace roster::broker
