// Running a test or benchmark client thread at the lowest CPU priority, so
// that on a shared machine it stands in for a process on another host: it
// takes CPU from the server under test only when the server leaves some.
#pragma once

namespace roster::testing {

// Sets the calling thread's nice value to 19. On Linux the nice value is per
// thread, and threads started afterwards by this one (such as the I/O
// thread of a ZeroMQ context it creates) inherit it, so call this before
// creating the context. Best effort: a failure leaves the priority as is.
void lower_this_thread_priority();

}  // namespace roster::testing
