#include "reload.h"

#include <spdlog/spdlog.h>

#include <string_view>
#include <variant>
#include <vector>

#include "logging.h"

namespace roster::broker {

void reload_settings(BrokerOptions& current) {
  spdlog::info("SIGHUP: reloading");
  if (current.config_file.empty()) {
    spdlog::info("SIGHUP: no --config file, nothing to reload (log level {})", current.log_level);
    return;
  }
  std::vector<const char*> argv = {"roster-broker"};
  for (const std::string& argument : current.arguments) argv.push_back(argument.c_str());
  ParseResult parsed = parse_options(static_cast<int>(argv.size()), argv.data());
  if (auto* exit = std::get_if<ParseExit>(&parsed)) {
    std::string_view problem = exit->text;
    constexpr std::string_view kPrefix = "roster-broker: ";
    if (problem.substr(0, kPrefix.size()) == kPrefix) problem.remove_prefix(kPrefix.size());
    spdlog::warn("SIGHUP: cannot reload {}: {}; keeping the current settings", current.config_file,
                 problem);
    return;
  }
  BrokerOptions fresh = std::get<BrokerOptions>(std::move(parsed));
  if (fresh.log_level == current.log_level) {
    spdlog::info("SIGHUP: log level {} (unchanged)", current.log_level);
  } else {
    // Logged before the change, so that it shows at the old level.
    spdlog::info("SIGHUP: log level {} -> {}", current.log_level, fresh.log_level);
    set_log_level(fresh.log_level);
    current.log_level = fresh.log_level;
  }
  if (describe(fresh) != describe(current)) {
    spdlog::warn(
        "SIGHUP: other settings changed in {} take effect at the next restart (only log-level is "
        "reloaded)",
        current.config_file);
  }
}

}  // namespace roster::broker
