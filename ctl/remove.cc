#include <future>
#include <iostream>
#include <variant>
#include <vector>

#include "admin_command.h"
#include "json_format.h"
#include "roster/utf8.h"

namespace roster::ctl {

namespace {

void print_removed(const RemovedReply& removed) {
  std::cout << "removed " << escape_for_terminal(removed.node) << " (inc " << removed.inc
            << ") at version " << removed.version << std::endl;
}

// What one broker of several made of the removal.
struct BrokerResult {
  std::string admin;
  AdminCall call;
};

// Every broker at once, so an unreachable one costs one timeout, not one
// per broker.
std::vector<BrokerResult> remove_everywhere(const CtlOptions& options,
                                            const RemoveCommand& command) {
  std::vector<std::future<AdminCall>> calls;
  for (const std::string& admin : options.admin_endpoints) {
    calls.push_back(std::async(std::launch::async, [&admin, &command, &options] {
      return call_admin(admin, command, options.timeout_ms, options.curve);
    }));
  }
  std::vector<BrokerResult> results;
  for (size_t i = 0; i < calls.size(); ++i) {
    results.push_back({options.admin_endpoints[i], calls[i].get()});
  }
  return results;
}

// Several brokers: one line (or JSON entry) per broker, then the verdict.
int report_each(const CtlOptions& options, const std::string& node,
                const std::vector<BrokerResult>& results) {
  size_t removed = 0;
  size_t refused = 0;
  std::vector<std::string> unreachable;
  nlohmann::json brokers = nlohmann::json::array();
  for (const BrokerResult& result : results) {
    const std::string admin = escape_for_terminal(result.admin);
    nlohmann::json entry{{"admin", result.admin}};
    if (result.call.replaced_strings > 0) {
      std::cerr << "rosterctl: warning: replaced invalid UTF-8 in " << result.call.replaced_strings
                << " strings from the broker at " << admin << "\n";
    }
    if (!result.call.reply) {
      unreachable.push_back(result.admin);
      entry["result"] = "unreachable";
      entry["error"] = result.call.error;
      if (!options.json) std::cout << admin << ": unreachable: " << result.call.error << "\n";
    } else if (const auto* done = std::get_if<RemovedReply>(&*result.call.reply)) {
      ++removed;
      entry["result"] = "removed";
      entry["inc"] = done->inc;
      entry["version"] = done->version;
      if (!options.json) {
        std::cout << admin << ": removed " << escape_for_terminal(done->node) << " (inc "
                  << done->inc << ") at version " << done->version << "\n";
      }
    } else if (const auto* error = std::get_if<ErrorReply>(&*result.call.reply)) {
      ++refused;
      entry["result"] = "error";
      entry["code"] = to_string(error->code);
      entry["message"] = error->message;
      if (!options.json) {
        std::cout << admin << ": " << to_string(error->code) << ": "
                  << escape_for_terminal(error->message) << "\n";
      }
    } else {
      ++refused;
      entry["result"] = "error";
      entry["code"] = "unexpected_reply";
      if (!options.json) std::cout << admin << ": unexpected reply to a remove request\n";
    }
    brokers.push_back(std::move(entry));
  }
  const bool ok = removed > 0 && refused == 0;
  if (options.json) {
    std::cout << dump_line({{"node", node},
                            {"removed", ok},
                            {"brokers", brokers},
                            {"unreachable", unreachable}})
              << std::endl;
  }
  std::cout << std::flush;
  if (!unreachable.empty()) {
    std::string names;
    for (const auto& admin : unreachable) names += (names.empty() ? "" : ", ") + admin;
    std::cerr << "rosterctl: unreachable, not removed there: " << escape_for_terminal(names)
              << "\n";
  }
  if (removed == 0)
    std::cerr << "rosterctl: no broker removed " << escape_for_terminal(node) << "\n";
  return ok ? 0 : 1;
}

}  // namespace

int run_remove(const CtlOptions& options, const std::string& node, std::optional<uint64_t> inc) {
  const RemoveCommand command{node, inc};
  if (options.admin_endpoints.size() == 1) {
    return run_admin_command<RemovedReply>(options, command, "remove", print_removed);
  }
  return report_each(options, node, remove_everywhere(options, command));
}

}  // namespace roster::ctl
