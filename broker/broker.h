// roster-broker from bound sockets to clean shutdown.
#pragma once

#include "fd_limit.h"
#include "options.h"

namespace roster::broker {

// Exit statuses of roster-broker.
inline constexpr int kExitOk = 0;       // stopped by SIGTERM/SIGINT
inline constexpr int kExitFailure = 1;  // unexpected runtime failure
inline constexpr int kExitUsage = 2;    // bad flag, config file, endpoint or ready file

// Binds every socket, starts the publisher, writes the ready file, logs
// `fd_limit` (what raise_fd_limit() did) and the start, and serves until
// `stop_fd` (see shutdown_signal.h) becomes readable. Startup errors are
// printed to stderr as one line. Returns the exit status.
// REQUIRES: logging started (logging.h).
int run_broker(const BrokerOptions& options, int stop_fd, const FdLimit& fd_limit);

}  // namespace roster::broker
