// Fuzz target: a request on the broker's admin endpoint. The body is
// decoded as the broker does (decode_admin_request); a refusal must be a
// clean error reply, and a decoded request must re-encode to itself, then
// be answered by the membership core (a fixture with a node in every state)
// at a fixed time: a node query or a removal, whose delta and reply
// rosterctl must decode as they are.
#include <type_traits>
#include <variant>

#include "broker_fixture.h"

using namespace roster;
using namespace roster::fuzz;

namespace {

// Answers `request` as the broker's admin handler does, with the core.
AdminReply answer(const AdminRequest& request, Membership& m) {
  if (const auto* query = std::get_if<NodeQuery>(&request)) {
    std::optional<NodeInfo> info = m.node(query->node);
    if (!info) return ErrorReply{0, ErrorCode::kUnknownNode, "no node '" + query->node + "'"};
    ROSTER_FUZZ_CHECK(info->record.node == query->node);
    return *info;
  }
  if (const auto* remove = std::get_if<RemoveCommand>(&request)) {
    RemoveResult result = m.remove(remove->node, remove->inc, kRequestTime);
    if (const auto* refused = std::get_if<ErrorReply>(&result)) return *refused;
    const auto& removed = std::get<RemovedReply>(result);
    std::optional<Delta> delta = m.commit(kRequestTime);
    // The removal is in the delta the reply names.
    ROSTER_FUZZ_CHECK(delta && delta->version == removed.version);
    check_published(m, delta, kRequestTime);
    return removed;
  }
  if (std::holds_alternative<StatsQuery>(request)) {
    Stats stats;
    stats.epoch = m.epoch();
    stats.version = m.version();
    stats.nodes = m.counters().nodes;
    return stats;
  }
  return m.snapshot(kRequestTime);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Decoded<AdminRequest> decoded = decode_admin_request(as_body(data, size));
  AdminReply reply;
  std::unique_ptr<Membership> m;
  if (!decoded.ok()) {
    check_error(decoded.error());
    reply = ErrorReply{0, decoded.error().code, decoded.error().message};
  } else {
    check_round_trip(decoded.value(), decoded.replaced_strings(), decode_admin_request);
    m = make_fixture();
    reply = answer(decoded.value(), *m);
  }
  // rosterctl reads the reply as the broker meant it.
  check_round_trip(reply, 0, decode_admin_reply);
  if (m) run_timers(*m, kRequestTime);
  return 0;
}
