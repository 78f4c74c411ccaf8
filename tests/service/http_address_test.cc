// The ADDR:PORT form of --http (http/http_address.h), named after each
// kind of input.
#include <gtest/gtest.h>

#include "http_address.h"

namespace roster::http {
namespace {

TEST(HttpAddress, Ipv4AndPort) {
  auto address = parse_http_address("127.0.0.1:9464");
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(address->host, "127.0.0.1");
  EXPECT_EQ(address->port, 9464);
}

TEST(HttpAddress, BracketedIpv6LosesItsBrackets) {
  auto address = parse_http_address("[::1]:80");
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(address->host, "::1");
  EXPECT_EQ(address->port, 80);
}

TEST(HttpAddress, PortZeroMeansAnyFreePort) {
  auto address = parse_http_address("0.0.0.0:0");
  ASSERT_TRUE(address.has_value());
  EXPECT_EQ(address->port, 0);
}

TEST(HttpAddress, Rejected) {
  for (const char* text : {"", "127.0.0.1", ":9464", "127.0.0.1:", "127.0.0.1:http",
                           "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:123456", "[]:80"}) {
    EXPECT_FALSE(parse_http_address(text).has_value()) << text;
  }
}

}  // namespace
}  // namespace roster::http
