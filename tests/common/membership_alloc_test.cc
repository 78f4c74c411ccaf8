// The heartbeat path of the membership core allocates nothing: this test
// binary links the allocation counter to count the allocations made while
// held nodes heartbeat and the timers run.
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "roster/membership.h"
#include "support/alloc_counter.h"

namespace roster {
namespace {

constexpr TimeMs kStart = 1'700'000'000'000;

TEST(MembershipAlloc, HeartbeatsAndTicksOfHeldNodesAllocateNothing) {
  constexpr int kNodes = 1'000;
  constexpr uint64_t kLease = 1'000;
  Membership core(MembershipOptions{}, 1, kStart);
  TimeMs now = kStart;
  // Requests are built before counting: the test's own copies of the ids
  // are not the core's to answer for.
  std::vector<AgentRequest> beats;
  for (int i = 0; i < kNodes; ++i) {
    std::string id = "node-with-a-long-id-" + std::to_string(i);
    core.handle(JoinRequest{id, 1, 1, kLease, "10.0.0.1:7000", {{"zone", "eu"}}}, now);
    beats.push_back(HeartbeatRequest{id, 1, 1});
  }
  core.commit(now);
  // Several leases of heartbeats every lease/3, ticking every 10 ms: every
  // timer comes up early and is re-armed, and nothing expires.
  size_t replies = 0;
  testing::start_recording_allocations();
  for (uint64_t round = 2; round < 20; ++round) {
    for (AgentRequest& beat : beats) {
      std::get<HeartbeatRequest>(beat).seq = round;
      AgentReply reply = core.handle(beat, now);
      replies += reply.index() == 0;
    }
    for (TimeMs step = 0; step < static_cast<TimeMs>(kLease / 3); step += 10) {
      now += 10;
      core.tick(now);
    }
  }
  EXPECT_EQ(testing::stop_recording_allocations().count, 0u);
  EXPECT_EQ(replies, 18u * kNodes);
  EXPECT_FALSE(core.has_pending());
}

}  // namespace
}  // namespace roster
