#include <gtest/gtest.h>

#include <string>

#include "ack_reader.h"
#include "latency_histogram.h"
#include "roster/codec.h"

namespace roster::bench {
namespace {

TEST(LatencyHistogram, ExactBelow128Microseconds) {
  LatencyHistogram h;
  for (int us = 1; us <= 100; ++us) h.add_us(us);
  EXPECT_EQ(h.count(), 100u);
  EXPECT_DOUBLE_EQ(h.quantile_ms(0.5), 0.050);
  EXPECT_DOUBLE_EQ(h.quantile_ms(0.99), 0.099);
  EXPECT_DOUBLE_EQ(h.quantile_ms(0.0), 0.001);
  EXPECT_DOUBLE_EQ(h.quantile_ms(1.0), 0.100);
}

TEST(LatencyHistogram, WithinTwoPercentAboveAndNeverAboveTheMax) {
  LatencyHistogram h;
  for (int64_t us = 1; us <= 1'000'000; ++us) h.add_us(us);
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const double exact_ms = q * 1000.0;
    EXPECT_GE(h.quantile_ms(q), exact_ms) << q;
    EXPECT_LE(h.quantile_ms(q), exact_ms * 1.02) << q;
  }
  EXPECT_DOUBLE_EQ(h.quantile_ms(1.0), 1000.0);
  const auto summary = h.summary();
  EXPECT_EQ(summary["count"], 1'000'000u);
  EXPECT_DOUBLE_EQ(summary["max_ms"].get<double>(), 1000.0);
}

TEST(LatencyHistogram, EmptyAndNegative) {
  LatencyHistogram h;
  EXPECT_EQ(h.summary()["count"], 0u);
  EXPECT_FALSE(h.summary().contains("p50_ms"));
  h.add_us(-5);
  EXPECT_DOUBLE_EQ(h.quantile_ms(0.5), 0.0);
}

TEST(FastAck, ReadsWhatTheCodecEncodes) {
  for (uint64_t seq : {uint64_t{0}, uint64_t{1}, uint64_t{127}, uint64_t{128}, uint64_t{70'000},
                       uint64_t{5'000'000'000}}) {
    for (NodeState state : {NodeState::kAlive, NodeState::kSuspect}) {
      const std::string body = encode(AgentReply{Ack{seq, 1'796'000'000'000, 10'000, state}});
      FastAck ack;
      ASSERT_TRUE(read_fast_ack(body, &ack)) << seq;
      EXPECT_EQ(ack.seq, seq);
      EXPECT_EQ(ack.lease_ms, 10'000u);
      EXPECT_EQ(ack.alive, state == NodeState::kAlive);
    }
  }
}

TEST(FastAck, LeavesErrorsAndGarbageToTheCodec) {
  ErrorReply error;
  error.seq = 7;
  error.code = ErrorCode::kExpired;
  error.message = "expired";
  FastAck ack;
  EXPECT_FALSE(read_fast_ack(encode(AgentReply{error}), &ack));
  const std::string body = encode(AgentReply{Ack{9, 1, 10'000, NodeState::kAlive}});
  for (size_t cut = 0; cut < body.size(); ++cut) {
    EXPECT_FALSE(read_fast_ack(body.substr(0, cut), &ack)) << cut;
  }
  EXPECT_FALSE(read_fast_ack(body + "x", &ack));
  EXPECT_FALSE(read_fast_ack("\x93\x01\x02\x03", &ack));
}

}  // namespace
}  // namespace roster::bench
