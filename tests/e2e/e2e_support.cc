#include "e2e_support.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>
#include <variant>

namespace roster::e2e {

uint64_t unix_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::unique_ptr<BrokerProcess> start_broker(const std::vector<std::string>& args) {
  std::vector<std::string> all = args;
  all.insert(all.end(), {"--beat-interval", std::to_string(kBeatMs) + "ms"});
  return BrokerProcess::start(all);
}

CtlJson rosterctl_json(const testing::BrokerEndpoints& broker,
                       const std::vector<std::string>& args) {
  std::vector<std::string> argv = {
      testing::bin("rosterctl"), "--admin", broker.admin, "--state", broker.publish, "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  testing::CommandResult result = testing::run_command(argv);
  CtlJson out;
  out.exit_status = result.exit_status;
  out.err = result.err;
  out.json = nlohmann::json::parse(result.out, nullptr, /*allow_exceptions=*/false);
  if (out.json.is_discarded()) out.json = nullptr;
  return out;
}

std::string ctl_node_state(const testing::BrokerEndpoints& broker, const std::string& node) {
  CtlJson result = rosterctl_json(broker, {"node", node});
  if (result.exit_status == 0 && result.json.is_object() && result.json.contains("state")) {
    return result.json["state"].get<std::string>();
  }
  if (result.exit_status == 1 && result.err.find("unknown_node") != std::string::npos) {
    return "absent";
  }
  return "error";
}

std::unique_ptr<testing::Process> start_agent(const std::string& agents_endpoint,
                                              const std::string& node, const std::string& lease,
                                              const std::vector<std::string>& extra) {
  std::vector<std::string> argv = {testing::bin("roster-agent"),
                                   "--broker",
                                   agents_endpoint,
                                   "--node-id",
                                   node,
                                   "--lease",
                                   lease,
                                   "--addr",
                                   "127.0.0.1:1",
                                   "--label",
                                   "e2e=yes"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return testing::Process::start(argv);
}

std::unique_ptr<RecordingSubscriber> RecordingSubscriber::start(
    const testing::BrokerEndpoints& broker, uint64_t beat_interval_ms, int receive_hwm) {
  SubscriberOptions options;
  options.state_endpoint = broker.publish;
  options.admin_endpoint = broker.admin;
  options.beat_interval_ms = beat_interval_ms;
  options.receive_hwm = receive_hwm;
  return start_with(std::move(options));
}

std::unique_ptr<RecordingSubscriber> RecordingSubscriber::start(
    const std::vector<testing::BrokerEndpoints>& brokers, uint64_t beat_interval_ms) {
  SubscriberOptions options;
  for (const auto& broker : brokers) options.brokers.push_back({broker.publish, broker.admin});
  options.beat_interval_ms = beat_interval_ms;
  return start_with(std::move(options));
}

std::unique_ptr<RecordingSubscriber> RecordingSubscriber::start_with(SubscriberOptions options) {
  std::unique_ptr<RecordingSubscriber> recorder(new RecordingSubscriber());
  RecordingSubscriber* self = recorder.get();
  SubscriberCallbacks callbacks;
  callbacks.on_change = [self](const NodeChange& change) {
    std::lock_guard<std::mutex> lock(self->mutex_);
    self->changes_.push_back(change);
  };
  callbacks.on_resync = [self](const View& view, ResyncReason reason) {
    ResyncRecord record{reason, view.epoch(), view.version(), view.complete(), {}};
    for (const auto& entry : view.nodes()) record.nodes.push_back(entry.first);
    std::lock_guard<std::mutex> lock(self->mutex_);
    self->resyncs_.push_back(std::move(record));
  };
  callbacks.on_stale = [self](bool stale) {
    std::lock_guard<std::mutex> lock(self->mutex_);
    self->stale_.push_back(stale);
  };
  std::string error;
  recorder->subscriber_ = Subscriber::create(options, callbacks, &error);
  if (!recorder->subscriber_) {
    ADD_FAILURE() << "cannot create a subscriber: " << error;
    return nullptr;
  }
  recorder->subscriber_->start();
  return recorder;
}

RecordingSubscriber::~RecordingSubscriber() {
  if (subscriber_) subscriber_->stop();
}

std::vector<NodeChange> RecordingSubscriber::changes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return changes_;
}

std::vector<ResyncRecord> RecordingSubscriber::resyncs() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return resyncs_;
}

std::vector<bool> RecordingSubscriber::stale_events() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stale_;
}

std::vector<NodeState> RecordingSubscriber::states_of(const std::string& node) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<NodeState> states;
  for (const auto& change : changes_) {
    if (change.record.node == node) states.push_back(change.record.state);
  }
  return states;
}

std::optional<NodeChange> RecordingSubscriber::removal_of(const std::string& node,
                                                          uint64_t inc) const {
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto& change : changes_) {
    if (change.record.node == node && change.record.inc == inc &&
        change.record.state == NodeState::kRemoved) {
      return change;
    }
  }
  return std::nullopt;
}

std::vector<NodeRecord> view_nodes(const View& view) {
  std::vector<NodeRecord> nodes;
  for (const auto& entry : view.nodes()) nodes.push_back(entry.second);
  return nodes;
}

bool view_matches(const View& view, const Snapshot& snapshot) {
  if (!view.has_base() || view.epoch() != snapshot.epoch || view.version() != snapshot.version) {
    return false;
  }
  std::vector<NodeRecord> expected = snapshot.nodes;
  std::sort(expected.begin(), expected.end(),
            [](const NodeRecord& a, const NodeRecord& b) { return a.node < b.node; });
  return view_nodes(view) == expected;
}

bool all_alive(const std::optional<Snapshot>& snapshot, const std::set<std::string>& nodes) {
  if (!snapshot) return false;
  std::set<std::string> alive;
  for (const auto& record : snapshot->nodes) {
    if (record.state == NodeState::kAlive) alive.insert(record.node);
  }
  return alive == nodes;
}

std::optional<Snapshot> wait_in_step(const std::string& admin_endpoint,
                                     const RecordingSubscriber& subscriber,
                                     const std::function<bool(const Snapshot&)>& settled,
                                     std::chrono::milliseconds timeout) {
  std::optional<Snapshot> snapshot;
  const bool in_step = wait_until(
      [&] {
        snapshot = admin_snapshot(admin_endpoint);
        return snapshot && settled(*snapshot) && view_matches(subscriber.view(), *snapshot);
      },
      timeout, std::chrono::milliseconds(50));
  if (!in_step) return std::nullopt;
  return snapshot;
}

std::string describe(const std::vector<NodeState>& states) {
  std::string out;
  for (NodeState state : states) {
    if (!out.empty()) out += ",";
    out += std::string(to_string(state));
  }
  return out;
}

bool holds_for(const std::function<bool()>& condition, std::chrono::milliseconds duration,
               std::chrono::milliseconds poll) {
  const auto end = std::chrono::steady_clock::now() + duration;
  while (std::chrono::steady_clock::now() < end) {
    if (!condition()) return false;
    std::this_thread::sleep_for(poll);
  }
  return condition();
}

}  // namespace roster::e2e
