// Collects what a roster::Agent reports through its callback, for tests.
//
// Thread safety: add() may run on the agent's thread while the test thread
// reads; everything is guarded by one mutex.
#pragma once

#include <algorithm>
#include <chrono>
#include <mutex>
#include <vector>

#include "roster/agent.h"
#include "support/process.h"

namespace roster::testing {

class EventLog {
 public:
  // The callback to give the Agent. REQUIRES: the log outlives the agent.
  AgentCallback callback() {
    return [this](const AgentStateChange& change) { add(change); };
  }

  void add(const AgentStateChange& change) {
    std::lock_guard<std::mutex> lock(mu_);
    changes_.push_back(change);
  }

  size_t count(AgentEvent event) const {
    std::lock_guard<std::mutex> lock(mu_);
    return std::count_if(changes_.begin(), changes_.end(),
                         [event](const AgentStateChange& c) { return c.event == event; });
  }

  // Waits until `event` was reported at least `times` times.
  bool wait_for(AgentEvent event, size_t times = 1,
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    return wait_until([&] { return count(event) >= times; }, timeout);
  }

  std::vector<AgentStateChange> changes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return changes_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<AgentStateChange> changes_;
};

}  // namespace roster::testing
