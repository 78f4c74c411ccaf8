// Fuzz target: what many hostile agents and operator clients do to the
// broker over time. The input is a sequence of requests (split at
// kSeparator); the first byte of each says where it came from (low bit:
// agents or admin endpoint) and how long after the previous one (the rest,
// in 100 ms steps, so that leases run out, nodes die and are forgotten, and
// long gaps count as stalls); the remaining bytes are the body, decoded as
// the broker does and handled by the membership core, which runs its
// timers and commits as the broker does. A subscriber that applies every
// published delta to the first snapshot must hold exactly the core's view,
// and every reply must decode at its client as it is.
#include <map>
#include <string>

#include "fuzz_support.h"
#include "roster/membership.h"
#include "roster/view.h"

using namespace roster;
using namespace roster::fuzz;

namespace {

constexpr size_t kMaxRequests = 64;

MembershipOptions options() {
  MembershipOptions o;
  o.min_lease_ms = 100;
  o.max_lease_ms = 5'000;
  o.dead_after_ms = 2'000;
  o.forget_dead_after_ms = 4'000;
  o.forget_left_after_ms = 3'000;
  o.tombstone_ttl_ms = 20'000;
  o.max_tombstones = 4;  // small, so that eviction is reached
  o.max_nodes = 8;
  o.max_record_bytes = 512;
  return o;
}

// Applies what the core commits at `now` to `view`, which must follow on.
void publish(Membership& m, View& view, TimeMs now) {
  std::optional<Delta> delta = m.commit(now);
  if (!delta) return;
  ROSTER_FUZZ_CHECK(delta->version == delta->prev_version + 1);
  check_round_trip(*delta, 0, decode_delta);
  ROSTER_FUZZ_CHECK(view.apply(*delta) == View::ApplyResult::kApplied);
}

// The subscriber's view is the core's.
void check_same(const Membership& m, const View& view, TimeMs now) {
  Snapshot snapshot = m.snapshot(now);
  ROSTER_FUZZ_CHECK(snapshot.version == view.version());
  ROSTER_FUZZ_CHECK(snapshot.nodes.size() == view.nodes().size());
  ROSTER_FUZZ_CHECK(snapshot.nodes.size() <= options().max_nodes);
  for (const NodeRecord& r : snapshot.nodes) {
    auto it = view.nodes().find(r.node);
    ROSTER_FUZZ_CHECK(it != view.nodes().end());
    ROSTER_FUZZ_CHECK(it->second == r);
    ROSTER_FUZZ_CHECK(r.state != NodeState::kRemoved);
  }
}

void handle_agent(std::string_view body, Membership& m, TimeMs now) {
  Decoded<AgentRequest> request = decode_agent_request(body);
  AgentReply reply;
  if (request.ok()) {
    reply = m.handle(request.value(), now);
  } else {
    check_error(request.error());
    reply = ErrorReply{request.error().seq, request.error().code, request.error().message};
  }
  check_round_trip(reply, 0, decode_agent_reply);
}

void handle_admin(std::string_view body, Membership& m, TimeMs now) {
  Decoded<AdminRequest> request = decode_admin_request(body);
  if (!request.ok()) {
    check_error(request.error());
    return;
  }
  if (const auto* query = std::get_if<NodeQuery>(&request.value())) {
    if (std::optional<NodeInfo> info = m.node(query->node)) {
      check_round_trip(AdminReply(*info), 0, decode_admin_reply);
    }
  } else if (const auto* remove = std::get_if<RemoveCommand>(&request.value())) {
    RemoveResult result = m.remove(remove->node, remove->inc, now);
    if (const auto* removed = std::get_if<RemovedReply>(&result)) {
      ROSTER_FUZZ_CHECK(removed->version == m.version() + 1);
      check_round_trip(AdminReply(*removed), 0, decode_admin_reply);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  TimeMs now = kStart;
  Membership m(options(), 1, now);
  View view;
  view.reset(m.snapshot(now));
  for (std::string_view message : split(as_body(data, size), kMaxRequests)) {
    if (message.empty()) continue;
    const auto head = static_cast<unsigned char>(message.front());
    message.remove_prefix(1);
    now += static_cast<TimeMs>(head >> 1) * 100;
    m.tick(now);
    publish(m, view, now);
    if ((head & 1u) == 0) {
      handle_agent(message, m, now);
    } else {
      handle_admin(message, m, now);
    }
    publish(m, view, now);
    check_same(m, view, now);
    if (std::optional<TimeMs> deadline = m.next_deadline()) {
      ROSTER_FUZZ_CHECK(*deadline <= now + static_cast<TimeMs>(options().stall_threshold_ms / 2));
    }
  }
  return 0;
}
