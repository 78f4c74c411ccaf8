#include "support/broker_process.h"

#include <gtest/gtest.h>
#include <unistd.h>

namespace roster::testing {

namespace {
bool has_flag(const std::vector<std::string>& args, const std::string& flag) {
  for (const auto& a : args) {
    if (a == flag || a.rfind(flag + "=", 0) == 0) return true;
  }
  return false;
}

bool start_server(const std::vector<std::string>& argv, const std::string& dir,
                  const std::string& name, std::chrono::milliseconds timeout,
                  const ProcessOptions& options, ServerProcess* server, std::string* error) {
  const std::string ready = dir + "/" + name + ".ready";
  unlink(ready.c_str());
  std::vector<std::string> full = argv;
  full.insert(full.end(), {"--ready-file", ready});
  ProcessOptions process_options = options;
  process_options.log_path = dir + "/" + name + ".log";
  server->process = Process::start(full, process_options, error);
  if (!server->process) return false;
  std::optional<broker::ReadyInfo> info;
  wait_until(
      [&] {
        info = broker::read_ready_file(ready);
        return info || !server->process->running();
      },
      timeout);
  if (info) {
    server->endpoints = std::move(*info);
    return true;
  }
  *error = name + " not ready (" + argv[0] + "); its output:\n" + server->process->output_tail();
  return false;
}
}  // namespace

bool start_server(const std::vector<std::string>& argv, const std::string& dir,
                  const std::string& name, std::chrono::milliseconds timeout, ServerProcess* server,
                  std::string* error) {
  return start_server(argv, dir, name, timeout, ProcessOptions{}, server, error);
}

std::unique_ptr<BrokerProcess> BrokerProcess::start(const std::vector<std::string>& args) {
  return start(args, ProcessOptions{});
}

std::unique_ptr<BrokerProcess> BrokerProcess::start(const std::vector<std::string>& args,
                                                    const ProcessOptions& options) {
  std::unique_ptr<BrokerProcess> broker(new BrokerProcess());
  broker->dir_ = std::make_unique<TempDir>();
  std::vector<std::string> argv = {bin("roster-broker")};
  if (!has_flag(args, "--agents")) argv.insert(argv.end(), {"--agents", "tcp://127.0.0.1:*"});
  if (!has_flag(args, "--publish")) argv.insert(argv.end(), {"--publish", "tcp://127.0.0.1:*"});
  if (!has_flag(args, "--admin")) argv.insert(argv.end(), {"--admin", "tcp://127.0.0.1:*"});
  argv.insert(argv.end(), args.begin(), args.end());
  std::string error;
  if (!start_server(argv, broker->dir_->path(), "broker", std::chrono::seconds(10), options,
                    &broker->server_, &error)) {
    ADD_FAILURE() << error;
    return nullptr;
  }
  return broker;
}

std::vector<std::string> BrokerProcess::same_endpoint_args() const {
  const BrokerEndpoints& ep = endpoints();
  return {"--agents", ep.agents, "--publish", ep.publish, "--admin", ep.admin};
}

}  // namespace roster::testing
