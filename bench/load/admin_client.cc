#include "admin_client.h"

#include <string_view>
#include <variant>

#include "roster/codec.h"

namespace roster::bench {

AdminClient::AdminClient(zmq::context_t& ctx, const std::string& endpoint)
    : socket_(ctx, zmq::socket_type::dealer) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.connect(endpoint);
}

std::optional<std::string> AdminClient::request_raw(const AdminRequest& request,
                                                    std::chrono::milliseconds timeout) {
  if (broken_) return std::nullopt;
  try {
    socket_.send(zmq::buffer(encode(request)), zmq::send_flags::none);
    zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, timeout);
    zmq::message_t reply;
    if (!(item.revents & ZMQ_POLLIN) || !socket_.recv(reply, zmq::recv_flags::dontwait)) {
      broken_ = true;
      error_ = "no admin reply within " + std::to_string(timeout.count()) + " ms";
      return std::nullopt;
    }
    // A REQ-style empty delimiter frame is not expected on a DEALER; skip
    // one if the broker sends it anyway.
    while (reply.more() && reply.size() == 0) {
      if (!socket_.recv(reply, zmq::recv_flags::none)) break;
    }
    return reply.to_string();
  } catch (const zmq::error_t& e) {
    broken_ = true;
    error_ = std::string("admin socket: ") + e.what();
    return std::nullopt;
  }
}

std::optional<Stats> AdminClient::stats(std::chrono::milliseconds timeout) {
  auto body = request_raw(AdminRequest{StatsQuery{}}, timeout);
  if (!body) return std::nullopt;
  auto reply = decode_admin_reply(*body);
  if (!reply.ok()) {
    error_ = "undecodable stats reply: " + reply.error().message;
    return std::nullopt;
  }
  if (const auto* stats = std::get_if<Stats>(&reply.value())) return *stats;
  error_ = "stats request answered with something else";
  return std::nullopt;
}

}  // namespace roster::bench
