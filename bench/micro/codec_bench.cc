// Micro-benchmarks of the codec: encode and decode of a heartbeat (the
// broker's hot path) and of a join with 8 labels, and the publisher's
// encoding of a 100k-node snapshot from its View.
//
//   build/bin/codec_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <string>

#include "roster/codec.h"
#include "roster/view.h"

namespace roster {
namespace {

AgentRequest heartbeat() {
  return HeartbeatRequest{"worker-017.eu-west-1.example", 1732700000123456789ull, 4242};
}

AgentRequest join_with_8_labels() {
  JoinRequest join{
      "worker-017.eu-west-1.example", 1732700000123456789ull, 1, 3000, "10.20.30.40:7000", {}};
  const char* keys[] = {"zone", "region", "role", "rack", "pool", "version", "owner", "tier"};
  for (const char* key : keys) join.labels[key] = std::string(key) + "-value-01";
  return join;
}

// Encodes the agent request `make()` returns, the same each iteration.
void BM_Encode(benchmark::State& state, AgentRequest (*make)()) {
  AgentRequest msg = make();
  for (auto _ : state) benchmark::DoNotOptimize(encode(msg));
}
BENCHMARK_CAPTURE(BM_Encode, Heartbeat, heartbeat);
BENCHMARK_CAPTURE(BM_Encode, Join8Labels, join_with_8_labels);

// Decodes the encoding of the agent request `make()` returns.
void BM_Decode(benchmark::State& state, AgentRequest (*make)()) {
  std::string body = encode(make());
  for (auto _ : state) {
    auto decoded = decode_agent_request(body);
    if (!decoded.ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK_CAPTURE(BM_Decode, Heartbeat, heartbeat);
BENCHMARK_CAPTURE(BM_Decode, Join8Labels, join_with_8_labels);

// A hostile body: a 5-byte array header declaring 4 billion elements.
void BM_RejectHugeArrayHeader(benchmark::State& state) {
  std::string body("\xdd\xff\xff\xff\xff", 5);
  for (auto _ : state) benchmark::DoNotOptimize(decode_agent_request(body));
}
BENCHMARK(BM_RejectHugeArrayHeader);

// A view of `nodes` alive nodes with an address and two labels each.
View view_of(int64_t nodes) {
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
  View view;
  view.reset(snapshot);
  return view;
}

// What the publisher did before encoding from the view: copy the view
// into a Snapshot, then encode that.
void BM_EncodeSnapshotViaCopy(benchmark::State& state) {
  const View view = view_of(state.range(0));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string body = encode(view.to_snapshot(1732700001000));
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_EncodeSnapshotViaCopy)->Arg(100'000)->Unit(benchmark::kMillisecond);

// What the publisher does: encode straight from the view's records.
void BM_EncodeSnapshotFromView(benchmark::State& state) {
  const View view = view_of(state.range(0));
  size_t bytes = 0;
  for (auto _ : state) {
    std::string body = encode_snapshot(
        {view.epoch(), view.version(), view.complete(), 1732700001000}, view.nodes());
    bytes = body.size();
    benchmark::DoNotOptimize(body);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_EncodeSnapshotFromView)->Arg(100'000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace roster

BENCHMARK_MAIN();
