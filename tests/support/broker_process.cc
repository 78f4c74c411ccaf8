#include "support/broker_process.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

namespace roster::testing {

namespace {
bool has_flag(const std::vector<std::string>& args, const std::string& flag) {
  for (const auto& a : args) {
    if (a == flag || a.rfind(flag + "=", 0) == 0) return true;
  }
  return false;
}

// Parses "key=value" lines; returns an empty map until all three endpoints
// are present (the broker writes the file atomically, but be safe).
std::map<std::string, std::string> read_ready_file(const std::string& path) {
  std::map<std::string, std::string> kv;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 1);
  }
  if (!kv.count("agents") || !kv.count("publish") || !kv.count("admin")) kv.clear();
  return kv;
}
}  // namespace

std::unique_ptr<BrokerProcess> BrokerProcess::start(const std::vector<std::string>& args) {
  return start(args, ProcessOptions{});
}

std::unique_ptr<BrokerProcess> BrokerProcess::start(const std::vector<std::string>& args,
                                                    const ProcessOptions& options) {
  std::unique_ptr<BrokerProcess> broker(new BrokerProcess());
  broker->dir_ = std::make_unique<TempDir>();
  const std::string ready = broker->dir_->file("ready");
  std::vector<std::string> argv = {bin("roster-broker")};
  if (!has_flag(args, "--agents")) argv.insert(argv.end(), {"--agents", "tcp://127.0.0.1:*"});
  if (!has_flag(args, "--publish")) argv.insert(argv.end(), {"--publish", "tcp://127.0.0.1:*"});
  if (!has_flag(args, "--admin")) argv.insert(argv.end(), {"--admin", "tcp://127.0.0.1:*"});
  argv.insert(argv.end(), {"--ready-file", ready});
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessOptions process_options = options;
  process_options.log_path = broker->dir_->file("broker.log");
  broker->process_ = Process::start(argv, process_options);
  if (!broker->process_) {
    ADD_FAILURE() << "cannot start " << argv[0];
    return nullptr;
  }
  std::map<std::string, std::string> kv;
  bool ready_ok = wait_until(
      [&] {
        kv = read_ready_file(ready);
        return !kv.empty() || !broker->process_->running();
      },
      std::chrono::seconds(10));
  if (!ready_ok || kv.empty()) {
    ADD_FAILURE() << "broker not ready; output:\n" << broker->process_->output();
    return nullptr;
  }
  broker->endpoints_ = {kv["agents"], kv["publish"], kv["admin"]};
  return broker;
}

std::vector<std::string> BrokerProcess::same_endpoint_args() const {
  return {"--agents", endpoints_.agents, "--publish", endpoints_.publish,
          "--admin", endpoints_.admin};
}

}  // namespace roster::testing
