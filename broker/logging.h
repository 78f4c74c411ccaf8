// The broker's logger: spdlog, asynchronous, to stderr. A full queue drops
// the oldest line instead of blocking the caller, so a flood of bad input
// can never stall the event loop on logging. Lines are text or JSON
// (service/log_format.h); text lines carry the syslog priority prefix when
// stderr is the systemd journal.
#pragma once

#include <string>

namespace roster::broker {

// Installs the asynchronous stderr logger as spdlog's default at `level`
// (an spdlog level name), writing `format` lines ("text" or "json"). Call
// once, before any thread logs.
void start_logging(const std::string& level, const std::string& format = "text");

// Sets the level of the running logger (an spdlog level name). Safe from
// any thread.
void set_log_level(const std::string& level);

// Flushes and stops the logger. Call once, after every thread stopped.
void stop_logging();

}  // namespace roster::broker
