#include <iostream>
#include <variant>

#include "admin_client.h"
#include "commands.h"
#include "json_format.h"
#include "roster/utf8.h"
#include "text_format.h"

namespace roster::ctl {

int run_members(const CtlOptions& options) {
  auto reply = call_admin_or_report(options.admin_endpoint, AdminRequest{SnapshotQuery{}},
                                    options.timeout_ms);
  if (!reply) return 1;
  const auto* snapshot = std::get_if<Snapshot>(&*reply);
  if (!snapshot) {
    std::cerr << "rosterctl: unexpected reply to a snapshot request\n";
    return 1;
  }
  if (options.json) {
    std::cout << dump_line(to_json(*snapshot)) << std::endl;
    return 0;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& record : snapshot->nodes) {
    rows.push_back({escape_for_terminal(record.node), std::to_string(record.inc),
                    std::string(to_string(record.state)),
                    record.addr.empty() ? "-" : escape_for_terminal(record.addr),
                    format_labels(record.labels), format_time(record.since_ms)});
  }
  std::cout << format_table({"NODE", "INC", "STATE", "ADDR", "LABELS", "SINCE"}, rows);
  std::cout << snapshot->nodes.size() << " nodes, epoch " << snapshot->epoch << ", version "
            << snapshot->version << "\n";
  if (!snapshot->complete) {
    std::cout << "(the broker is warming up: a node missing from this list may still be alive)\n";
  }
  std::cout << std::flush;
  return 0;
}

}  // namespace roster::ctl
