// The agents of the redundant-pair tests: one roster-agent process per node,
// started with `--broker A --broker B` (the default --broker-mode all), so
// each keeps an independent session with every broker, one incarnation for
// all, and a removal seen from any broker fences it (exit 3).
//
// Thread safety: none; one thread calls everything.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "support/process.h"

namespace roster::e2e {

class PairFleet {
 public:
  // Starts one roster-agent per name of `nodes`, heartbeating every broker
  // of `agents_endpoints` with a lease of `lease_ms`; `dead_after` is the
  // brokers' --dead-after (the agent's duplicate-id rule needs it). Fails
  // the test if an agent cannot be started.
  PairFleet(const std::vector<std::string>& agents_endpoints, const std::set<std::string>& nodes,
            uint64_t lease_ms, const std::string& dead_after);
  // Kills every agent still running (a crash, no leave).
  ~PairFleet();
  PairFleet(const PairFleet&) = delete;
  PairFleet& operator=(const PairFleet&) = delete;

  // True once `node`'s agent exited with status 3 (removed by the operator).
  bool fenced(const std::string& node);
  // The nodes whose agent still runs.
  std::set<std::string> running();
  // The end of `node`'s agent log, for failure messages.
  std::string output_tail(const std::string& node) const;

 private:
  std::map<std::string, std::unique_ptr<testing::Process>> agents_;
};

}  // namespace roster::e2e
