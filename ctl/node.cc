#include <iostream>
#include <variant>

#include "admin_client.h"
#include "commands.h"
#include "json_format.h"
#include "roster/duration.h"
#include "roster/utf8.h"
#include "text_format.h"

namespace roster::ctl {

int run_node(const CtlOptions& options, const std::string& node) {
  auto reply = call_admin_or_report(options.admin_endpoint, AdminRequest{NodeQuery{node}},
                                    options.timeout_ms);
  if (!reply) return 1;
  const auto* info = std::get_if<NodeInfo>(&*reply);
  if (!info) {
    std::cerr << "rosterctl: unexpected reply to a node request\n";
    return 1;
  }
  if (options.json) {
    std::cout << dump_line(to_json(*info)) << std::endl;
    return 0;
  }
  const NodeRecord& r = info->record;
  std::cout << "node       " << escape_for_terminal(r.node) << "\n"
            << "inc        " << r.inc << "\n"
            << "state      " << to_string(r.state) << "\n"
            << "addr       " << (r.addr.empty() ? "-" : escape_for_terminal(r.addr)) << "\n"
            << "labels     " << format_labels(r.labels) << "\n"
            << "lease      " << format_duration_ms(r.lease_ms) << "\n"
            << "since      " << format_time(r.since_ms) << "\n"
            << "last seen  " << format_time(info->last_seen_ms) << std::endl;
  return 0;
}

}  // namespace roster::ctl
