#include <iostream>

#include "admin_command.h"
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

void print_stats(const Stats& stats) {
  std::cout << "epoch      " << stats.epoch << "\n"
            << "version    " << stats.version << "\n"
            << "nodes      " << stats.nodes << "\n"
            << "by state   " << format_counts(stats.by_state) << "\n"
            << "messages   " << stats.messages << "\n"
            << "errors     " << format_counts(stats.errors) << "\n"
            << "uptime     " << stats.uptime_ms / 1000 << "s\n"
            << "counters   " << format_counts(stats.counters) << std::endl;
}

}  // namespace

int run_stats(const CtlOptions& options) {
  return run_admin_command<Stats>(options, StatsQuery{}, "stats", print_stats);
}

}  // namespace roster::ctl
