// Fuzz target: a request on the broker's agents endpoint. The body is
// decoded as the broker does (decode_agent_request); a refusal must be a
// clean error reply, and a decoded request must re-encode to itself, then
// go through the membership core (a fixture with a node in every state) at
// a fixed time, whose reply the agent must decode as it is, and whose
// published state must stay valid through every timer.
#include "broker_fixture.h"

using namespace roster;
using namespace roster::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Decoded<AgentRequest> decoded = decode_agent_request(as_body(data, size));
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
