#include "support/fake_state_channel.h"

#include <zmq_addon.hpp>

#include <variant>

#include "roster/codec.h"

namespace roster::testing {

FakeStateChannel::FakeStateChannel()
    : xpub_(context_, zmq::socket_type::xpub), router_(context_, zmq::socket_type::router) {
  xpub_.set(zmq::sockopt::linger, 0);
  xpub_.set(zmq::sockopt::xpub_verbose, 1);
  xpub_.bind("tcp://127.0.0.1:*");
  state_endpoint_ = xpub_.get(zmq::sockopt::last_endpoint);
  router_.set(zmq::sockopt::linger, 0);
  router_.bind("tcp://127.0.0.1:*");
  admin_endpoint_ = router_.get(zmq::sockopt::last_endpoint);
}

void FakeStateChannel::publish(const Snapshot& snapshot) {
  publish_frames({std::string(kTopicSnapshot), encode(snapshot)});
}
void FakeStateChannel::publish(const Delta& delta) {
  publish_frames({std::string(kTopicDelta), encode(delta)});
}
void FakeStateChannel::publish(const Beat& beat) {
  publish_frames({std::string(kTopicBeat), encode(beat)});
}

void FakeStateChannel::publish_frames(const std::vector<std::string>& frames) {
  for (size_t i = 0; i < frames.size(); ++i) {
    const auto flags = i + 1 < frames.size() ? zmq::send_flags::sndmore : zmq::send_flags::none;
    xpub_.send(zmq::buffer(frames[i]), flags);
  }
}

bool FakeStateChannel::poll_subscribed() {
  zmq::message_t message;
  while (xpub_.recv(message, zmq::recv_flags::dontwait)) {
    if (message.size() > 0 && static_cast<const char*>(message.data())[0] == 1) subscribed_ = true;
  }
  return subscribed_;
}

int FakeStateChannel::poll_snapshot_requests() {
  int count = 0;
  while (true) {
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(router_, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
      break;
    }
    if (frames.size() != 2) continue;
    auto request = decode_admin_request(frames[1].to_string_view());
    if (!request.ok()) continue;
    last_requester_ = frames[0].to_string();
    ++admin_requests_;
    if (std::holds_alternative<SnapshotQuery>(request.value())) ++count;
  }
  snapshot_requests_ += count;
  return count;
}

void FakeStateChannel::reply(const AdminReply& reply) {
  reply_raw(encode(reply));
}

void FakeStateChannel::reply_raw(const std::string& body) {
  router_.send(zmq::buffer(last_requester_), zmq::send_flags::sndmore);
  router_.send(zmq::buffer(body), zmq::send_flags::none);
}

}  // namespace roster::testing
