#include "agent_swarm.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>
#include <variant>
#include <vector>

#include <zmq.hpp>

#include "agent_channel.h"
#include "scenario.h"

namespace roster::bench {

namespace {

using Clock = std::chrono::steady_clock;

// Connections opened at once before waiting for their joins.
constexpr size_t kConnectWave = 100;

// Reply bookkeeping shared by every connection.
struct Tally {
  uint64_t acked = 0;
  uint64_t refused = 0;
  std::string first_refusal;
  LatencySamples latency;
  bool record = false;
};

// An epoll set over the ZMQ_FD of every channel. ZMQ_FD is edge-like: a
// socket is drained until it would block, and re-checked after each send.
class ChannelSet {
 public:
  explicit ChannelSet(std::vector<std::unique_ptr<AgentChannel>>& channels)
      : channels_(channels), epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {}

  // Watches channel `i`. REQUIRES: i < channels.size().
  void add(size_t i) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    const int fd = channels_[i]->socket().get(zmq::sockopt::fd);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
  }
  ~ChannelSet() { ::close(epoll_fd_); }
  ChannelSet(const ChannelSet&) = delete;
  ChannelSet& operator=(const ChannelSet&) = delete;

  bool ok() const { return epoll_fd_ >= 0; }

  // Drains channel `i` if its socket has input.
  void drain(size_t i, Tally& tally) {
    AgentChannel& ch = *channels_[i];
    while (ch.socket().get(zmq::sockopt::events) & ZMQ_POLLIN) {
      ch.receive_ready([&](size_t, Clock::time_point sent, Clock::time_point received,
                           const Decoded<AgentReply>& reply) {
        if (reply.ok() && std::holds_alternative<Ack>(reply.value())) {
          ++tally.acked;
          if (tally.record) {
            tally.latency.add_us(
                std::chrono::duration_cast<std::chrono::microseconds>(received - sent).count());
          }
          return;
        }
        ++tally.refused;
        if (tally.first_refusal.empty()) {
          tally.first_refusal =
              reply.ok() ? std::string(to_string(std::get<ErrorReply>(reply.value()).code))
                         : reply.error().message;
        }
      });
    }
  }

  // Waits up to `timeout_ms` and drains every channel that woke up.
  void wait(int timeout_ms, Tally& tally) {
    epoll_event events[256];
    const int n = ::epoll_wait(epoll_fd_, events, 256, timeout_ms);
    for (int e = 0; e < n; ++e) drain(static_cast<size_t>(events[e].data.u64), tally);
  }

 private:
  std::vector<std::unique_ptr<AgentChannel>>& channels_;
  int epoll_fd_;
};

}  // namespace

nlohmann::json SwarmOutcome::to_json() const {
  nlohmann::json j;
  j["joined"] = joined;
  j["join_s"] = join_s;
  j["sent"] = sent;
  j["acked"] = acked;
  j["refused"] = refused;
  j["error"] = error;
  j["latency_us"] = latency.raw();
  return j;
}

SwarmOutcome SwarmOutcome::from_json(const nlohmann::json& j) {
  SwarmOutcome o;
  o.joined = j.value("joined", uint64_t{0});
  o.join_s = j.value("join_s", 0.0);
  o.sent = j.value("sent", uint64_t{0});
  o.acked = j.value("acked", uint64_t{0});
  o.refused = j.value("refused", uint64_t{0});
  o.error = j.value("error", std::string());
  if (j.contains("latency_us")) {
    for (const auto& us : j["latency_us"]) o.latency.add_us(us.get<int64_t>());
  }
  return o;
}

SwarmOutcome run_swarm(const std::string& endpoint, size_t first, size_t count, uint64_t inc,
                       std::chrono::milliseconds heartbeat_for) {
  SwarmOutcome out;
  Tally tally;
  try {
    zmq::context_t zmq;
    zmq.set(zmq::ctxopt::max_sockets, static_cast<int>(count + 64));
    std::vector<std::unique_ptr<AgentChannel>> channels;
    ChannelSet set(channels);
    if (!set.ok()) {
      out.error = "epoll_create1 failed";
      return out;
    }
    std::vector<std::string> ids;
    std::vector<uint64_t> seq(count, 1);
    const auto connect_start = Clock::now();
    // Agents connect in waves of kConnectWave: the broker listens with
    // ZeroMQ's default backlog (100), and a bigger burst of connects
    // overflows it; the dropped ones then take up to a minute of TCP
    // retries to get in.
    for (size_t wave = 0; wave < count && out.error.empty(); wave += kConnectWave) {
      const size_t last = std::min(count, wave + kConnectWave);
      for (size_t i = wave; i < last; ++i) {
        channels.push_back(std::make_unique<AgentChannel>(zmq, endpoint));
        set.add(i);
        ids.push_back(node_name("conn-", first + i));
        channels[i]->send(AgentRequest{JoinRequest{ids[i], inc, 1, 5'000, "10.0.0.2:9000", {}}}, i);
        set.drain(i, tally);
      }
      const auto deadline = Clock::now() + std::chrono::seconds(30);
      while (tally.acked + tally.refused < last && Clock::now() < deadline) set.wait(10, tally);
      if (tally.acked < last) {
        out.error = std::to_string(last - tally.acked) + " of " + std::to_string(last) +
                    " joins not acked within 30 s " + tally.first_refusal;
      }
    }
    out.joined = tally.acked;
    out.join_s = std::chrono::duration<double>(Clock::now() - connect_start).count();
    if (!out.error.empty()) return out;

    // Heartbeats: connection i beats at start + k s + i/count s.
    tally.acked = 0;
    tally.record = true;
    const auto start = Clock::now();
    const auto end = start + heartbeat_for;
    // Nanoseconds, so that (next * period) / n does not round to whole seconds.
    const std::chrono::nanoseconds period = std::chrono::seconds(1);
    const auto n = static_cast<int64_t>(count);
    int64_t next = 0;
    int64_t round = 0;
    while (Clock::now() < end) {
      const auto now = Clock::now();
      while (true) {
        const Clock::time_point due = start + round * period + (next * period) / n;
        if (due > now || due >= end) break;
        const auto i = static_cast<size_t>(next);
        if (channels[i]->send(AgentRequest{HeartbeatRequest{ids[i], inc, ++seq[i]}}, i)) {
          ++out.sent;
        }
        set.drain(i, tally);
        if (++next == n) {
          next = 0;
          ++round;
        }
      }
      set.wait(1, tally);
    }
    const auto drain_deadline = Clock::now() + std::chrono::seconds(10);
    while (tally.acked + tally.refused < out.sent && Clock::now() < drain_deadline) {
      set.wait(10, tally);
    }
    for (size_t i = 0; i < count; ++i) set.drain(i, tally);
    out.acked = tally.acked;
    out.refused = tally.refused;
    out.latency = std::move(tally.latency);
    if (tally.refused > 0) out.error = "heartbeats refused: " + tally.first_refusal;
  } catch (const zmq::error_t& e) {
    out.error = std::string("socket error: ") + e.what();
  }
  return out;
}

int run_swarm_command(const std::string& endpoint, size_t first, size_t count, uint64_t inc,
                      std::chrono::milliseconds heartbeat_for, const std::string& output) {
  SwarmOutcome out = run_swarm(endpoint, first, count, inc, heartbeat_for);
  std::ofstream file(output + ".tmp");
  file << out.to_json().dump() << "\n";
  file.close();
  if (!file || std::rename((output + ".tmp").c_str(), output.c_str()) != 0) return 1;
  return out.error.empty() ? 0 : 1;
}

}  // namespace roster::bench
