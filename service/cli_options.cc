#include "cli_options.h"

#include <cctype>
#include <string>

namespace roster {

void add_environment_names(CLI::App& app, std::string_view prefix) {
  for (CLI::Option* option : app.get_options()) {
    if (option == app.get_help_ptr() || option == app.get_config_ptr()) continue;
    if (option->get_lnames().empty()) continue;
    std::string name(prefix);
    for (char c : option->get_lnames().front()) {
      name += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    option->envname(name);
  }
}

void add_log_options(CLI::App& app, std::string& level, const std::string& level_help,
                     std::string& format, const std::string& format_help) {
  app.add_option("--log-level", level, level_help)
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  app.add_option("--log-format", format, format_help)
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
}

}  // namespace roster
