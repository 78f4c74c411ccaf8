// A committed Delta as a ZeroMQ message, so the event loop can hand it to
// the publisher over their inproc pipe without copying or encoding it. The
// message owns the Delta: it is deleted when the last copy of the message
// is closed, by the reader once done with it or by ZeroMQ when the pipe
// closes with the message still queued. Nothing leaks either way.
//
// Only inproc:// passes the message itself; any other transport would send
// the bytes of the object, which mean nothing in another process.
//
// Thread safety: a message may be closed on any thread.
#pragma once

#include <zmq.hpp>

#include "roster/protocol.h"

namespace roster::broker {

// A message that owns `delta`.
zmq::message_t delta_message(Delta delta);

// The Delta that a message of delta_message() owns, valid while the message
// is; nullptr if the message cannot be one (its size is not a Delta's).
// REQUIRES: the message came from delta_message() over inproc:// whenever
// its size is that of a Delta.
const Delta* delta_in(const zmq::message_t& message);

}  // namespace roster::broker
