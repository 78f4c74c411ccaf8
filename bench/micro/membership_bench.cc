// Micro-benchmarks of the membership core (membership.h):
//  - heartbeats per second with 100k and 1M tracked nodes, in join order
//    and shuffled, with the clock moving and tick() called as a broker
//    would (1 ms per 1000 heartbeats);
//  - bytes of heap per tracked node (mallinfo2 before and after joining N
//    nodes), without and with labels;
//  - the cost of an expiry sweep, per expired node.
//
// Run: build/bin/membership_bench --benchmark_counters_tabular=true
// Heartbeats are memory-bound: one hash lookup per heartbeat, whose index
// entry and node record are cache misses at scale when heartbeats come in
// no particular order (BM_HeartbeatShuffled), unless the ids of a group of
// requests are prefetched first (BM_HeartbeatShuffledPrefetched).
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "roster/membership.h"

namespace roster {
namespace {

constexpr TimeMs kStart = 1'700'000'000'000;

std::string NodeId(int64_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "node-%07lld", static_cast<long long>(i));
  return buf;
}

size_t HeapInUse() {
  struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

// The core's defaults, without the node cap: the benchmarks track up to a
// million nodes.
MembershipOptions BenchOptions() {
  MembershipOptions options;
  options.max_nodes = 10'000'000;
  return options;
}

// A core holding `nodes` alive nodes, kept across benchmark runs because
// joining a million nodes takes a while.
struct Cluster {
  explicit Cluster(int64_t nodes) : core(BenchOptions(), 1, kStart), now(kStart) {
    ids.reserve(static_cast<size_t>(nodes));
    for (int64_t i = 0; i < nodes; ++i) {
      ids.push_back(NodeId(i));
      core.handle(JoinRequest{ids.back(), 1, 1, 60'000, "10.0.0.1:7000", {}}, now);
    }
    core.commit(now);
  }
  Membership core;
  std::vector<std::string> ids;
  TimeMs now;
  uint64_t seq = 1;
};

Cluster& ClusterOf(int64_t nodes) {
  static std::map<int64_t, std::unique_ptr<Cluster>> clusters;
  auto& slot = clusters[nodes];
  if (!slot) slot = std::make_unique<Cluster>(nodes);
  return *slot;
}

// Heartbeats every node of `c` in turn, in the order of `order` (indexes
// into c.ids), for as long as `state` runs. With `read_ahead` > 0, each
// group of that many heartbeats is prefetched first (prefetch_index() for
// each, then prefetch_record() for each), as the broker does with the
// requests it reads ahead (event_loop.cc).
void HeartbeatInOrder(benchmark::State& state, Cluster& c, const std::vector<uint32_t>& order,
                      size_t read_ahead = 0) {
  const size_t n = order.size();
  std::vector<Membership::PrefetchHint> group(read_ahead);
  size_t next = 0;
  uint64_t acks = 0;
  for (auto _ : state) {
    if (next == 0) ++c.seq;
    if (read_ahead > 0 && next % read_ahead == 0) {
      const size_t count = std::min(read_ahead, n - next);
      for (size_t i = 0; i < count; ++i) group[i] = c.core.prefetch_index(c.ids[order[next + i]]);
      for (size_t i = 0; i < count; ++i) c.core.prefetch_record(group[i]);
    }
    AgentReply reply = c.core.handle(HeartbeatRequest{c.ids[order[next]], 1, c.seq}, c.now);
    acks += reply.index() == 0;
    if (++next == n) next = 0;
    if (next % 1000 == 0) {
      c.now += 1;
      c.core.tick(c.now);
    }
  }
  if (acks != static_cast<uint64_t>(state.iterations())) state.SkipWithError("heartbeat refused");
  state.SetItemsProcessed(state.iterations());
  state.counters["nodes"] = static_cast<double>(c.core.counters().nodes);
}

// In join order: the nodes' records are visited one after the other.
void BM_Heartbeat(benchmark::State& state) {
  Cluster& c = ClusterOf(state.range(0));
  std::vector<uint32_t> order(c.ids.size());
  std::iota(order.begin(), order.end(), 0u);
  HeartbeatInOrder(state, c, order);
}
BENCHMARK(BM_Heartbeat)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kNanosecond);

// A fixed shuffled order of `c`'s nodes, as heartbeats reach a broker from
// many agents: the index entry and the node record are both cache misses
// at scale.
std::vector<uint32_t> ShuffledOrder(const Cluster& c) {
  std::vector<uint32_t> order(c.ids.size());
  std::iota(order.begin(), order.end(), 0u);
  std::shuffle(order.begin(), order.end(), std::mt19937(42));
  return order;
}

void BM_HeartbeatShuffled(benchmark::State& state) {
  Cluster& c = ClusterOf(state.range(0));
  HeartbeatInOrder(state, c, ShuffledOrder(c));
}
BENCHMARK(BM_HeartbeatShuffled)->Arg(100'000)->Arg(1'000'000)->Unit(benchmark::kNanosecond);

// The same, prefetching each group of 16 heartbeats (the broker's read-ahead).
void BM_HeartbeatShuffledPrefetched(benchmark::State& state) {
  Cluster& c = ClusterOf(state.range(0));
  HeartbeatInOrder(state, c, ShuffledOrder(c), 16);
}
BENCHMARK(BM_HeartbeatShuffledPrefetched)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kNanosecond);

// Heap bytes per node held, including the id, the index, the timer and the
// record (address of 13 bytes, `labels` labels).
void BM_MemoryPerNode(benchmark::State& state) {
  int64_t nodes = state.range(0);
  int64_t labels = state.range(1);
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(nodes));
  for (int64_t i = 0; i < nodes; ++i) ids.push_back(NodeId(i));
  Labels label_set;
  for (int64_t l = 0; l < labels; ++l) {
    label_set["label-key-" + std::to_string(l)] = "a-label-value-" + std::to_string(l);
  }
  double per_node = 0;
  for (auto _ : state) {
    size_t before = HeapInUse();
    auto core = std::make_unique<Membership>(BenchOptions(), 1, kStart);
    for (int64_t i = 0; i < nodes; ++i) {
      core->handle(
          JoinRequest{ids[static_cast<size_t>(i)], 1, 1, 10'000, "10.0.0.1:7000", label_set},
          kStart);
    }
    core->commit(kStart);
    size_t after = HeapInUse();
    per_node = static_cast<double>(after - before) / static_cast<double>(nodes);
    benchmark::DoNotOptimize(core.get());
  }
  state.counters["bytes_per_node"] = per_node;
}
BENCHMARK(BM_MemoryPerNode)
    ->Args({100'000, 0})
    ->Args({1'000'000, 0})
    ->Args({100'000, 4})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

// One tick() that expires every node (alive -> suspect), per expired node.
void BM_ExpirySweep(benchmark::State& state) {
  int64_t nodes = state.range(0);
  std::vector<std::string> ids;
  for (int64_t i = 0; i < nodes; ++i) ids.push_back(NodeId(i));
  for (auto _ : state) {
    state.PauseTiming();
    auto core = std::make_unique<Membership>(BenchOptions(), 1, kStart);
    for (const std::string& id : ids) core->handle(JoinRequest{id, 1, 1, 1'000, "", {}}, kStart);
    core->commit(kStart);
    core->tick(kStart + 500);
    state.ResumeTiming();
    core->tick(kStart + 1'000);
    benchmark::DoNotOptimize(core->commit(kStart + 1'000));
    state.PauseTiming();
    core.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * nodes);
}
BENCHMARK(BM_ExpirySweep)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace roster

BENCHMARK_MAIN();
