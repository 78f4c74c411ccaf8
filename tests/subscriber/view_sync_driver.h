// A ViewSync driven by hand at a simulated time, for the tests of the
// subscriber's logic without sockets: a fixture base that hands it one
// message at now_ and returns what it did, and the events of a SyncOutput
// picked out by kind.
#pragma once

#include <gtest/gtest.h>

#include <variant>
#include <vector>

#include "view_sync.h"

namespace roster::subscriber {

// The node changes in `out`, in order.
inline std::vector<NodeChange> changes_of(const SyncOutput& out) {
  std::vector<NodeChange> changes;
  for (const auto& e : out.events) {
    if (auto* c = std::get_if<NodeChange>(&e)) changes.push_back(*c);
  }
  return changes;
}

// The reasons of the resyncs in `out`, in order.
inline std::vector<ResyncReason> resyncs_of(const SyncOutput& out) {
  std::vector<ResyncReason> reasons;
  for (const auto& e : out.events) {
    if (auto* r = std::get_if<ResyncEvent>(&e)) reasons.push_back(r->reason);
  }
  return reasons;
}

// The stale flags reported in `out`, in order.
inline std::vector<bool> stales_of(const SyncOutput& out) {
  std::vector<bool> stales;
  for (const auto& e : out.events) {
    if (auto* s = std::get_if<StaleEvent>(&e)) stales.push_back(s->stale);
  }
  return stales;
}

// A fixture base owning a ViewSync made with `options` and the time now_,
// starting at `start`; tests move now_ themselves.
class ViewSyncDriver : public ::testing::Test {
 protected:
  ViewSyncDriver(const SubscriberOptions& options, TimeMs start) : now_(start), sync_(options) {}

  // What the sync does with one message at now_.
  SyncOutput admin(const Snapshot& s) { return give(&ViewSync::on_admin_snapshot, s); }
  SyncOutput published(const Snapshot& s) { return give(&ViewSync::on_published_snapshot, s); }
  SyncOutput feed(const Delta& d) { return give(&ViewSync::on_delta, d); }
  SyncOutput feed(const Beat& b) { return give(&ViewSync::on_beat, b); }

  template <typename Message>
  SyncOutput give(void (ViewSync::*handler)(const Message&, TimeMs, SyncOutput&),
                  const Message& message) {
    SyncOutput out;
    (sync_.*handler)(message, now_, out);
    return out;
  }

  TimeMs now_;
  ViewSync sync_;
};

}  // namespace roster::subscriber
