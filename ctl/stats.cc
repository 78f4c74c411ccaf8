#include <iostream>
#include <variant>

#include "admin_client.h"
#include "commands.h"
#include "json_format.h"
#include "roster/utf8.h"

namespace roster::ctl {

namespace {
// "alive=3 suspect=1", or "-" when empty.
std::string format_counts(const std::map<std::string, uint64_t>& counts) {
  if (counts.empty()) return "-";
  std::string out;
  for (const auto& [name, count] : counts) {
    if (!out.empty()) out += ' ';
    out += escape_for_terminal(name) + '=' + std::to_string(count);
  }
  return out;
}
}  // namespace

int run_stats(const CtlOptions& options) {
  auto reply =
      call_admin_or_report(options.admin_endpoint, AdminRequest{StatsQuery{}}, options.timeout_ms);
  if (!reply) return 1;
  const auto* stats = std::get_if<Stats>(&*reply);
  if (!stats) {
    std::cerr << "rosterctl: unexpected reply to a stats request\n";
    return 1;
  }
  if (options.json) {
    std::cout << dump_line(to_json(*stats)) << std::endl;
    return 0;
  }
  std::cout << "epoch      " << stats->epoch << "\n"
            << "version    " << stats->version << "\n"
            << "nodes      " << stats->nodes << "\n"
            << "by state   " << format_counts(stats->by_state) << "\n"
            << "messages   " << stats->messages << "\n"
            << "errors     " << format_counts(stats->errors) << "\n"
            << "uptime     " << stats->uptime_ms / 1000 << "s\n"
            << "counters   " << format_counts(stats->counters) << std::endl;
  return 0;
}

}  // namespace roster::ctl
