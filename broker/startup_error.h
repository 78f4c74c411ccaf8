// How roster-broker fails to start: one line for stderr and an exit status
// that tells a supervisor whether to try again (docs/OPERATIONS.md, "Exit
// statuses").
#pragma once

#include <string>
#include <string_view>

#include <zmq.hpp>

namespace roster::broker {

// Exit statuses of roster-broker.
inline constexpr int kExitOk = 0;  // stopped by SIGTERM/SIGINT
// A failure that may pass: an endpoint in use or not (yet) available, a
// ready file that cannot be written, a runtime failure. systemd's
// Restart=on-failure restarts it.
inline constexpr int kExitFailure = 1;
// A bad command line or config file: a bad flag, value, combination, or an
// endpoint that can never be bound as written. Restarting cannot help.
inline constexpr int kExitUsage = 2;

struct StartupError {
  std::string message;  // one line, without the "roster-broker: " prefix
  int exit_status = kExitFailure;
};

// The failure to bind `endpoint` given as `flag` (e.g. "--agents"):
// kExitUsage when the endpoint is malformed or names a transport the socket
// cannot use (EINVAL, EPROTONOSUPPORT, ENOCOMPATPROTO, EAFNOSUPPORT), else
// kExitFailure (address in use, address or interface not on this host, ipc
// directory missing, ...).
StartupError bind_failure(std::string_view flag, const std::string& endpoint,
                          const zmq::error_t& error);

}  // namespace roster::broker
