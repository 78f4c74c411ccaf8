// Micro-benchmark of the broker's heartbeat path without sockets: decode
// the body, apply it to the membership core, encode the ack, for 100k held
// nodes heartbeating in turn (the clock moves 1 ms and tick() runs every
// 1000 heartbeats, as in membership_bench).
//  - BM_HeartbeatPathGeneric: decode_agent_request, handle(AgentRequest),
//    encode(AgentReply): the path every request took before the fast path,
//    and still the path of joins, leaves and refusals;
//  - BM_HeartbeatPathFast: decode_heartbeat_ref, handle(HeartbeatRef),
//    encode_ack into a reused buffer: the broker's path for heartbeats.
//
// Run: build/bin/heartbeat_path_bench
// Instructions per heartbeat (independent of a noisy machine):
//   valgrind --tool=callgrind build/bin/heartbeat_path_bench
//     --benchmark_filter=Fast --benchmark_min_time=0.01   (one line)
// then add the inclusive instructions of the decode, handle and encode
// functions (callgrind_annotate --inclusive=yes) and divide by their calls.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>
#include <vector>

#include "roster/codec.h"
#include "roster/membership.h"

namespace roster {
namespace {

constexpr TimeMs kStart = 1'700'000'000'000;
constexpr int kNodes = 100'000;
// Bodies are pre-encoded for this many rounds of every node.
constexpr uint64_t kRounds = 4;

std::string NodeId(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "node-%07d", i);
  return buf;
}

// A core of kNodes alive nodes and the heartbeat bodies they send.
struct Path {
  Path() : core(Options(), 1, kStart), now(kStart) {
    for (int i = 0; i < kNodes; ++i) {
      std::string id = NodeId(i);
      core.handle(JoinRequest{id, 1, 1, 60'000, "10.0.0.1:7000", {}}, now);
    }
    core.commit(now);
    for (uint64_t round = 0; round < kRounds; ++round) {
      for (int i = 0; i < kNodes; ++i) {
        bodies.push_back(encode(AgentRequest(HeartbeatRequest{NodeId(i), 1, 2 + round})));
      }
    }
  }
  static MembershipOptions Options() {
    MembershipOptions options;
    options.max_nodes = 1'000'000;
    return options;
  }
  // Moves the clock and ticks every 1000 heartbeats; at the end of the
  // bodies, starts over with a later seq for every node.
  void Advance(benchmark::State& state) {
    if (++next % 1000 == 0) {
      now += 1;
      core.tick(now);
    }
    if (next == bodies.size()) {
      state.PauseTiming();
      next = 0;
      for (std::string& body : bodies) {
        HeartbeatRef ref;
        decode_heartbeat_ref(body, &ref);
        body = encode(AgentRequest(HeartbeatRequest{std::string(ref.node), 1, ref.seq + kRounds}));
      }
      state.ResumeTiming();
    }
  }
  Membership core;
  TimeMs now;
  std::vector<std::string> bodies;
  size_t next = 0;
};

Path& SharedPath() {
  static Path path;
  return path;
}

void BM_HeartbeatPathGeneric(benchmark::State& state) {
  Path& p = SharedPath();
  uint64_t acks = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    Decoded<AgentRequest> request = decode_agent_request(p.bodies[p.next]);
    AgentReply reply = p.core.handle(request.value(), p.now);
    acks += reply.index() == 0;
    std::string body = encode(reply);
    bytes += body.size();
    benchmark::DoNotOptimize(body.data());
    p.Advance(state);
  }
  if (acks != static_cast<uint64_t>(state.iterations())) state.SkipWithError("heartbeat refused");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HeartbeatPathGeneric);

void BM_HeartbeatPathFast(benchmark::State& state) {
  Path& p = SharedPath();
  uint64_t acks = 0;
  size_t bytes = 0;
  char ack[kMaxAckBytes];
  for (auto _ : state) {
    HeartbeatRef request;
    if (!decode_heartbeat_ref(p.bodies[p.next], &request)) {
      state.SkipWithError("not decoded in place");
      break;
    }
    AgentReply reply = p.core.handle(request, p.now);
    if (const Ack* a = std::get_if<Ack>(&reply)) {
      ++acks;
      bytes += encode_ack(*a, ack);
    }
    benchmark::DoNotOptimize(ack);
    p.Advance(state);
  }
  if (acks != static_cast<uint64_t>(state.iterations())) state.SkipWithError("heartbeat refused");
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HeartbeatPathFast);

}  // namespace
}  // namespace roster

BENCHMARK_MAIN();
