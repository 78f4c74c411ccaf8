// Fuzz target: a hostile broker's whole conversation with a subscriber. The
// input is a sequence of messages (split at kSeparator); the first byte of
// each says what it is (low two bits: published snapshot, delta, beat or
// admin reply to the snapshot request) and how long after the previous one
// it came (the rest, in 100 ms steps); the remaining bytes are the body,
// decoded as the subscriber does. After every message and timer, the view
// must be consistent and agree with what the events told the controller:
// a controller that applies every change it is told of holds, for each
// node in the view, the view's record (since_ms aside: see check_agrees).
#include <map>
#include <string>
#include <variant>

#include "subscriber_fixture.h"

using namespace roster;
using namespace roster::fuzz;

namespace {

constexpr size_t kMaxMessages = 64;

// The controller's picture, built only from the events.
void follow(const subscriber::SyncOutput& out, std::map<std::string, NodeRecord>* model) {
  for (const subscriber::SyncEvent& event : out.events) {
    const auto* change = std::get_if<NodeChange>(&event);
    if (change == nullptr) continue;
    if (change->record.state == NodeState::kRemoved) {
      model->erase(change->record.node);
    } else {
      (*model)[change->record.node] = change->record;
    }
  }
}

void check_agrees(const subscriber::ViewSync& sync,
                  const std::map<std::string, NodeRecord>& model) {
  for (const auto& [id, record] : sync.view().nodes()) {
    auto it = model.find(id);
    ROSTER_FUZZ_CHECK(it != model.end());
    // since_ms may differ: a record another broker (another epoch) saw
    // since another time is taken without a change (PROTOCOL.md, "Following
    // the state", item 9).
    NodeRecord told = it->second;
    told.since_ms = record.since_ms;
    ROSTER_FUZZ_CHECK(told == record);
  }
}

// Decodes `body` as the message `kind` says and hands it to `sync`.
void deliver(unsigned kind, std::string_view body, TimeMs now, subscriber::ViewSync& sync,
             subscriber::SyncOutput& out) {
  switch (kind) {
    case 0: {
      auto snapshot = decode_snapshot(body);
      if (snapshot.ok()) sync.on_published_snapshot(snapshot.value(), now, out);
      return;
    }
    case 1: {
      auto delta = decode_delta(body);
      if (delta.ok()) sync.on_delta(delta.value(), now, out);
      return;
    }
    case 2: {
      auto beat = decode_beat(body);
      if (beat.ok()) sync.on_beat(beat.value(), now, out);
      return;
    }
    default: {
      auto reply = decode_admin_reply(body);
      if (!reply.ok()) return;
      if (const auto* snapshot = std::get_if<Snapshot>(&reply.value())) {
        sync.on_admin_snapshot(*snapshot, now, out);
      } else if (std::holds_alternative<ErrorReply>(reply.value())) {
        sync.on_admin_error(now, out);
      }
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  subscriber::ViewSync sync(subscriber_options());
  std::map<std::string, NodeRecord> model;
  TimeMs now = kStart;
  subscriber::SyncOutput started;
  sync.start(now, started);
  for (std::string_view message : split(as_body(data, size), kMaxMessages)) {
    if (message.empty()) continue;
    const auto head = static_cast<unsigned char>(message.front());
    message.remove_prefix(1);
    now += static_cast<TimeMs>(head >> 2) * 100;
    subscriber::SyncOutput out;
    sync.tick(now, out);
    deliver(head & 3u, message, now, sync, out);
    check_sync(sync, out);
    follow(out, &model);
    check_agrees(sync, model);
    ROSTER_FUZZ_CHECK(sync.next_deadline() > now);
  }
  return 0;
}
