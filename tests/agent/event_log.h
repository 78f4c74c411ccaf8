// Collects what a roster::Agent reports through its callback, for tests.
//
// Thread safety: add() may run on the agent's thread while the test thread
// reads; the changes are kept in a GuardedList.
#pragma once

#include <chrono>
#include <vector>

#include "roster/agent.h"
#include "support/guarded_list.h"
#include "support/process.h"

namespace roster::testing {

class EventLog {
 public:
  // The callback to give the Agent. REQUIRES: the log outlives the agent.
  AgentCallback callback() {
    return [this](const AgentStateChange& change) { add(change); };
  }

  void add(const AgentStateChange& change) { changes_.add(change); }

  size_t count(AgentEvent event) const {
    return changes_.count_if([event](const AgentStateChange& c) { return c.event == event; });
  }

  // Waits until `event` was reported at least `times` times.
  bool wait_for(AgentEvent event, size_t times = 1,
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    return wait_until([&] { return count(event) >= times; }, timeout);
  }

  std::vector<AgentStateChange> changes() const { return changes_.items(); }

 private:
  GuardedList<AgentStateChange> changes_;
};

}  // namespace roster::testing
