// Command-line options the roster-broker and roster-agent programs share.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <string_view>

namespace roster {

// Adds --config FILE (TOML/INI, one 'option = value' line per long option
// name without the dashes; described by `config_help`), whose default is the
// environment variable `prefix` + "CONFIG" and which must exist when named
// either way; then lets every long option of `app` but --help and --config
// also come from the environment variable `prefix` + its first long name in
// upper case with '-' as '_': with prefix "ROSTER_BROKER_", --max-lease from
// ROSTER_BROKER_MAX_LEASE. Call it after every other option has been added.
void add_config_and_environment(CLI::App& app, std::string_view prefix,
                                const std::string& config_help);

// Adds --log-level into `level` (one of trace, debug, info, warn, error,
// critical, off) and --log-format into `format` (text or json; see
// log_format.h), each with its help text and its current value shown as the
// default.
void add_log_options(CLI::App& app, std::string& level, const std::string& level_help,
                     std::string& format, const std::string& format_help);

// Adds --http ADDR:PORT into `address` (empty, the default: no HTTP
// endpoints), described by `help`; an address that parse_http_address()
// (http/http_address.h) refuses is a parse error.
void add_http_option(CLI::App& app, std::string& address, const std::string& help);

}  // namespace roster
