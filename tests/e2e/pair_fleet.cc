#include "pair_fleet.h"

#include <gtest/gtest.h>

namespace roster::e2e {

PairFleet::PairFleet(const std::vector<std::string>& agents_endpoints,
                     const std::set<std::string>& nodes, uint64_t lease_ms,
                     const std::string& dead_after) {
  for (const auto& node : nodes) {
    std::vector<std::string> argv = {testing::bin("roster-agent")};
    for (const auto& endpoint : agents_endpoints) {
      argv.push_back("--broker");
      argv.push_back(endpoint);
    }
    const std::vector<std::string> rest = {
        "--node-id",    node,          "--lease",     std::to_string(lease_ms) + "ms",
        "--addr",       "127.0.0.1:3", "--label",     "e2e=pair",
        "--dead-after", dead_after,    "--log-level", "warn"};
    argv.insert(argv.end(), rest.begin(), rest.end());
    auto agent = testing::Process::start(argv);
    if (!agent) ADD_FAILURE() << "cannot start the agent of " << node;
    agents_[node] = std::move(agent);
  }
}

PairFleet::~PairFleet() = default;

bool PairFleet::fenced(const std::string& node) {
  auto it = agents_.find(node);
  if (it == agents_.end() || !it->second) return false;
  const auto status = it->second->wait_exit(std::chrono::milliseconds(0));
  return status && *status == 3;
}

std::set<std::string> PairFleet::running() {
  std::set<std::string> out;
  for (auto& [node, agent] : agents_) {
    if (agent && agent->running()) out.insert(node);
  }
  return out;
}

std::string PairFleet::output_tail(const std::string& node) const {
  auto it = agents_.find(node);
  return it == agents_.end() || !it->second ? "" : it->second->output_tail();
}

}  // namespace roster::e2e
