#include "broker_link.h"

#include <vector>

#include "roster/protocol.h"

namespace roster {

namespace {
// Few requests are ever in flight: a small queue bounds what a stalled
// connection can hold.
constexpr int kHighWaterMark = 4;
// Replies are small; anything bigger is not from a broker.
constexpr int64_t kMaxReplyBytes = static_cast<int64_t>(kMaxBodyBytes);
}  // namespace

std::optional<std::string> BrokerLink::open(const std::string& endpoint) {
  close();
  try {
    zmq::socket_t socket(context_, zmq::socket_type::dealer);
    socket.set(zmq::sockopt::linger, 0);
    socket.set(zmq::sockopt::immediate, 1);
    socket.set(zmq::sockopt::sndhwm, kHighWaterMark);
    socket.set(zmq::sockopt::rcvhwm, kHighWaterMark * 4);
    socket.set(zmq::sockopt::maxmsgsize, kMaxReplyBytes);
    if (curve_) apply_curve_client(socket, *curve_);
    socket_.emplace(std::move(socket));
    monitor_.emplace(context_, *socket_, curve_.has_value());
    socket_->connect(endpoint);
  } catch (const zmq::error_t& e) {
    close();
    return std::string("cannot connect to ") + endpoint + ": " + e.what();
  }
  return std::nullopt;
}

void BrokerLink::close() {
  pending_.reset();
  monitor_.reset();
  socket_.reset();
}

void BrokerLink::monitor_poll_item(zmq_pollitem_t& item) {
  item.socket = monitor_->events().handle();
  item.fd = 0;
  item.events = ZMQ_POLLIN;
  item.revents = 0;
}

std::optional<HandshakeFailure> BrokerLink::take_handshake_failure() {
  if (!monitor_) return std::nullopt;
  return monitor_->take_failure();
}

bool BrokerLink::try_send(const std::string& body) {
  try {
    return socket_->send(zmq::buffer(body), zmq::send_flags::dontwait).has_value();
  } catch (const zmq::error_t&) {
    return false;
  }
}

void BrokerLink::send(std::string body) {
  if (try_send(body)) {
    pending_.reset();
  } else {
    pending_ = std::move(body);
  }
}

void BrokerLink::flush() {
  if (pending_ && socket_ && try_send(*pending_)) pending_.reset();
}

void BrokerLink::poll_item(zmq_pollitem_t& item) {
  item.socket = socket_->handle();
  item.fd = 0;
  item.events = ZMQ_POLLIN | (pending_ ? ZMQ_POLLOUT : 0);
  item.revents = 0;
}

std::optional<std::string> BrokerLink::receive() {
  while (socket_) {
    std::vector<zmq::message_t> frames;
    try {
      zmq::message_t frame;
      if (!socket_->recv(frame, zmq::recv_flags::dontwait)) return std::nullopt;
      bool more = frame.more();
      frames.push_back(std::move(frame));
      while (more) {
        zmq::message_t next;
        if (!socket_->recv(next, zmq::recv_flags::none)) break;
        more = next.more();
        frames.push_back(std::move(next));
      }
    } catch (const zmq::error_t&) {
      return std::nullopt;
    }
    if (frames.size() == 1) return frames[0].to_string();
    if (frames.size() == 2 && frames[0].size() == 0) return frames[1].to_string();
    ++misframed_;
  }
  return std::nullopt;
}

}  // namespace roster
