// roster-agent run as a child process, for the tests against real brokers.
//
// Thread safety: none needed; a plain function.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "support/process.h"

namespace roster::testing {

// Starts roster-agent --node-id `node_id` with one --broker per entry of
// `brokers` (in order), then `extra`. Null if it could not be started.
inline std::unique_ptr<Process> start_agent(const std::vector<std::string>& brokers,
                                            const std::string& node_id,
                                            const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv = {bin("roster-agent"), "--node-id", node_id};
  for (const auto& b : brokers) argv.insert(argv.end(), {"--broker", b});
  argv.insert(argv.end(), extra.begin(), extra.end());
  return Process::start(argv);
}

}  // namespace roster::testing
