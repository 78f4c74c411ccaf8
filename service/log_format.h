// How roster-broker and roster-agent write their log lines: one timestamp
// format (RFC 3339 in UTC with milliseconds, "2026-12-01T03:04:05.123Z")
// and two layouts:
//
//   text  2026-12-01T03:04:05.123Z LEVEL MESSAGE
//         with the sd-daemon(3) priority prefix ("<6>") in front when
//         stderr is the systemd journal, so that `journalctl -p warning`
//         selects by level
//   json  {"ts":"2026-12-01T03:04:05.123Z","level":"info",
//          "logger":"roster-broker","msg":"MESSAGE"}
//         one object per line, valid JSON whatever MESSAGE holds (escaped;
//         ill-formed UTF-8 replaced by U+FFFD); never a prefix
//
// LEVEL is spdlog's name: trace, debug, info, warning, error, critical.
//
// Thread safety: the functions are pure or read the environment only;
// a formatter is used by one logging thread at a time (spdlog's contract).
#pragma once

#include <spdlog/formatter.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace roster::service {

enum class LogFormat { kText, kJson };

// "text" or "json"; nullopt for anything else.
std::optional<LogFormat> parse_log_format(std::string_view name);

// The values --log-format accepts, for help texts and checks.
inline constexpr const char* kLogFormatNames[] = {"text", "json"};

// True when systemd connected stderr to the journal: JOURNAL_STREAM holds
// "DEVICE:INODE" of stderr (a redirected stderr is not the journal).
bool stderr_is_journal();

// The syslog priority of an spdlog level: trace and debug 7, info 6, warn
// 4, error 3, critical 2.
int syslog_priority(spdlog::level::level_enum level);

// "2026-12-01T03:04:05.123Z": RFC 3339, UTC, milliseconds.
std::string rfc3339_utc(std::chrono::system_clock::time_point time);

// One log line, with its final newline. `journal` adds the priority prefix
// to text lines.
std::string format_log_line(LogFormat format, bool journal, spdlog::level::level_enum level,
                            std::chrono::system_clock::time_point time, std::string_view logger,
                            std::string_view message);

// An spdlog formatter writing format_log_line() lines.
std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format, bool journal);

}  // namespace roster::service
