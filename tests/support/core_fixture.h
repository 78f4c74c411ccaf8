// A fixture for tests of the membership core (roster/membership.h): a core
// at epoch 7 on a simulated clock, with a View fed every committed delta so
// that each test also checks that replaying the deltas reproduces the
// snapshot; and readers of agent replies for assertions.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "roster/clock.h"
#include "roster/membership.h"
#include "roster/view.h"

namespace roster::testing {

// The time the fixture's clock starts at.
inline constexpr TimeMs kCoreStart = 1'700'000'000'000;
// The epoch of the fixture's core.
inline constexpr uint64_t kCoreEpoch = 7;

// Short timers for core tests: leases 100 ms..10 s, dead 2 s after suspect,
// dead forgotten after 5 s, left after 3 s, tombstones kept 60 s (at most
// 100), stalls over 1 s; node and record limits left at their defaults.
MembershipOptions core_test_options();

// core_test_options() with one field changed, e.g.
// core_test_options_with(&MembershipOptions::dead_after_ms, 100).
template <typename Field, typename Value>
MembershipOptions core_test_options_with(Field MembershipOptions::*field, Value value) {
  MembershipOptions options = core_test_options();
  options.*field = static_cast<Field>(value);
  return options;
}

// A core made with the given options (core_test_options() by default) at
// epoch kCoreEpoch, its clock at kCoreStart, and an empty view of that epoch.
class CoreFixture : public ::testing::Test {
 protected:
  explicit CoreFixture(const MembershipOptions& options = core_test_options());

  TimeMs now() const { return clock_.now_ms(); }

  // Advances time in steps of at most 100 ms (well under the stall
  // threshold), ticking the core at each.
  void Advance(TimeMs ms);

  // Requests to the core at now().
  AgentReply Join(const std::string& node, uint64_t inc, uint64_t seq, uint64_t lease = 1'000,
                  std::string addr = "", Labels labels = {});
  AgentReply Beat(const std::string& node, uint64_t inc, uint64_t seq);
  AgentReply Leave(const std::string& node, uint64_t inc, uint64_t seq);

  // Commits, applies the delta to the view (expecting it to apply) and
  // expects the view to match the core's snapshot; returns the delta.
  std::optional<Delta> Commit();

  // The state the core holds `node` in; nullopt when it holds no record.
  std::optional<NodeState> StateOf(const std::string& node) const;

  SimulatedClock clock_;
  Membership core_;
  View view_;
};

// The ack in `reply`; adds a failure (and returns Ack{}) when it is an error.
Ack AckOf(const AgentReply& reply);
// The error code of `reply`; nullopt for an ack.
std::optional<ErrorCode> ErrorOf(const AgentReply& reply);
// The inc hint of an error reply; nullopt for an ack or no hint.
std::optional<uint64_t> HintOf(const AgentReply& reply);
// The message of an error reply; "" for an ack.
std::string MessageOf(const AgentReply& reply);

}  // namespace roster::testing
