#include "support/raw_sockets.h"

#include <gtest/gtest.h>

namespace roster::testing {

zmq::context_t& test_context() {
  // Never destroyed: terminating a context waits for every socket, and a
  // failed test may leave one open. Reachable, so not a leak.
  static zmq::context_t* context = new zmq::context_t(1);
  return *context;
}

RequestClient::RequestClient(const std::string& endpoint, zmq::socket_type type)
    : socket_(test_context(), type) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.connect(endpoint);
}

void RequestClient::send_frames(const std::vector<std::string>& frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    auto flags = i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
    socket_.send(zmq::buffer(frames[i]), flags);
  }
}

std::vector<std::string> RequestClient::receive_frames(std::chrono::milliseconds timeout) {
  std::vector<std::string> frames;
  zmq::pollitem_t item = {socket_.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) <= 0) return frames;
  bool more = true;
  while (more) {
    zmq::message_t frame;
    (void)socket_.recv(frame, zmq::recv_flags::none);
    more = frame.more();
    frames.push_back(frame.to_string());
  }
  return frames;
}

std::optional<std::string> RequestClient::receive(std::chrono::milliseconds timeout) {
  auto frames = receive_frames(timeout);
  if (frames.empty()) return std::nullopt;
  return frames.back();
}

std::optional<std::string> RequestClient::call(const std::string& body) {
  send(body);
  return receive();
}

StateReader::StateReader(const std::string& endpoint, const std::string& prefix)
    : socket_(test_context(), zmq::socket_type::sub) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.set(zmq::sockopt::rcvhwm, 0);
  socket_.set(zmq::sockopt::subscribe, prefix);
  socket_.connect(endpoint);
}

std::optional<StateMessage> StateReader::next(std::chrono::milliseconds timeout) {
  zmq::pollitem_t item = {socket_.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) <= 0) return std::nullopt;
  StateMessage message;
  zmq::message_t topic;
  zmq::message_t body;
  (void)socket_.recv(topic, zmq::recv_flags::none);
  EXPECT_TRUE(topic.more()) << "state message without a body frame";
  if (topic.more()) (void)socket_.recv(body, zmq::recv_flags::none);
  EXPECT_FALSE(body.more()) << "state message with more than two frames";
  message.topic = topic.to_string();
  message.body = body.to_string();
  message.received = std::chrono::steady_clock::now();
  return message;
}

std::optional<StateMessage> StateReader::next_on(std::string_view topic,
                                                 std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) return std::nullopt;
    auto message = next(left);
    if (!message) return std::nullopt;
    if (message->topic == topic) return message;
  }
}

}  // namespace roster::testing
