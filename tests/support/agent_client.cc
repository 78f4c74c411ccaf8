#include "support/agent_client.h"

#include <gtest/gtest.h>

#include "roster/codec.h"
#include "support/messages.h"

namespace roster::testing {

std::optional<AgentReply> AgentClient::call(const AgentRequest& request,
                                            std::chrono::milliseconds timeout) {
  client_.send(encode(request));
  auto body = client_.receive(timeout);
  if (!body) {
    ADD_FAILURE() << "no reply from the agent channel";
    return std::nullopt;
  }
  auto decoded = decode_agent_reply(*body);
  if (!decoded.ok()) {
    ADD_FAILURE() << "undecodable agent reply: " << decoded.error().message;
    return std::nullopt;
  }
  return std::move(decoded).value();
}

std::optional<AgentReply> AgentClient::join(const std::string& node, uint64_t inc,
                                            uint64_t lease_ms, const std::string& addr,
                                            const Labels& labels) {
  return call(JoinRequest{node, inc, ++seq_, lease_ms, addr, labels});
}

std::optional<AgentReply> AgentClient::heartbeat(const std::string& node, uint64_t inc) {
  return call(HeartbeatRequest{node, inc, ++seq_});
}

std::optional<AgentReply> AgentClient::leave(const std::string& node, uint64_t inc) {
  return call(LeaveRequest{node, inc, ++seq_, "test"});
}

std::optional<Ack> as_ack(const std::optional<AgentReply>& reply) {
  if (!reply) return std::nullopt;  // call() has reported it
  if (const auto* ack = std::get_if<Ack>(&*reply)) return *ack;
  ADD_FAILURE() << "expected an ack, got " << describe(*reply);
  return std::nullopt;
}

}  // namespace roster::testing
