// Fuzz target: what a hostile broker answers an agent. The input is a
// sequence of reply bodies (split at kSeparator), each decoded as the agent
// does (decode_agent_reply) and handed to the agent's protocol logic
// (AgentSession), which has just sent its join (seq 1), with time moving a
// second per reply. Whatever the broker says, decoded strings are valid
// UTF-8 and re-encode to themselves, every request the agent sends is one
// the broker accepts as well-formed, and every state change is printable
// UTF-8.
#include <variant>

#include "agent_session.h"
#include "fuzz_support.h"

using namespace roster;
using namespace roster::fuzz;

namespace {

constexpr size_t kMaxReplies = 64;

AgentConfig config() {
  AgentConfig c;
  c.brokers = {"tcp://a:7400", "tcp://b:7400"};
  c.node_id = "node-1";
  c.addr = "10.0.0.1:7000";
  c.labels = {{"zone", "a"}};
  c.lease_ms = 3'000;
  c.backoff_min_ms = 100;
  c.backoff_max_ms = 1'000;
  return c;
}

// The agent's actions are ones the broker and the operator can take.
void check_actions(AgentSession& session) {
  for (const SessionAction& action : session.take_actions()) {
    if (const auto* send = std::get_if<SendRequest>(&action)) {
      auto request = decode_agent_request(encode(send->request));
      ROSTER_FUZZ_CHECK(request.ok());
      ROSTER_FUZZ_CHECK(request.value() == send->request);
    } else if (const auto* change = std::get_if<AgentStateChange>(&action)) {
      ROSTER_FUZZ_CHECK(is_valid_utf8(change->detail));
      ROSTER_FUZZ_CHECK(change->incarnation > 0);
    } else if (const auto* open = std::get_if<OpenSocket>(&action)) {
      ROSTER_FUZZ_CHECK(open->endpoint < config().brokers.size());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  AgentSession session(config(), 1'000, 7);
  TimeMs now = kStart;
  session.start(now);
  check_actions(session);
  for (std::string_view body : split(as_body(data, size), kMaxReplies)) {
    Decoded<AgentReply> reply = decode_agent_reply(body);
    if (!reply.ok()) {
      check_error(reply.error());
    } else {
      if (const auto* error = std::get_if<ErrorReply>(&reply.value())) {
        ROSTER_FUZZ_CHECK(is_valid_utf8(error->message));
      }
      check_round_trip(reply.value(), reply.replaced_strings(), decode_agent_reply);
      session.on_reply(reply.value(), now);
      check_actions(session);
    }
    now += 1'000;
    session.tick(now);
    check_actions(session);
    if (std::optional<TimeMs> deadline = session.next_deadline()) {
      ROSTER_FUZZ_CHECK(*deadline >= kStart);
    }
  }
  return 0;
}
