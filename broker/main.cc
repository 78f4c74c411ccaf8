// roster-broker: parses options, starts logging, runs the broker until
// SIGTERM or SIGINT. Exit statuses: startup_error.h and
// docs/OPERATIONS.md.
#include <iostream>
#include <variant>

#include "broker.h"
#include "fd_limit.h"
#include "logging.h"
#include "options.h"
#include "shutdown_signal.h"

int main(int argc, char** argv) {
  using namespace roster::broker;
  ParseResult parsed = parse_options(argc, argv);
  if (auto* exit = std::get_if<ParseExit>(&parsed)) {
    (exit->exit_status == 0 ? std::cout : std::cerr) << exit->text << std::endl;
    return exit->exit_status;
  }
  const BrokerOptions& options = std::get<BrokerOptions>(parsed);
  // Before any thread starts, so every thread inherits the blocked mask.
  int signal_fd = block_broker_signals();
  if (signal_fd < 0) {
    std::cerr << "roster-broker: cannot set up signal handling" << std::endl;
    return kExitFailure;
  }
  // Every connection holds a descriptor: take all the system allows.
  const FdLimit fd_limit = raise_fd_limit();
  start_logging(options.log_level, options.log_format);
  int status = kExitFailure;
  try {
    status = run_broker(options, signal_fd, fd_limit);
  } catch (const std::exception& e) {
    std::cerr << "roster-broker: fatal: " << e.what() << std::endl;
  }
  stop_logging();
  return status;
}
