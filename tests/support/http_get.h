// A GET against the HTTP endpoints of roster-broker and roster-agent
// (http/http_server.h), for tests: one request, one connection, a timeout.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace roster::testing {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// GET http://`address``path` (address: HOST:PORT). Returns the answer, or
// nullopt when none came within `timeout` (connecting included) or the
// connection failed.
std::optional<HttpAnswer> http_get(const std::string& address, const std::string& path,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(5));

// True when `text` has a line that starts with `prefix` (e.g. a metric's
// name and labels followed by " 1").
bool has_line_starting(const std::string& text, const std::string& prefix);

}  // namespace roster::testing
