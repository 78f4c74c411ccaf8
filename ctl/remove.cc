#include <iostream>
#include <variant>

#include "admin_client.h"
#include "commands.h"
#include "json_format.h"
#include "roster/utf8.h"

namespace roster::ctl {

int run_remove(const CtlOptions& options, const std::string& node, std::optional<uint64_t> inc) {
  auto reply = call_admin_or_report(options.admin_endpoint, AdminRequest{RemoveCommand{node, inc}},
                                    options.timeout_ms);
  if (!reply) return 1;
  const auto* removed = std::get_if<RemovedReply>(&*reply);
  if (!removed) {
    std::cerr << "rosterctl: unexpected reply to a remove request\n";
    return 1;
  }
  if (options.json) {
    std::cout << dump_line(to_json(*removed)) << std::endl;
    return 0;
  }
  std::cout << "removed " << escape_for_terminal(removed->node) << " (inc " << removed->inc
            << ") at version " << removed->version << std::endl;
  return 0;
}

}  // namespace roster::ctl
