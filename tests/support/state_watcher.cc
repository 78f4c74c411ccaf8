#include "support/state_watcher.h"

#include <zmq.hpp>

#include "roster/clock.h"
#include "roster/codec.h"
#include "support/low_priority.h"
#include "support/process.h"

namespace roster::testing {

StateWatcher::StateWatcher(const std::string& endpoint, Options options)
    : thread_(&StateWatcher::run, this, endpoint, std::move(options)) {}

StateWatcher::~StateWatcher() {
  stop_ = true;
  thread_.join();
}

void StateWatcher::run(std::string endpoint, Options options) {
  // Before the context: its I/O thread inherits the priority.
  if (options.low_priority) lower_this_thread_priority();
  try {
    zmq::context_t context(1);
    zmq::socket_t sub(context, zmq::socket_type::sub);
    sub.set(zmq::sockopt::linger, 0);
    sub.set(zmq::sockopt::rcvhwm, 0);  // never drop: a lost delta would skew the records
    sub.set(zmq::sockopt::subscribe, std::string(kTopicBeat));
    for (const auto& topic : options.topics) sub.set(zmq::sockopt::subscribe, topic);
    sub.connect(endpoint);
    zmq::pollitem_t item{sub.handle(), 0, ZMQ_POLLIN, 0};
    zmq::message_t topic;
    zmq::message_t body;
    while (!stop_) {
      zmq::poll(&item, 1, std::chrono::milliseconds(10));
      while (sub.recv(topic, zmq::recv_flags::dontwait)) {
        if (!topic.more()) continue;
        if (!sub.recv(body, zmq::recv_flags::none)) break;
        live_ = true;
        on_message(topic.to_string_view(), body.to_string_view(), options.keep_raw_snapshots);
      }
    }
  } catch (const zmq::error_t&) {
    ++undecodable_;
  }
}

void StateWatcher::on_message(std::string_view topic, std::string_view body,
                              bool keep_raw_snapshots) {
  const auto at = Clock::now();
  if (topic == kTopicSnapshot && keep_raw_snapshots) {
    if (!last_raw_snapshot_ || *last_raw_snapshot_ != body) {
      last_raw_snapshot_ = std::make_shared<const std::string>(body);
    }
    std::lock_guard<std::mutex> lock(mu_);
    snapshots_.push_back(SnapshotArrival{last_raw_snapshot_, unix_now_ms(), at});
    return;
  }
  std::vector<NodeRecord> records;
  const bool from_snapshot = topic == kTopicSnapshot;
  if (topic == kTopicDelta) {
    auto delta = decode_delta(body);
    if (!delta.ok()) {
      ++undecodable_;
      return;
    }
    ++deltas_;
    records = std::move(delta).value().changes;
  } else if (from_snapshot) {
    auto snapshot = decode_snapshot(body);
    if (!snapshot.ok()) {
      ++undecodable_;
      return;
    }
    records = std::move(snapshot).value().nodes;
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& record : records) {
    if (!from_snapshot) {
      first_delta_[static_cast<size_t>(record.state)].emplace(record.node, seen_.size());
    }
    seen_.push_back({std::move(record), at, from_snapshot});
  }
}

bool StateWatcher::wait_live(std::chrono::milliseconds timeout) const {
  return wait_until([this] { return live_.load(); }, timeout);
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
  if (!also) {
    const auto& index = first_delta_[static_cast<size_t>(state)];
    auto it = index.find(node);
    if (it == index.end()) return std::nullopt;
    return seen_[it->second];
  }
  for (const auto& s : seen_) {
    if (s.from_snapshot || s.record.node != node || s.record.state != state) continue;
    if (!also(s.record)) continue;
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

size_t StateWatcher::count_seen(NodeState state) const {
  std::lock_guard<std::mutex> lock(mu_);
  return first_delta_[static_cast<size_t>(state)].size();
}

std::vector<StateWatcher::SnapshotArrival> StateWatcher::take_snapshots() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<SnapshotArrival> out = std::move(snapshots_);
  snapshots_.clear();
  return out;
}

}  // namespace roster::testing
