#include <iostream>

#include "admin_command.h"
#include "roster/snapshot_parts.h"
#include "roster/utf8.h"
#include "text_format.h"

namespace roster::ctl {

namespace {

void print_members(const Snapshot& snapshot) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& record : snapshot.nodes) {
    rows.push_back({escape_for_terminal(record.node), std::to_string(record.inc),
                    std::string(to_string(record.state)),
                    record.addr.empty() ? "-" : escape_for_terminal(record.addr),
                    format_labels(record.labels), format_time(record.since_ms)});
  }
  std::cout << format_table({"NODE", "INC", "STATE", "ADDR", "LABELS", "SINCE"}, rows);
  std::cout << snapshot.nodes.size() << " nodes, epoch " << snapshot.epoch << ", version "
            << snapshot.version << "\n";
  if (!snapshot.complete) {
    std::cout << "(the broker is warming up: a node missing from this list may still be alive)\n";
  }
  std::cout << std::flush;
}

}  // namespace

int run_members(const CtlOptions& options) {
  // In parts: no single message of a large cluster's snapshot.
  return run_admin_command<Snapshot>(options, SnapshotQuery{kClientPartBytes}, "snapshot",
                                     print_members);
}

}  // namespace roster::ctl
