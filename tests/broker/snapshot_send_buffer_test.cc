// --snapshot-send-buffer reaches the connections that carry snapshots: the
// kernel send buffer of the broker's accepted admin and state connections
// is the one asked for, and the agents connections keep the kernel's own.
// Read with `ss -tm` (iproute2): its skmem "tb" is the socket's send
// buffer, which Linux sets to twice the SO_SNDBUF asked (capped by
// net.core.wmem_max).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "support/broker_process.h"
#include "support/process.h"

namespace roster::testing {
namespace {

std::string port_of(const std::string& endpoint) {
  return endpoint.substr(endpoint.rfind(':') + 1);
}

// The first "tb" of ss's skmem for established TCP connections whose local
// port is `port`, or nullopt when there is none (yet).
std::optional<uint64_t> send_buffer_on_port(const std::string& ss, const std::string& port) {
  auto result = run_command({ss, "-tmnH", "state", "established", "sport", "=", ":" + port},
                            std::chrono::seconds(10));
  const size_t at = result.out.find(",tb");
  if (result.exit_status != 0 || at == std::string::npos) return std::nullopt;
  return std::stoull(result.out.substr(at + 3));
}

// What the kernel makes of SO_SNDBUF = `bytes` (net/core/sock.c).
uint64_t kernel_send_buffer(uint64_t bytes) {
  uint64_t wmem_max = bytes;
  std::ifstream("/proc/sys/net/core/wmem_max") >> wmem_max;
  return 2 * std::min(bytes, wmem_max);
}

TEST(SnapshotSendBuffer, AppliesToTheAdminAndStateConnectionsOnly) {
  const std::string ss = find_on_path("ss");
  if (ss.empty()) GTEST_SKIP() << "ss (iproute2) is not installed";
  const uint64_t asked = 100'000;
  auto broker = BrokerProcess::start({"--snapshot-send-buffer", std::to_string(asked)});
  ASSERT_TRUE(broker);
  zmq::context_t context(1);
  zmq::socket_t admin(context, zmq::socket_type::dealer);
  zmq::socket_t state(context, zmq::socket_type::sub);
  zmq::socket_t agent(context, zmq::socket_type::dealer);
  for (auto* socket : {&admin, &state, &agent}) socket->set(zmq::sockopt::linger, 0);
  admin.connect(broker->endpoints().admin);
  state.connect(broker->endpoints().publish);
  agent.connect(broker->endpoints().agents);

  const uint64_t expected = kernel_send_buffer(asked);
  std::optional<uint64_t> admin_buffer, state_buffer, agent_buffer;
  ASSERT_TRUE(wait_until(
      [&] {
        admin_buffer = send_buffer_on_port(ss, port_of(broker->endpoints().admin));
        state_buffer = send_buffer_on_port(ss, port_of(broker->endpoints().publish));
        agent_buffer = send_buffer_on_port(ss, port_of(broker->endpoints().agents));
        return admin_buffer && state_buffer && agent_buffer;
      },
      std::chrono::seconds(10), std::chrono::milliseconds(50)))
      << "the three connections were not all established";
  EXPECT_EQ(*admin_buffer, expected);
  EXPECT_EQ(*state_buffer, expected);
  EXPECT_NE(*agent_buffer, expected) << "the agents connection took the snapshot send buffer";
}

}  // namespace
}  // namespace roster::testing
