// The ceiling: a trivial ROUTER that answers every message with one fixed,
// pre-encoded ack. Driven by the same load generator as the broker, it
// measures what ZeroMQ (plus the generator) can do on this machine, which
// is what broker figures are compared against.
#pragma once

#include <string>

namespace roster::bench {

// Binds a ROUTER to `endpoint`, writes "agents=EP" and "pid=N" lines to
// `ready_file` (FILE.tmp then rename), and acks every message until SIGTERM
// or SIGINT. With `curve_secret` (a secret certificate file), the ROUTER is
// a CURVE server with that key and no ZAP handler (every client key is
// admitted): the cost of the encryption alone. Returns the process exit
// status (0, or 1 when it cannot bind or read the certificate).
int run_ceiling_router(const std::string& endpoint, const std::string& ready_file,
                       const std::string& curve_secret = "");

}  // namespace roster::bench
