// Servers that announce their endpoints in a --ready-file (ready_file.h):
// a real roster-broker process for integration tests, bound to ephemeral
// loopback ports, and the generic start_server() the load benchmark uses
// for the broker under test and its ceiling ROUTER.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "ready_file.h"
#include "support/process.h"

namespace roster::testing {

// Endpoints a client connects to (read back from the broker's ready file).
using BrokerEndpoints = broker::ReadyInfo;

// A started server and the endpoints its ready file announced.
struct ServerProcess {
  std::unique_ptr<Process> process;
  BrokerEndpoints endpoints;
};

// Starts `argv` plus "--ready-file DIR/NAME.ready", logging to
// DIR/NAME.log, and waits up to `timeout` for the ready file. Returns false
// and sets *error (with the end of the server's log) when the server does
// not start or exits before it is ready.
bool start_server(const std::vector<std::string>& argv, const std::string& dir,
                  const std::string& name, std::chrono::milliseconds timeout, ServerProcess* server,
                  std::string* error);

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

  const BrokerEndpoints& endpoints() const { return server_.endpoints; }
  Process& process() { return *server_.process; }
  // The endpoints as --agents/--publish/--admin arguments with the real
  // ports, so a restarted broker binds the same addresses.
  std::vector<std::string> same_endpoint_args() const;

 private:
  BrokerProcess() = default;
  std::unique_ptr<TempDir> dir_;
  ServerProcess server_;
};

}  // namespace roster::testing
