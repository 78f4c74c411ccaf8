// File descriptors of a real broker: it raises its soft RLIMIT_NOFILE to
// the hard limit at start (and says so), and when it is out of descriptors
// it logs the accept failures (rate limited), counts them in stats and
// keeps serving the connections it has.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <memory>
#include <string>
#include <vector>

#include "roster/codec.h"
#include "support/admin.h"
#include "support/agent_client.h"
#include "support/broker_process.h"
#include "support/messages.h"
#include "support/raw_sockets.h"

namespace roster::testing {
namespace {

using std::chrono::milliseconds;
using Clients = std::vector<std::unique_ptr<RequestClient>>;

// Raises this process's soft limit to `wanted` (at most the hard limit), so
// that the test's own clients do not run out of descriptors. False if the
// hard limit is lower.
bool raise_own_fd_limit(rlim_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < wanted) return false;
  if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < wanted) {
    limit.rlim_cur = wanted;
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  }
  return true;
}

// Connects `count` DEALERs to `endpoint`, each sending a join of its own node.
Clients connect_and_join(const std::string& endpoint, int count, const std::string& prefix) {
  Clients clients;
  for (int i = 0; i < count; ++i) {
    clients.push_back(std::make_unique<RequestClient>(endpoint));
    JoinRequest join{prefix + std::to_string(i), 1, 1, 60'000, "", {}};
    clients.back()->send(encode(AgentRequest(join)));
  }
  return clients;
}

// Waits up to `timeout` for a reply on every client; returns how many
// replied with an ack.
int count_acks(Clients& clients, milliseconds timeout) {
  std::vector<bool> done(clients.size(), false);
  int acks = 0;
  size_t answered = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (answered < clients.size() && std::chrono::steady_clock::now() < deadline) {
    std::vector<zmq::pollitem_t> items;
    std::vector<size_t> index;
    for (size_t i = 0; i < clients.size(); ++i) {
      if (done[i]) continue;
      items.push_back({clients[i]->socket().handle(), 0, ZMQ_POLLIN, 0});
      index.push_back(i);
    }
    zmq::poll(items.data(), items.size(), milliseconds(100));
    for (size_t k = 0; k < items.size(); ++k) {
      if (!(items[k].revents & ZMQ_POLLIN)) continue;
      auto body = clients[index[k]]->receive(milliseconds(0));
      if (!body) continue;
      done[index[k]] = true;
      ++answered;
      auto reply = decode_agent_reply(*body);
      if (reply.ok() && std::holds_alternative<Ack>(reply.value())) ++acks;
    }
  }
  return acks;
}

size_t count_lines_with(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(FdLimitTest, RaisesTheSoftLimitAndServesMoreConnectionsThanIt) {
  constexpr int kConnections = 400;
  // The broker's hard limit cannot exceed this process's.
  if (!raise_own_fd_limit(4096)) GTEST_SKIP() << "hard RLIMIT_NOFILE below 4096";

  ProcessOptions options;
  options.nofile = ResourceLimit{256, 4096};
  auto broker = BrokerProcess::start({}, options);
  ASSERT_NE(broker, nullptr);
  std::string output;
  ASSERT_TRUE(broker->process().wait_for_output("roster-broker started", kReplyTimeout, &output));
  EXPECT_NE(output.find("info file descriptors: soft limit raised from 256 to 4096 (hard limit "
                        "4096)"),
            std::string::npos)
      << output;

  // More connections than the old soft limit allows, all answered.
  Clients clients = connect_and_join(broker->endpoints().agents, kConnections, "n");
  EXPECT_EQ(count_acks(clients, milliseconds(20'000)), kConnections);
  AdminClient admin(broker->endpoints().admin);
  auto stats = admin.stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->nodes, static_cast<uint64_t>(kConnections));
  EXPECT_EQ(stats->counters["accept_failures"], 0u);
}

TEST(FdLimitTest, OutOfDescriptorsIsLoggedAndCountedWhileServing) {
  constexpr int kFlood = 150;
  ASSERT_TRUE(raise_own_fd_limit(4 * kFlood));
  // About 30 descriptors are the broker's own; the rest hold connections.
  ProcessOptions options;
  options.nofile = ResourceLimit{96, 96};
  auto broker = BrokerProcess::start({}, options);
  ASSERT_NE(broker, nullptr);
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(wait_until(
      [&] {
        return broker->process().output().find(
                   "info file descriptors: soft limit 96 (hard limit 96)") != std::string::npos;
      },
      kReplyTimeout))
      << broker->process().output();

  // Connections made before the broker runs out.
  AdminClient admin(broker->endpoints().admin);
  AgentClient agent(broker->endpoints().agents);
  ASSERT_EQ(error_code(agent.join("early", 1, 60'000)), std::nullopt);
  auto stats = admin.stats();
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->counters["accept_failures"], 0u);

  // More connections than descriptors left.
  Clients flood = connect_and_join(broker->endpoints().agents, kFlood, "flood-");
  ASSERT_TRUE(wait_until(
      [&] {
        auto s = admin.stats();
        return s && s->counters["accept_failures"] > 0;
      },
      kReplyTimeout, milliseconds(20)))
      << broker->process().output();
  std::string output;
  ASSERT_TRUE(
      broker->process().wait_for_output("accept failed on --agents", kReplyTimeout, &output));
  EXPECT_NE(output.find("Too many open files (soft limit 96)"), std::string::npos) << output;

  // The connections the broker has are still served.
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(error_code(agent.heartbeat("early", 1)), std::nullopt);
  }
  auto node = admin.call(NodeQuery{"early"});
  ASSERT_TRUE(node);
  EXPECT_NE(std::get_if<NodeInfo>(&*node), nullptr) << describe(*node);

  // Rate limited: at most 5 lines per second (plus summaries), however
  // fast libzmq retries.
  output = broker->process().output();
  auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
          .count();
  EXPECT_LE(count_lines_with(output, "accept failed on"), static_cast<size_t>(5 * (seconds + 2)))
      << output;

  // Once the flood's connections close, new clients get in again.
  flood.clear();
  AgentClient late(broker->endpoints().agents);
  late.raw().send(encode(AgentRequest(JoinRequest{"late", 1, 1, 60'000, "", {}})));
  auto reply = late.raw().receive(milliseconds(20'000));
  ASSERT_TRUE(reply) << "no reply to a new client after the flood closed";
  EXPECT_TRUE(broker->process().running());
}

}  // namespace
}  // namespace roster::testing
