// The agents of the redundant-pair tests: a fleet of nodes, each keeping an
// independent session with every listed broker (join, heartbeat every
// lease/3, join again on unknown_node), one incarnation for all brokers,
// driven by one thread of its own. A node told `removed` by any broker is
// fenced: it stops talking to every broker, as a roster-agent heartbeating
// several brokers stops and exits 3.
//
// It stands in for roster-agent processes started with `--broker A
// --broker B` until the agent heartbeats every broker; switching the tests
// to real agents is a change of this one helper (tests/e2e/pair_fleet.*).
//
// Thread safety: every public member may be called from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "roster/protocol.h"

namespace roster::e2e {

class PairFleet {
 public:
  // Starts `nodes`, each joining every broker of `agents_endpoints` with a
  // lease of `lease_ms`, and the fleet's thread.
  PairFleet(std::vector<std::string> agents_endpoints, const std::set<std::string>& nodes,
            uint64_t lease_ms);
  // Stops the thread; the nodes stop talking (a crash, no leave).
  ~PairFleet();
  PairFleet(const PairFleet&) = delete;
  PairFleet& operator=(const PairFleet&) = delete;

  // True once a broker told `node` it was removed (it then stopped).
  bool fenced(const std::string& node) const;
  // The nodes not fenced.
  std::set<std::string> running() const;
  // The incarnation `node` uses with every broker (0 if unknown).
  uint64_t inc(const std::string& node) const;
  // Error replies received from any broker, by code.
  std::map<ErrorCode, uint64_t> errors() const;

 private:
  struct Node;
  void run();

  const std::vector<std::string> endpoints_;
  const uint64_t lease_ms_;
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Node>> nodes_;
  std::map<ErrorCode, uint64_t> errors_;
  uint64_t next_inc_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace roster::e2e
