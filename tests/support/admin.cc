#include "admin_client.h"

#include "roster/codec.h"

namespace roster::testing {

AdminClient::AdminClient(const std::string& admin_endpoint) : endpoint_(admin_endpoint) {
  connect();
}

void AdminClient::connect() {
  socket_.emplace(context_, zmq::socket_type::dealer);
  socket_->set(zmq::sockopt::linger, 0);
  socket_->connect(endpoint_);
}

std::optional<AdminReply> AdminClient::request(const AdminRequest& request,
                                               std::chrono::milliseconds timeout) {
  const std::string body = encode(request);
  socket_->send(zmq::buffer(body), zmq::send_flags::none);
  zmq_pollitem_t item{socket_->handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) == 0) {
    connect();
    return std::nullopt;
  }
  zmq::message_t reply;
  if (!socket_->recv(reply, zmq::recv_flags::none)) return std::nullopt;
  while (reply.more()) {
    // A delimiter frame first: the body is the last frame.
    if (!socket_->recv(reply, zmq::recv_flags::none)) return std::nullopt;
  }
  auto decoded = decode_admin_reply(reply.to_string_view());
  if (!decoded.ok()) return std::nullopt;
  return std::move(decoded).value();
}

std::optional<NodeRecord> AdminClient::node(const std::string& node) {
  auto reply = request(NodeQuery{node});
  if (!reply) return std::nullopt;
  if (const auto* info = std::get_if<NodeInfo>(&*reply)) return info->record;
  return std::nullopt;
}

}  // namespace roster::testing
