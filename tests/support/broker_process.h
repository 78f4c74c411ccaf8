// A real roster-broker process for integration tests, bound to ephemeral
// loopback ports. The broker writes its resolved endpoints to --ready-file
// once every socket is bound; start() waits for that file.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "support/process.h"

namespace roster::testing {

// Endpoints a client connects to (read back from the broker's ready file).
struct BrokerEndpoints {
  std::string agents;
  std::string publish;
  std::string admin;
};

class BrokerProcess {
 public:
  // Starts bin("roster-broker") with --agents/--publish/--admin on
  // tcp://127.0.0.1:* (unless `args` sets them), --ready-file, and `args`.
  // Returns nullptr (and reports a gtest failure with the broker's output)
  // if the broker is not ready within 10 s.
  static std::unique_ptr<BrokerProcess> start(const std::vector<std::string>& args = {});
  // The same, started with `options` (its log_path is ignored: the broker
  // logs to a file of its own temp dir).
  static std::unique_ptr<BrokerProcess> start(const std::vector<std::string>& args,
                                              const ProcessOptions& options);

  const BrokerEndpoints& endpoints() const { return endpoints_; }
  Process& process() { return *process_; }
  // The endpoints as --agents/--publish/--admin arguments with the real
  // ports, so a restarted broker binds the same addresses.
  std::vector<std::string> same_endpoint_args() const;

 private:
  BrokerProcess() = default;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<Process> process_;
  BrokerEndpoints endpoints_;
};

}  // namespace roster::testing
