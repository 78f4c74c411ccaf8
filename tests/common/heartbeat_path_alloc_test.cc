// The broker's heartbeat path allocates nothing: decode in place
// (decode_heartbeat_ref), prefetch (Membership::prefetch_index(),
// prefetch_record()), apply to the core (Membership::handle), encode the
// ack into a reused buffer (encode_ack), for held nodes heartbeating while
// the timers run. This test binary links the allocation counter.
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "roster/codec.h"
#include "roster/membership.h"
#include "support/alloc_counter.h"

namespace roster {
namespace {

constexpr TimeMs kStart = 1'700'000'000'000;

TEST(HeartbeatPathAlloc, DecodeHandleAndAckOfHeldNodesAllocateNothing) {
  constexpr int kNodes = 1'000;
  constexpr uint64_t kLease = 1'000;
  constexpr uint64_t kRounds = 20;
  Membership core(MembershipOptions{}, 1, kStart);
  TimeMs now = kStart;
  // The bodies are encoded before counting, as the broker receives them.
  // Ids over 15 bytes: a copy of one would allocate.
  std::vector<std::vector<std::string>> bodies(kRounds);
  for (int i = 0; i < kNodes; ++i) {
    std::string id = "node-with-a-long-id-" + std::to_string(i);
    core.handle(JoinRequest{id, 1, 1, kLease, "10.0.0.1:7000", {{"zone", "eu"}}}, now);
    for (uint64_t round = 0; round < kRounds; ++round) {
      bodies[round].push_back(encode(AgentRequest(HeartbeatRequest{id, 1, 2 + round})));
    }
  }
  core.commit(now);
  char ack[kMaxAckBytes];
  size_t acks = 0;
  size_t ack_bytes = 0;
  // One round before counting: whatever grows once (the timer heap) has.
  auto beat_round = [&](const std::vector<std::string>& round) {
    for (const std::string& body : round) {
      HeartbeatRef beat;
      if (!decode_heartbeat_ref(body, &beat)) continue;
      core.prefetch_record(core.prefetch_index(beat.node));
      AgentReply reply = core.handle(beat, now);
      if (const Ack* a = std::get_if<Ack>(&reply)) {
        ++acks;
        ack_bytes += encode_ack(*a, ack);
      }
    }
    // Every lease/3, ticking every 10 ms: timers come up early, re-arm.
    for (TimeMs step = 0; step < static_cast<TimeMs>(kLease / 3); step += 10) {
      now += 10;
      core.tick(now);
    }
  };
  beat_round(bodies[0]);
  testing::start_recording_allocations();
  for (uint64_t round = 1; round < kRounds; ++round) beat_round(bodies[round]);
  testing::AllocationStats stats = testing::stop_recording_allocations();
  EXPECT_EQ(stats.count, 0u) << "largest: " << stats.largest << " bytes";
  EXPECT_EQ(acks, kRounds * kNodes);
  EXPECT_GT(ack_bytes, 0u);
  EXPECT_FALSE(core.has_pending());
}

}  // namespace
}  // namespace roster
