#include <iostream>

#include "admin_command.h"
#include "roster/duration.h"
#include "roster/utf8.h"
#include "text_format.h"

namespace roster::ctl {

namespace {

void print_node(const NodeInfo& info) {
  const NodeRecord& r = info.record;
  std::cout << "node       " << escape_for_terminal(r.node) << "\n"
            << "inc        " << r.inc << "\n"
            << "state      " << to_string(r.state) << "\n"
            << "addr       " << (r.addr.empty() ? "-" : escape_for_terminal(r.addr)) << "\n"
            << "labels     " << format_labels(r.labels) << "\n"
            << "lease      " << format_duration_ms(r.lease_ms) << "\n"
            << "since      " << format_time(r.since_ms) << "\n"
            << "last seen  " << format_time(info.last_seen_ms) << std::endl;
}

}  // namespace

int run_node(const CtlOptions& options, const std::string& node) {
  return run_admin_command<NodeInfo>(options, NodeQuery{node}, "node", print_node);
}

}  // namespace roster::ctl
