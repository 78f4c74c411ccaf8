// connections: many real DEALER connections, one node each, joining and
// then heartbeating at 1 Hz (staggered evenly over the second). Sockets
// are watched with epoll on their ZMQ_FD, since zmq_poll over thousands of
// sockets costs more than the load itself.
#include <sys/epoll.h>
#include <unistd.h>

#include <memory>
#include <variant>

#include "agent_channel.h"
#include "latency_stats.h"
#include "roster/clock.h"
#include "scenario.h"

namespace roster::bench {

namespace {

using Clock = std::chrono::steady_clock;

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
      : channels_(channels), epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {
    for (size_t i = 0; i < channels_.size(); ++i) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      const int fd = channels_[i]->socket().get(zmq::sockopt::fd);
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    }
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

ScenarioResult run_connections(BenchContext& ctx) {
  const BenchConfig& config = ctx.config;
  ScenarioResult r;
  r.name = "connections";
  RunningServer broker;
  std::string error;
  if (!start_broker(ctx, "broker-connections", {"--max-lease", "10m"}, &broker, &error)) {
    r.fail(error);
    return r;
  }
  const size_t n = config.real_connections;
  const uint64_t inc = static_cast<uint64_t>(unix_now_ms());
  std::vector<std::unique_ptr<AgentChannel>> channels;
  Tally tally;
  try {
    const auto connect_start = Clock::now();
    for (size_t i = 0; i < n; ++i) {
      channels.push_back(std::make_unique<AgentChannel>(ctx.zmq, broker.endpoints["agents"]));
    }
    ChannelSet set(channels);
    if (!set.ok()) {
      r.fail("epoll_create1 failed");
      return r;
    }
    std::vector<std::string> ids;
    std::vector<uint64_t> seq(n, 1);
    for (size_t i = 0; i < n; ++i) {
      ids.push_back(node_name("conn-", i));
      channels[i]->send(AgentRequest{JoinRequest{ids[i], inc, 1, 5'000, "10.0.0.2:9000", {}}}, i);
      set.drain(i, tally);
    }
    auto deadline = Clock::now() + std::chrono::seconds(60);
    while (tally.acked + tally.refused < n && Clock::now() < deadline) set.wait(10, tally);
    const double join_s = std::chrono::duration<double>(Clock::now() - connect_start).count();
    if (tally.acked < n) {
      r.fail(std::to_string(n - tally.acked) + " joins not acked (" + tally.first_refusal + ")");
    }
    r.metrics["connect_and_join_s"] = join_s;
    r.row("connections joined", std::to_string(tally.acked) + " in " + fixed(join_s, 1) + " s");

    // Heartbeats: connection i beats at start + k s + i/n s.
    const uint64_t joined = tally.acked;
    tally.acked = 0;
    tally.record = true;
    uint64_t sent = 0;
    const auto start = Clock::now();
    const auto end = start + config.connections_for;
    const auto period = std::chrono::seconds(1);
    size_t next = 0;
    uint64_t round = 0;
    while (r.ran) {
      const auto now = Clock::now();
      if (now >= end) break;
      while (true) {
        const Clock::time_point due =
            start + static_cast<int64_t>(round) * period +
            (static_cast<int64_t>(next) * period) / static_cast<int64_t>(n);
        if (due > now || due >= end) break;
        if (channels[next]->send(AgentRequest{HeartbeatRequest{ids[next], inc, ++seq[next]}},
                                 next)) {
          ++sent;
        }
        set.drain(next, tally);
        if (++next == n) {
          next = 0;
          ++round;
        }
      }
      set.wait(1, tally);
    }
    deadline = Clock::now() + std::chrono::seconds(10);
    while (tally.acked + tally.refused < sent && Clock::now() < deadline) set.wait(10, tally);
    for (size_t i = 0; i < n; ++i) set.drain(i, tally);
    const double seconds = std::chrono::duration<double>(config.connections_for).count();
    r.metrics["connections"] = n;
    r.metrics["joined"] = joined;
    r.metrics["heartbeats_sent"] = sent;
    r.metrics["heartbeats_acked"] = tally.acked;
    r.metrics["heartbeats_refused"] = tally.refused;
    r.metrics["heartbeat_rate_per_s"] = static_cast<double>(sent) / seconds;
    r.metrics["ack_latency"] = tally.latency.summary();
    r.metrics["broker_rss_kib"] = rss_kib(broker.process->pid());
    r.metrics["broker_open_fds"] = open_fd_count(broker.process->pid());
    r.row("heartbeats acked / sent (" + fixed(static_cast<double>(sent) / seconds, 0) + "/s)",
          std::to_string(tally.acked) + " / " + std::to_string(sent));
    r.row("ack latency", quantiles_text(tally.latency.summary(), {"p50", "p99", "max"}));
    r.row("broker RSS / open fds", fixed(rss_kib(broker.process->pid()) / 1024.0, 1) + " MiB / " +
                                       std::to_string(open_fd_count(broker.process->pid())));
    if (tally.refused > 0) r.fail("heartbeats refused: " + tally.first_refusal);
    if (tally.acked < sent) r.fail(std::to_string(sent - tally.acked) + " heartbeats unanswered");
  } catch (const zmq::error_t& e) {
    r.fail(std::string("socket error (raise the open-file limit?): ") + e.what());
  }
  channels.clear();
  r.metrics["broker_exit_status"] = broker.process->stop(std::chrono::seconds(5));
  return r;
}

}  // namespace roster::bench
