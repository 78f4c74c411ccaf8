#include "cli_options.h"

#include <cctype>
#include <cstdlib>
#include <iterator>
#include <string>
#include <vector>

#include "http_address.h"
#include "log_format.h"

namespace roster {

namespace {
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
}  // namespace

void add_config_and_environment(CLI::App& app, std::string_view prefix,
                                const std::string& config_help) {
  const char* config_from_environment = std::getenv((std::string(prefix) + "CONFIG").c_str());
  std::string default_config = config_from_environment ? config_from_environment : "";
  app.set_config("--config", default_config, config_help, !default_config.empty())
      ->type_name("FILE");
  app.allow_config_extras(false);
  add_environment_names(app, prefix);
}

void add_log_options(CLI::App& app, std::string& level, const std::string& level_help,
                     std::string& format, const std::string& format_help) {
  app.add_option("--log-level", level, level_help)
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
  app.add_option("--log-format", format, format_help)
      ->check(CLI::IsMember(std::vector<std::string>(std::begin(service::kLogFormatNames),
                                                     std::end(service::kLogFormatNames))))
      ->capture_default_str();
}

void add_http_option(CLI::App& app, std::string& address, const std::string& help) {
  app.add_option("--http", address, help)
      ->type_name("ADDR:PORT")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            if (http::parse_http_address(text)) return {};
            return "invalid --http address '" + text +
                   "' (expected ADDR:PORT, e.g. 127.0.0.1:9464 or [::1]:9464)";
          },
          "", "http address"));
}

}  // namespace roster
