// roster-broker under systemd (Type=notify, WatchdogSec=): a datagram socket
// stands in for NOTIFY_SOCKET. The broker says READY=1 once bound, STATUS=
// with node counts, WATCHDOG=1 from its event loop at half WATCHDOG_USEC,
// and STOPPING=1 on SIGTERM. Without NOTIFY_SOCKET it sends nothing.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>

#include "support/agent_client.h"
#include "support/broker_process.h"
#include "support/messages.h"
#include "support/notify_socket.h"

namespace roster::testing {
namespace {

using std::chrono::milliseconds;

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// Starts a broker whose environment holds NOTIFY_SOCKET (and WATCHDOG_USEC
// when `watchdog_usec` is not empty); the test's own environment is
// restored at once.
std::unique_ptr<BrokerProcess> start_notified(const NotifySocket& socket,
                                              const std::string& watchdog_usec) {
  setenv("NOTIFY_SOCKET", socket.path().c_str(), 1);
  if (!watchdog_usec.empty()) setenv("WATCHDOG_USEC", watchdog_usec.c_str(), 1);
  auto broker = BrokerProcess::start();
  unsetenv("NOTIFY_SOCKET");
  unsetenv("WATCHDOG_USEC");
  return broker;
}

TEST(SystemdNotify, ReadyStatusWatchdogAndStopping) {
#ifndef ROSTER_HAVE_SYSTEMD
  GTEST_SKIP() << "built without libsystemd (Debian: libsystemd-dev)";
#endif
  NotifySocket socket;
  auto broker = start_notified(socket, "400000");  // WatchdogSec=400ms
  ASSERT_NE(broker, nullptr);

  // READY=1 comes with a first STATUS= line; the ready file exists by then.
  std::string ready = socket.wait_for_line("READY=1", kReplyTimeout);
  ASSERT_FALSE(ready.empty()) << broker->process().output();
  EXPECT_TRUE(has(ready, "STATUS=serving: epoch=")) << ready;
  EXPECT_TRUE(has(ready, "nodes=0 (0 alive")) << ready;

  // WATCHDOG=1 every 200 ms (half the timeout): a few within a second or so.
  EXPECT_TRUE(wait_until([&] { return socket.count_line("WATCHDOG=1") >= 3; }, kReplyTimeout))
      << socket.count_line("WATCHDOG=1");
  EXPECT_TRUE(has(broker->process().output(), "systemd watchdog: 400 ms"))
      << broker->process().output();

  // A node joins: a later STATUS= line counts it (at most every 2 s).
  AgentClient agent(broker->endpoints().agents);
  ASSERT_EQ(error_code(agent.join("n1", 1, 60'000)), std::nullopt);
  std::string status = socket.wait_for(
      [](const std::string& m) { return has(m, "STATUS=serving:") && has(m, "nodes=1 (1 alive"); },
      kReplyTimeout);
  EXPECT_FALSE(status.empty());
  EXPECT_TRUE(has(status, "warming-up")) << status;

  broker->process().signal(SIGTERM);
  EXPECT_EQ(broker->process().wait_exit(kReplyTimeout), 0);
  std::string stopping = socket.wait_for_line("STOPPING=1", kReplyTimeout);
  EXPECT_TRUE(has(stopping, "STATUS=stopping (SIGTERM)")) << stopping;
}

TEST(SystemdNotify, NoWatchdogPingsWithoutWatchdogUsec) {
#ifndef ROSTER_HAVE_SYSTEMD
  GTEST_SKIP() << "built without libsystemd (Debian: libsystemd-dev)";
#endif
  NotifySocket socket;
  auto broker = start_notified(socket, "");
  ASSERT_NE(broker, nullptr);
  ASSERT_FALSE(socket.wait_for_line("READY=1", kReplyTimeout).empty());
  // A STATUS= line comes from the first rounds; by then no ping came.
  ASSERT_FALSE(
      socket.wait_for([](const std::string& m) { return has(m, "STATUS="); }, kReplyTimeout)
          .empty());
  broker->process().signal(SIGTERM);
  EXPECT_EQ(broker->process().wait_exit(kReplyTimeout), 0);
  ASSERT_FALSE(socket.wait_for_line("STOPPING=1", kReplyTimeout).empty());
  EXPECT_EQ(socket.count_line("WATCHDOG=1"), 0u);
}

TEST(SystemdNotify, NothingIsSentOutsideSystemd) {
  NotifySocket socket;
  // WATCHDOG_USEC alone (no NOTIFY_SOCKET) changes nothing.
  setenv("WATCHDOG_USEC", "200000", 1);
  auto broker = BrokerProcess::start();
  unsetenv("WATCHDOG_USEC");
  ASSERT_NE(broker, nullptr);
  AgentClient agent(broker->endpoints().agents);
  ASSERT_EQ(error_code(agent.join("n1", 1, 60'000)), std::nullopt);
  broker->process().signal(SIGTERM);
  EXPECT_EQ(broker->process().wait_exit(kReplyTimeout), 0);
  EXPECT_TRUE(socket.messages().empty());
  EXPECT_FALSE(has(broker->process().output(), "systemd watchdog"));
}

}  // namespace
}  // namespace roster::testing
