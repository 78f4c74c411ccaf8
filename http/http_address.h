// The ADDR:PORT form of --http: "127.0.0.1:9464", "[::1]:9464",
// "0.0.0.0:9464"; port 0 takes any free port (the bound one is reported).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace roster::http {

struct HttpAddress {
  std::string host;  // without the brackets of an IPv6 literal
  int port = 0;      // 0..65535; 0: any free port
};

// Parses `text`. Returns nullopt when the host is empty, the port is
// missing, not a decimal number or above 65535.
std::optional<HttpAddress> parse_http_address(std::string_view text);

}  // namespace roster::http
