#include "support/http_get.h"

#include <httplib.h>

#include <sstream>

namespace roster::testing {

std::optional<HttpAnswer> http_get(const std::string& address, const std::string& path,
                                   std::chrono::milliseconds timeout) {
  httplib::Client client("http://" + address);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  auto result = client.Get(path);
  if (!result) return std::nullopt;
  return HttpAnswer{result->status, result->body};
}

bool has_line_starting(const std::string& text, const std::string& prefix) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(prefix, 0) == 0) return true;
  }
  return false;
}

}  // namespace roster::testing
