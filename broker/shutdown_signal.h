// SIGTERM and SIGINT as a file descriptor the event loop polls, so that
// shutdown is an ordinary event: no handler runs inside a ZeroMQ call, and
// no thread sees EINTR.
#pragma once

namespace roster::broker {

// Blocks SIGTERM and SIGINT in the calling thread and returns a signalfd
// that becomes readable when either arrives; -1 on failure. Call before
// starting any thread (threads inherit the mask) so that no thread takes
// the signal's default action.
int block_shutdown_signals();

// Reads the pending signal from `fd`; its number, or 0.
int take_shutdown_signal(int fd);

}  // namespace roster::broker
