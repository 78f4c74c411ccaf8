// The broker's signals as a file descriptor the event loop polls, so that
// every signal is an ordinary event: no handler runs inside a ZeroMQ call,
// and no thread sees EINTR.
//
//   SIGTERM, SIGINT    stop (exit 0)
//   SIGHUP             reload what can be reloaded (reload.h)
//   SIGUSR1, SIGUSR2   log a one-line status
//   SIGPIPE            ignored: a write to a closed pipe or socket (e.g. the
//                      reader of stderr went away) fails with EPIPE instead
//                      of killing the process
#pragma once

namespace roster::broker {

// Ignores SIGPIPE, blocks the other signals above in the calling thread and
// returns a signalfd that becomes readable when one arrives; -1 on failure.
// Call before starting any thread (threads inherit the mask) so that no
// thread takes a signal's default action.
int block_broker_signals();

// Reads one pending signal from `fd`; its number, or 0 if none.
int take_signal(int fd);

// True for the signals that stop the broker (SIGTERM, SIGINT).
bool is_stop_signal(int signal);

// The signal's name for logs, e.g. "SIGHUP".
const char* signal_name(int signal);

}  // namespace roster::broker
