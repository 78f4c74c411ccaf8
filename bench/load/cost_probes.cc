#include "cost_probes.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support/proc_info.h"
#include "support/process.h"

namespace roster::bench {

namespace {

// The value of every "key:N" token of `text`, summed.
uint64_t sum_of(const std::string& text, const std::string& key) {
  uint64_t total = 0;
  std::stringstream in(text);
  std::string token;
  while (in >> token) {
    if (token.rfind(key, 0) == 0) total += std::strtoull(token.c_str() + key.size(), nullptr, 10);
  }
  return total;
}

}  // namespace

double precise_cpu_seconds(pid_t pid) {
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  std::error_code ec;
  uint64_t ns = 0;
  bool any = false;
  for (const auto& task : std::filesystem::directory_iterator(dir, ec)) {
    std::ifstream in(task.path() / "schedstat");
    uint64_t on_cpu_ns = 0;
    if (in >> on_cpu_ns) {
      ns += on_cpu_ns;
      any = true;
    }
  }
  if (ec || !any) return testing::process_cpu_seconds(pid);
  return static_cast<double>(ns) / 1e9;
}

std::optional<TcpBytes> tcp_bytes_on_port(uint16_t port, std::string* error) {
  static const std::string ss = testing::find_on_path("ss");
  if (ss.empty()) {
    *error = "ss (iproute2) not found";
    return std::nullopt;
  }
  auto result = testing::run_command(
      {ss, "-tinH", "state", "established", "sport", "=", ":" + std::to_string(port)},
      std::chrono::seconds(10));
  if (result.exit_status != 0) {
    *error = "ss failed: " + result.err;
    return std::nullopt;
  }
  TcpBytes bytes;
  bytes.received = sum_of(result.out, "bytes_received:");
  bytes.sent = sum_of(result.out, "bytes_acked:");
  std::stringstream lines(result.out);
  std::string line;
  while (std::getline(lines, line)) {
    // Each connection is a line with its addresses, then a tab-indented
    // line with its tcp_info.
    if (!line.empty() && line[0] == '\t') ++bytes.connections;
  }
  return bytes;
}

uint16_t endpoint_port(const std::string& endpoint) {
  const auto colon = endpoint.rfind(':');
  if (colon == std::string::npos) return 0;
  const unsigned long port = std::strtoul(endpoint.c_str() + colon + 1, nullptr, 10);
  return port > 0 && port < 65536 ? static_cast<uint16_t>(port) : 0;
}

}  // namespace roster::bench
