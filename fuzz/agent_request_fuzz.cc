// Fuzz target: a request on the broker's agents endpoint. The body is
// decoded as the broker does (decode_agent_request); a refusal must be a
// clean error reply, and a decoded request must re-encode to itself, then
// go through the membership core (a fixture with a node in every state) at
// a fixed time, whose reply the agent must decode as it is, and whose
// published state must stay valid through every timer. The broker's
// heartbeat fast path (decode_heartbeat_ref, handle(HeartbeatRef),
// encode_ack) must agree with that path whenever it accepts the body.
#include "broker_fixture.h"

using namespace roster;
using namespace roster::fuzz;

namespace {

// A body the fast path accepts is that heartbeat for the full decoder too,
// and the core answers it the same way, ack bytes included.
void check_fast_path(std::string_view body, const Decoded<AgentRequest>& decoded) {
  HeartbeatRef ref;
  if (!decode_heartbeat_ref(body, &ref)) return;
  ROSTER_FUZZ_CHECK(decoded.ok());
  const auto* beat = std::get_if<HeartbeatRequest>(&decoded.value());
  ROSTER_FUZZ_CHECK(beat != nullptr);
  ROSTER_FUZZ_CHECK(ref.node == beat->node && ref.inc == beat->inc && ref.seq == beat->seq);
  std::unique_ptr<Membership> fast = make_fixture();
  std::unique_ptr<Membership> full = make_fixture();
  AgentReply fast_reply = fast->handle(ref, kRequestTime);
  AgentReply full_reply = full->handle(decoded.value(), kRequestTime);
  ROSTER_FUZZ_CHECK(fast_reply == full_reply);
  ROSTER_FUZZ_CHECK(fast->commit(kRequestTime) == full->commit(kRequestTime));
  if (const Ack* ack = std::get_if<Ack>(&fast_reply)) {
    char bytes[kMaxAckBytes];
    ROSTER_FUZZ_CHECK(std::string_view(bytes, encode_ack(*ack, bytes)) == encode(fast_reply));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Decoded<AgentRequest> decoded = decode_agent_request(as_body(data, size));
  check_fast_path(as_body(data, size), decoded);
  AgentReply reply;
  std::unique_ptr<Membership> m;
  if (!decoded.ok()) {
    check_error(decoded.error());
    const DecodeError& e = decoded.error();
    reply = ErrorReply{e.seq, e.code, e.message};
  } else {
    check_round_trip(decoded.value(), decoded.replaced_strings(), decode_agent_request);
    ROSTER_FUZZ_CHECK(decoded.replaced_strings() == 0);  // requests are refused, never repaired
    m = make_fixture();
    reply = m->handle(decoded.value(), kRequestTime);
    std::optional<Delta> delta = m->commit(kRequestTime);
    check_published(*m, delta, kRequestTime);
  }
  if (const auto* error = std::get_if<ErrorReply>(&reply)) {
    ROSTER_FUZZ_CHECK(error->code != ErrorCode::kUnrecognized);
    ROSTER_FUZZ_CHECK(is_valid_utf8(error->message));
  }
  // The agent reads the reply as the broker meant it.
  check_round_trip(reply, 0, decode_agent_reply);
  if (m) run_timers(*m, kRequestTime);
  return 0;
}
