#include "agent_channel.h"

#include <string_view>

namespace roster::bench {

AgentChannel::AgentChannel(zmq::context_t& ctx, const std::string& endpoint)
    : socket_(ctx, zmq::socket_type::dealer) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::sndhwm, 100'000);
  socket_.set(zmq::sockopt::rcvhwm, 100'000);
  socket_.connect(endpoint);
}

bool AgentChannel::send(const AgentRequest& request, size_t tag) {
  const std::string body = encode(request);
  if (!socket_.send(zmq::buffer(body), zmq::send_flags::dontwait)) return false;
  in_flight_.push_back(Pending{tag, std::chrono::steady_clock::now()});
  return true;
}

size_t AgentChannel::receive(std::chrono::milliseconds timeout, const ReplyHandler& on_reply) {
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  zmq::poll(&item, 1, timeout);
  return receive_ready(on_reply);
}

size_t AgentChannel::receive_ready(const ReplyHandler& on_reply) {
  size_t read = 0;
  zmq::message_t reply;
  while (socket_.recv(reply, zmq::recv_flags::dontwait)) {
    const auto received = std::chrono::steady_clock::now();
    ++read;
    if (in_flight_.empty()) {
      ++unexpected_;
      continue;
    }
    const Pending request = in_flight_.front();
    in_flight_.pop_front();
    on_reply(request.tag, request.sent, received,
             decode_agent_reply(std::string_view(reply.data<char>(), reply.size())));
  }
  return read;
}

}  // namespace roster::bench
