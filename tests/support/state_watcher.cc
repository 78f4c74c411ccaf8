#include "state_watcher.h"

#include <zmq.hpp>

#include "roster/codec.h"
#include "support/process.h"

namespace roster::testing {

StateWatcher::StateWatcher(const std::string& publish_endpoint)
    : thread_([this, publish_endpoint] { run(publish_endpoint); }) {}

StateWatcher::~StateWatcher() {
  stop_ = true;
  thread_.join();
}

void StateWatcher::run(std::string endpoint) {
  zmq::context_t context(1);
  zmq::socket_t sub(context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  sub.set(zmq::sockopt::subscribe, std::string(kTopicPrefix));
  sub.connect(endpoint);
  while (!stop_) {
    zmq_pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
    if (zmq::poll(&item, 1, std::chrono::milliseconds(10)) == 0) continue;
    zmq::message_t topic;
    zmq::message_t body;
    if (!sub.recv(topic, zmq::recv_flags::none)) continue;
    if (!topic.more() || !sub.recv(body, zmq::recv_flags::none)) continue;
    const auto at = Clock::now();
    ++messages_;
    std::vector<Seen> records;
    if (topic.to_string_view() == kTopicDelta) {
      auto delta = decode_delta(body.to_string_view());
      if (!delta.ok()) {
        ++undecodable_;
        continue;
      }
      for (auto& r : delta.value().changes) records.push_back({std::move(r), at, false});
    } else if (topic.to_string_view() == kTopicSnapshot) {
      auto snapshot = decode_snapshot(body.to_string_view());
      if (!snapshot.ok()) {
        ++undecodable_;
        continue;
      }
      for (auto& r : snapshot.value().nodes) records.push_back({std::move(r), at, true});
    }
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& s : records) seen_.push_back(std::move(s));
  }
}

bool StateWatcher::wait_subscribed(std::chrono::milliseconds timeout) {
  return wait_until([this] { return messages_.load() > 0; }, timeout);
}

std::vector<StateWatcher::Seen> StateWatcher::seen(const std::string& node) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Seen> out;
  for (const auto& s : seen_) {
    if (s.record.node == node) out.push_back(s);
  }
  return out;
}

std::optional<StateWatcher::Seen> StateWatcher::first_delta(
    const std::string& node, NodeState state,
    const std::function<bool(const NodeRecord&)>& also) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& s : seen_) {
    if (s.from_snapshot || s.record.node != node || s.record.state != state) continue;
    if (also && !also(s.record)) continue;
    return s;
  }
  return std::nullopt;
}

std::optional<StateWatcher::Seen> StateWatcher::wait_delta(
    const std::string& node, NodeState state, std::chrono::milliseconds timeout,
    const std::function<bool(const NodeRecord&)>& also) const {
  std::optional<Seen> found;
  wait_until(
      [&] {
        found = first_delta(node, state, also);
        return found.has_value();
      },
      timeout, std::chrono::milliseconds(1));
  return found;
}

}  // namespace roster::testing
