#include "support/core_fixture.h"

#include <algorithm>
#include <utility>
#include <variant>

namespace roster::testing {

MembershipOptions core_test_options() {
  MembershipOptions o;
  o.min_lease_ms = 100;
  o.max_lease_ms = 10'000;
  o.dead_after_ms = 2'000;
  o.forget_dead_after_ms = 5'000;
  o.forget_left_after_ms = 3'000;
  o.tombstone_ttl_ms = 60'000;
  o.max_tombstones = 100;
  o.stall_threshold_ms = 1'000;
  return o;
}

CoreFixture::CoreFixture(const MembershipOptions& options)
    : clock_(kCoreStart), core_(options, kCoreEpoch, kCoreStart) {
  Snapshot empty;
  empty.epoch = kCoreEpoch;
  view_.reset(empty);
}

void CoreFixture::Advance(TimeMs ms) {
  while (ms > 0) {
    TimeMs step = std::min<TimeMs>(ms, 100);
    clock_.advance(step);
    ms -= step;
    core_.tick(now());
  }
}

AgentReply CoreFixture::Join(const std::string& node, uint64_t inc, uint64_t seq, uint64_t lease,
                             std::string addr, Labels labels) {
  return core_.handle(JoinRequest{node, inc, seq, lease, std::move(addr), std::move(labels)},
                      now());
}

AgentReply CoreFixture::Beat(const std::string& node, uint64_t inc, uint64_t seq) {
  return core_.handle(HeartbeatRequest{node, inc, seq}, now());
}

AgentReply CoreFixture::Leave(const std::string& node, uint64_t inc, uint64_t seq) {
  return core_.handle(LeaveRequest{node, inc, seq, "bye"}, now());
}

std::optional<Delta> CoreFixture::Commit() {
  std::optional<Delta> delta = core_.commit(now());
  if (delta) {
    EXPECT_EQ(view_.apply(*delta), View::ApplyResult::kApplied);
  }
  EXPECT_EQ(view_.to_snapshot(0).nodes, core_.snapshot(now()).nodes);
  return delta;
}

std::optional<NodeState> CoreFixture::StateOf(const std::string& node) const {
  auto info = core_.node(node);
  if (!info) return std::nullopt;
  return info->record.state;
}

Ack AckOf(const AgentReply& reply) {
  const Ack* ack = std::get_if<Ack>(&reply);
  EXPECT_NE(ack, nullptr) << "expected an ack, got error "
                          << (ack ? "" : std::get<ErrorReply>(reply).message);
  return ack ? *ack : Ack{};
}

std::optional<ErrorCode> ErrorOf(const AgentReply& reply) {
  if (const auto* error = std::get_if<ErrorReply>(&reply)) return error->code;
  return std::nullopt;
}

std::optional<uint64_t> HintOf(const AgentReply& reply) {
  if (const auto* error = std::get_if<ErrorReply>(&reply)) return error->inc;
  return std::nullopt;
}

std::string MessageOf(const AgentReply& reply) {
  if (const auto* error = std::get_if<ErrorReply>(&reply)) return error->message;
  return "";
}

}  // namespace roster::testing
