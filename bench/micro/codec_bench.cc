// Micro-benchmarks of the codec: encode and decode of a heartbeat (the
// broker's hot path) and of a join with 8 labels.
//
//   build/bin/codec_bench --benchmark_min_time=1
#include <benchmark/benchmark.h>

#include <string>

#include "roster/codec.h"

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

void BM_EncodeHeartbeat(benchmark::State& state) {
  AgentRequest msg = heartbeat();
  for (auto _ : state) benchmark::DoNotOptimize(encode(msg));
}
BENCHMARK(BM_EncodeHeartbeat);

void BM_DecodeHeartbeat(benchmark::State& state) {
  std::string body = encode(heartbeat());
  for (auto _ : state) {
    auto decoded = decode_agent_request(body);
    if (!decoded.ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_DecodeHeartbeat);

void BM_EncodeJoin8Labels(benchmark::State& state) {
  AgentRequest msg = join_with_8_labels();
  for (auto _ : state) benchmark::DoNotOptimize(encode(msg));
}
BENCHMARK(BM_EncodeJoin8Labels);

void BM_DecodeJoin8Labels(benchmark::State& state) {
  std::string body = encode(join_with_8_labels());
  for (auto _ : state) {
    auto decoded = decode_agent_request(body);
    if (!decoded.ok()) state.SkipWithError("decode failed");
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(BM_DecodeJoin8Labels);

// A hostile body: a 5-byte array header declaring 4 billion elements.
void BM_RejectHugeArrayHeader(benchmark::State& state) {
  std::string body("\xdd\xff\xff\xff\xff", 5);
  for (auto _ : state) benchmark::DoNotOptimize(decode_agent_request(body));
}
BENCHMARK(BM_RejectHugeArrayHeader);

}  // namespace
}  // namespace roster

BENCHMARK_MAIN();
