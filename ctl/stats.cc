#include <future>
#include <iostream>
#include <variant>
#include <vector>

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

// `stats --all`: every broker's counters (asked at once), or why there are
// none. 0 only when every broker answered.
int run_stats_all(const CtlOptions& options) {
  std::vector<std::future<AdminCall>> calls;
  for (const std::string& admin : options.admin_endpoints) {
    calls.push_back(std::async(std::launch::async, [&admin, &options] {
      return call_admin(admin, StatsQuery{}, options.timeout_ms, options.curve);
    }));
  }
  bool all = true;
  nlohmann::json brokers = nlohmann::json::array();
  for (size_t i = 0; i < calls.size(); ++i) {
    const std::string& admin = options.admin_endpoints[i];
    AdminCall call = calls[i].get();
    nlohmann::json entry{{"admin", admin}};
    const Stats* stats = call.reply ? std::get_if<Stats>(&*call.reply) : nullptr;
    if (stats) {
      entry["stats"] = to_json(*stats);
    } else {
      all = false;
      std::string why = call.error;
      if (const auto* error = call.reply ? std::get_if<ErrorReply>(&*call.reply) : nullptr) {
        why = std::string(to_string(error->code)) + ": " + error->message;
      } else if (call.reply) {
        why = "unexpected reply to a stats request";
      }
      entry["error"] = why;
      std::cerr << "rosterctl: " << escape_for_terminal(admin) << ": " << escape_for_terminal(why)
                << "\n";
    }
    if (!options.json) {
      std::cout << (i == 0 ? "" : "\n") << "broker     " << escape_for_terminal(admin) << "\n";
      if (stats) {
        print_stats(*stats);
      } else {
        std::cout << "unreachable" << std::endl;
      }
    }
    brokers.push_back(std::move(entry));
  }
  if (options.json) std::cout << dump_line({{"brokers", brokers}}) << std::endl;
  return all ? 0 : 1;
}

}  // namespace

int run_stats(const CtlOptions& options, bool all) {
  if (all) return run_stats_all(options);
  return run_admin_command<Stats>(options, StatsQuery{}, "stats", print_stats);
}

}  // namespace roster::ctl
