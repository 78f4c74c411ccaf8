// Micro-benchmarks of building a 100k-node snapshot: the full encode the
// publisher did before (every record from its View), and the splice of the
// record store (record_store.h) that it does now, after a small delta
// (what a new version costs) and as the parts of a chunked reply.
//
//   build/bin/snapshot_build_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <string>

#include "record_store.h"
#include "roster/codec.h"
#include "roster/view.h"

namespace roster {
namespace {

// `nodes` alive nodes with an address and two labels each (as codec_bench).
Snapshot snapshot_of(int64_t nodes) {
  Snapshot snapshot;
  snapshot.epoch = 1732700000123;
  snapshot.version = 987654;
  snapshot.complete = true;
  for (int64_t i = 0; i < nodes; ++i) {
    NodeRecord r;
    r.node = "worker-" + std::to_string(100000 + i) + ".eu-west-1.example";
    r.inc = 1732700000123456789ull + static_cast<uint64_t>(i);
    r.state = NodeState::kAlive;
    r.addr = "10.20." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256) + ":7000";
    r.labels = {{"zone", "eu-west-1" + std::string(1, static_cast<char>('a' + i % 3))},
                {"role", "worker"}};
    r.lease_ms = 3000;
    r.since_ms = 1732700000000 + static_cast<uint64_t>(i);
    snapshot.nodes.push_back(std::move(r));
  }
  return snapshot;
}

// Before: every record encoded again from the View.
void BM_SnapshotFullEncode(benchmark::State& state) {
  View view;
  view.reset(snapshot_of(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string body = encode_snapshot(
        {view.epoch(), view.version(), view.complete(), 1732700001000}, view.nodes());
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_SnapshotFullEncode)->Arg(100'000)->Unit(benchmark::kMillisecond);

// Now: a new version (one node changes state) and the snapshot spliced
// from the kept encodings.
void BM_SnapshotSplice(benchmark::State& state) {
  broker::RecordStore store;
  Snapshot initial = snapshot_of(state.range(0));
  store.reset(initial);
  NodeRecord changed = initial.nodes[initial.nodes.size() / 2];
  initial.nodes.clear();
  Delta delta;
  delta.epoch = store.epoch();
  std::string delta_body;
  size_t bytes = 0;
  for (auto _ : state) {
    delta.prev_version = store.version();
    delta.version = store.version() + 1;
    changed.state = changed.state == NodeState::kAlive ? NodeState::kSuspect : NodeState::kAlive;
    delta.changes = {changed};
    store.apply(delta, &delta_body);
    std::string body = store.snapshot(1732700001000);
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_SnapshotSplice)->Arg(100'000)->Unit(benchmark::kMillisecond);

// The same store as 1 MiB parts and their end marker.
void BM_SnapshotParts(benchmark::State& state) {
  broker::RecordStore store;
  store.reset(snapshot_of(state.range(0)));
  size_t parts = 0;
  for (auto _ : state) {
    auto bodies = store.parts(1732700001000, kClientPartBytes);
    parts = bodies.size() - 1;
    benchmark::DoNotOptimize(bodies);
  }
  state.counters["parts"] = static_cast<double>(parts);
}
BENCHMARK(BM_SnapshotParts)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace roster
BENCHMARK_MAIN();
