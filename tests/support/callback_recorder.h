// Records every callback of a roster::Subscriber, for tests. Header-only:
// only tests that link roster_subscriber include it.
//
// Thread safety: the callbacks may run on the subscriber's thread while
// the accessors are called from any other.
#pragma once

#include <vector>

#include "roster/subscriber.h"
#include "support/guarded_list.h"

namespace roster::testing {

class CallbackRecorder {
 public:
  // Callbacks that append to the lists below.
  SubscriberCallbacks callbacks() {
    SubscriberCallbacks c;
    c.on_change = [this](const NodeChange& change) { changes_.add(change); };
    c.on_resync = [this](const View&, ResyncReason reason) { resyncs_.add(reason); };
    c.on_stale = [this](bool stale) { stales_.add(stale); };
    return c;
  }

  // What the callbacks were told so far, in order.
  std::vector<NodeChange> changes() const { return changes_.items(); }
  std::vector<ResyncReason> resyncs() const { return resyncs_.items(); }
  std::vector<bool> stales() const { return stales_.items(); }

 private:
  GuardedList<NodeChange> changes_;
  GuardedList<ResyncReason> resyncs_;
  GuardedList<bool> stales_;
};

}  // namespace roster::testing
