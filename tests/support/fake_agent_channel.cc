#include "support/fake_agent_channel.h"

#include <gtest/gtest.h>

#include <vector>

#include "roster/codec.h"

namespace roster::testing {

FakeAgentChannel::FakeAgentChannel(const std::string& endpoint) {
  router_.emplace(context_, zmq::socket_type::router);
  router_->set(zmq::sockopt::linger, 0);
  router_->bind(endpoint.empty() ? "tcp://127.0.0.1:*" : endpoint);
  endpoint_ = router_->get(zmq::sockopt::last_endpoint);
}

FakeAgentChannel::~FakeAgentChannel() {
  close();
}

void FakeAgentChannel::close() {
  router_.reset();
}

std::optional<FakeAgentChannel::Received> FakeAgentChannel::next(
    std::chrono::milliseconds timeout) {
  if (!router_) return std::nullopt;
  zmq_pollitem_t item{router_->handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
  std::vector<zmq::message_t> frames;
  do {
    zmq::message_t frame;
    if (!router_->recv(frame, zmq::recv_flags::none)) break;
    frames.push_back(std::move(frame));
  } while (frames.back().more());
  EXPECT_EQ(frames.size(), 2u) << "the agent sends one frame per message";
  if (frames.size() != 2) return std::nullopt;
  auto decoded = decode_agent_request(frames[1].to_string_view());
  EXPECT_TRUE(decoded.ok()) << decoded.error().message;
  if (!decoded.ok()) return std::nullopt;
  return Received{frames[0].to_string(), std::move(decoded).value()};
}

void FakeAgentChannel::reply(const Received& to, const AgentReply& reply) {
  const std::string body = encode(reply);
  router_->send(zmq::buffer(to.routing_id), zmq::send_flags::sndmore);
  router_->send(zmq::buffer(body), zmq::send_flags::none);
}

void FakeAgentChannel::reply_frames(const Received& to, const std::vector<std::string>& frames) {
  router_->send(zmq::buffer(to.routing_id), zmq::send_flags::sndmore);
  for (size_t i = 0; i < frames.size(); ++i) {
    router_->send(zmq::buffer(frames[i]),
                  i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none);
  }
}

void FakeAgentChannel::ack(const Received& to, uint64_t lease_ms) {
  Ack ack;
  ack.seq = seq_of(to.request);
  ack.epoch = 1;
  ack.lease_ms = lease_ms;
  if (const auto* join = std::get_if<JoinRequest>(&to.request)) ack.lease_ms = join->lease_ms;
  ack.state =
      std::holds_alternative<LeaveRequest>(to.request) ? NodeState::kLeft : NodeState::kAlive;
  reply(to, ack);
}

void FakeAgentChannel::refuse(const Received& to, ErrorCode code) {
  reply(to, ErrorReply{seq_of(to.request), code, "scripted by the test"});
}

uint64_t seq_of(const AgentRequest& request) {
  return std::visit([](const auto& r) { return r.seq; }, request);
}

uint64_t inc_of(const AgentRequest& request) {
  return std::visit([](const auto& r) { return r.inc; }, request);
}

}  // namespace roster::testing
