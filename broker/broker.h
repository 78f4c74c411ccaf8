// roster-broker from bound sockets to clean shutdown.
#pragma once

#include "fd_limit.h"
#include "options.h"
#include "startup_error.h"

namespace roster::broker {

// Binds every socket, starts the publisher, writes the ready file, logs
// `fd_limit` (what raise_fd_limit() did) and the start, and serves until
// a stop signal arrives on `signal_fd` (see shutdown_signal.h). Startup
// errors are printed to stderr as one line. Returns the exit status
// (startup_error.h): 0 after a stop signal, 1 or 2 when it cannot start.
// REQUIRES: logging started (logging.h).
int run_broker(const BrokerOptions& options, int signal_fd, const FdLimit& fd_limit);

}  // namespace roster::broker
