// A flood of garbage from several sockets while 100 well-behaved agents
// heartbeat with a short lease: no well-behaved agent is ever suspected,
// every heartbeat is answered, and stats count every refused message.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "roster/codec.h"
#include "support/admin.h"
#include "support/agent_client.h"
#include "support/broker_process.h"
#include "support/messages.h"
#include "support/raw_sockets.h"
#include "support/stoppable_thread.h"
#include "wire_bytes.h"

namespace roster::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

#ifdef ROSTER_TEST_SANITIZED
// Sanitizers make every message 2-5x dearer on both sides; keep the run short (the behaviour
// asserted is the same).
constexpr int kGarbageMessages = 50'000;
#else
constexpr int kGarbageMessages = 100'000;
#endif
constexpr int kGarbageSockets = 4;
constexpr int kAgents = 100;
constexpr uint64_t kLeaseMs = 1'000;
constexpr milliseconds kHeartbeatInterval{200};

// One garbage body; `i` picks the kind: random bytes, msgpack that is not a
// map, another protocol version, a heartbeat of a node nobody joined.
std::string garbage(int i, std::mt19937& random) {
  switch (i % 4) {
    case 0: {
      std::string bytes(1 + random() % 64, '\0');
      for (char& c : bytes) c = static_cast<char>(random());
      // 0x80-0x8f would start a map that might decode; keep it garbage.
      bytes[0] = static_cast<char>(0xc1);
      return bytes;
    }
    case 1:
      return std::string("\x93\x01\x02\x03");
    case 2:
      return mp_map({{"v", mp_uint(2)},
                     {"type", mp_str("heartbeat")},
                     {"node", mp_str("x")},
                     {"inc", mp_uint(1)},
                     {"seq", mp_uint(1)}});
    default:
      return encode(AgentRequest(HeartbeatRequest{"ghost-" + std::to_string(i % 1000), 1, 1}));
  }
}

// Watches deltas on its own thread and remembers any agent that was ever
// seen in a state other than alive.
class SuspicionWatcher {
 public:
  explicit SuspicionWatcher(const std::string& endpoint)
      : watcher_(endpoint), thread_([this](const StopFlag& stop) { run(stop); }) {}
  std::vector<std::string> suspected() {
    std::lock_guard<std::mutex> lock(mutex_);
    return suspected_;
  }
  uint64_t deltas() const { return deltas_; }
  // True once the subscription is live (the snapshot it triggers arrived).
  bool ready() const { return ready_; }

 private:
  void run(const StopFlag& stop) {
    while (!stop) {
      auto message = watcher_.next(milliseconds(50));
      if (!message) continue;
      if (message->topic == kTopicSnapshot) ready_ = true;
      if (message->topic != kTopicDelta) continue;
      auto delta = decode_delta(message->body);
      if (!delta.ok()) continue;
      ++deltas_;
      for (const auto& record : delta.value().changes) {
        if (record.node.rfind("agent-", 0) == 0 && record.state != NodeState::kAlive) {
          std::lock_guard<std::mutex> lock(mutex_);
          suspected_.push_back(record.node + " " + std::string(to_string(record.state)));
        }
      }
    }
  }

  StateReader watcher_;
  std::atomic<uint64_t> deltas_{0};
  std::atomic<bool> ready_{false};
  std::mutex mutex_;
  std::vector<std::string> suspected_;
  StoppableThread thread_;
};

// 100 agents heartbeating from one thread: each round sends every
// heartbeat, then collects the replies.
class WellBehavedAgents {
 public:
  explicit WellBehavedAgents(const std::string& endpoint) {
    for (int i = 0; i < kAgents; ++i) {
      sockets_.push_back(std::make_unique<RequestClient>(endpoint));
      seq_.push_back(0);
    }
    for (int i = 0; i < kAgents; ++i) {
      JoinRequest join;
      join.node = "agent-" + std::to_string(i);
      join.inc = 1;
      join.seq = ++seq_[i];
      join.lease_ms = kLeaseMs;
      sockets_[i]->send(encode(AgentRequest(join)));
    }
    collect();
  }

  void start() {
    thread_.emplace([this](const StopFlag& stop) {
      while (!stop) {
        auto round_start = steady_clock::now();
        for (int i = 0; i < kAgents; ++i) {
          HeartbeatRequest heartbeat{"agent-" + std::to_string(i), 1, ++seq_[i]};
          sockets_[i]->send(encode(AgentRequest(heartbeat)));
          ++sent_;
        }
        collect();
        std::this_thread::sleep_until(round_start + kHeartbeatInterval);
      }
    });
  }

  void stop() {
    if (thread_) thread_->stop();
  }

  uint64_t sent() const { return sent_ + kAgents; }
  uint64_t acks() const { return acks_; }
  uint64_t errors() const { return errors_; }

 private:
  // Reads replies until every request sent so far is answered, or 1 s.
  void collect() {
    std::vector<zmq::pollitem_t> items;
    for (auto& s : sockets_) items.push_back({s->socket().handle(), 0, ZMQ_POLLIN, 0});
    auto deadline = steady_clock::now() + milliseconds(1'000);
    while (acks_ + errors_ < sent() && steady_clock::now() < deadline) {
      zmq::poll(items.data(), items.size(), milliseconds(50));
      for (size_t i = 0; i < items.size(); ++i) {
        if (!(items[i].revents & ZMQ_POLLIN)) continue;
        while (auto body = sockets_[i]->receive(milliseconds(0))) {
          auto reply = decode_agent_reply(*body);
          if (reply.ok() && std::holds_alternative<Ack>(reply.value())) {
            ++acks_;
          } else {
            ++errors_;
          }
        }
      }
    }
  }

  std::vector<std::unique_ptr<RequestClient>> sockets_;
  std::vector<uint64_t> seq_;
  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> acks_{0};
  std::atomic<uint64_t> errors_{0};
  std::optional<StoppableThread> thread_;  // from start()
};

uint64_t total_errors(const Stats& stats) {
  uint64_t total = 0;
  for (const auto& [code, count] : stats.errors) total += count;
  return total;
}

TEST(FloodTest, GarbageFloodDoesNotHurtWellBehavedAgents) {
  auto broker = BrokerProcess::start({"--min-lease", "100ms", "--dead-after", "1s"});
  ASSERT_NE(broker, nullptr);
  const BrokerEndpoints endpoints = broker->endpoints();
  SuspicionWatcher watcher(endpoints.publish);
  ASSERT_TRUE(wait_until([&] { return watcher.ready(); }, std::chrono::seconds(10)));
  WellBehavedAgents agents(endpoints.agents);
  ASSERT_EQ(agents.acks(), static_cast<uint64_t>(kAgents));
  agents.start();

  auto flood_start = steady_clock::now();
  std::vector<std::unique_ptr<RequestClient>> senders;
  for (int s = 0; s < kGarbageSockets; ++s) {
    senders.push_back(std::make_unique<RequestClient>(endpoints.agents));
  }
  std::vector<std::thread> threads;
  for (int s = 0; s < kGarbageSockets; ++s) {
    threads.emplace_back([s, &senders] {
      std::mt19937 random(1234 + s);
      for (int i = s; i < kGarbageMessages; i += kGarbageSockets) {
        senders[s]->send(garbage(i, random));
      }
    });
  }
  // The broker keeps answering the admin channel during the flood.
  AdminClient admin(endpoints.admin);
  auto during = admin.stats();
  ASSERT_TRUE(during);
  for (auto& t : threads) t.join();

  // Every garbage message is refused and counted (the senders stay open
  // until then, so nothing is discarded on their side).
  std::optional<Stats> stats;
  bool counted = wait_until(
      [&] {
        stats = admin.stats();
        return !stats || total_errors(*stats) >= static_cast<uint64_t>(kGarbageMessages);
      },
      std::chrono::seconds(120), milliseconds(20));
  auto flood_ms =
      std::chrono::duration_cast<milliseconds>(steady_clock::now() - flood_start).count();
  ASSERT_TRUE(counted);
  ASSERT_TRUE(stats);
  // Keep heartbeating across a few more leases after the flood.
  auto after_flood = agents.sent();
  ASSERT_TRUE(wait_until([&] { return agents.sent() >= after_flood + 3 * kAgents; },
                         std::chrono::seconds(20)));
  agents.stop();
  senders.clear();

  std::cout << "flood: " << kGarbageMessages << " garbage messages from " << kGarbageSockets
            << " sockets handled in " << flood_ms << " ms; " << agents.sent()
            << " well-behaved requests, " << agents.acks() << " acked" << std::endl;
  EXPECT_EQ(total_errors(*stats), static_cast<uint64_t>(kGarbageMessages));
  EXPECT_EQ(stats->errors["bad_request"], static_cast<uint64_t>(kGarbageMessages / 2));
  EXPECT_EQ(stats->errors["unsupported_version"], static_cast<uint64_t>(kGarbageMessages / 4));
  EXPECT_EQ(stats->errors["unknown_node"], static_cast<uint64_t>(kGarbageMessages / 4));
  EXPECT_EQ(stats->by_state["alive"], static_cast<uint64_t>(kAgents));
  EXPECT_EQ(agents.errors(), 0u);
  // Every heartbeat but possibly the last round's is acknowledged.
  EXPECT_GE(agents.acks() + kAgents, agents.sent());
  EXPECT_EQ(watcher.suspected(), std::vector<std::string>{});
  EXPECT_GE(watcher.deltas(), 1u);  // it saw the joins

  // Refusals are logged rate-limited (5 per code per second), with a
  // summary of what was suppressed once each second's window closes.
  std::string log;
  EXPECT_TRUE(wait_until(
      [&] {
        log = broker->process().output();
        return log.find("suppressed") != std::string::npos;
      },
      std::chrono::seconds(10), milliseconds(20)));
  size_t refused_lines = 0;
  for (size_t at = log.find("request refused"); at != std::string::npos;
       at = log.find("request refused", at + 1)) {
    ++refused_lines;
  }
  EXPECT_GT(refused_lines, 0u);
  EXPECT_LT(refused_lines, 1'000u);
  EXPECT_GT(stats->counters["warnings_suppressed"], 0u);
}

}  // namespace
}  // namespace roster::testing
