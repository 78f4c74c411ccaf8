#include <iostream>

#include "admin_command.h"
#include "roster/utf8.h"

namespace roster::ctl {

int run_remove(const CtlOptions& options, const std::string& node, std::optional<uint64_t> inc) {
  return run_admin_command<RemovedReply>(
      options, RemoveCommand{node, inc}, "remove", [](const RemovedReply& removed) {
        std::cout << "removed " << escape_for_terminal(removed.node) << " (inc " << removed.inc
                  << ") at version " << removed.version << std::endl;
      });
}

}  // namespace roster::ctl
