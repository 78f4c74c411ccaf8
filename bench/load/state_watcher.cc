#include "state_watcher.h"

#include <string_view>

#include "roster/clock.h"
#include "roster/codec.h"

namespace roster::bench {

StateWatcher::StateWatcher(zmq::context_t& ctx, const std::string& endpoint,
                           const std::vector<std::string>& topics)
    : thread_(&StateWatcher::receive_loop, this, &ctx, endpoint, topics) {}

StateWatcher::~StateWatcher() {
  stop_ = true;
  thread_.join();
}

bool StateWatcher::wait_live(std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!live_ && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return live_;
}

std::optional<StateWatcher::TimePoint> StateWatcher::first_seen(const std::string& node,
                                                                NodeState state) const {
  std::lock_guard<std::mutex> lock(mu_);
  const auto& seen = first_seen_[static_cast<size_t>(state)];
  auto it = seen.find(node);
  if (it == seen.end()) return std::nullopt;
  return it->second;
}

size_t StateWatcher::count_seen(NodeState state) const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_seen_[static_cast<size_t>(state)].size();
}

std::vector<StateWatcher::SnapshotArrival> StateWatcher::take_snapshots() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SnapshotArrival> out = std::move(snapshots_);
  snapshots_.clear();
  return out;
}

void StateWatcher::receive_loop(zmq::context_t* ctx, std::string endpoint,
                                std::vector<std::string> topics) {
  try {
    zmq::socket_t sub(*ctx, zmq::socket_type::sub);
    sub.set(zmq::sockopt::linger, 0);
    sub.set(zmq::sockopt::rcvhwm, 0);  // never drop: a lost delta would skew the figures
    sub.set(zmq::sockopt::subscribe, std::string(kTopicBeat));
    for (const auto& topic : topics) sub.set(zmq::sockopt::subscribe, topic);
    sub.connect(endpoint);
    zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
    zmq::message_t topic;
    zmq::message_t body;
    while (!stop_) {
      zmq::poll(&item, 1, std::chrono::milliseconds(20));
      while (sub.recv(topic, zmq::recv_flags::dontwait)) {
        if (!topic.more()) continue;
        if (!sub.recv(body, zmq::recv_flags::none)) break;
        live_ = true;
        on_message(topic.to_string(), body);
      }
    }
  } catch (const zmq::error_t&) {
    ++decode_errors_;
  }
}

void StateWatcher::on_message(const std::string& topic, const zmq::message_t& body) {
  const auto received = std::chrono::steady_clock::now();
  if (topic == kTopicSnapshot) {
    std::lock_guard<std::mutex> lock(mu_);
    snapshots_.push_back(SnapshotArrival{body.to_string(), unix_now_ms(), received});
    return;
  }
  if (topic != kTopicDelta) return;
  auto delta = decode_delta(std::string_view(body.data<char>(), body.size()));
  if (!delta.ok()) {
    ++decode_errors_;
    return;
  }
  ++deltas_;
  std::lock_guard<std::mutex> lock(mu_);
  for (const NodeRecord& record : delta.value().changes) {
    first_seen_[static_cast<size_t>(record.state)].emplace(record.node, received);
  }
}

}  // namespace roster::bench
