// CURVE on a roster client's sockets: the keys a client resolved from its
// CurveClientOptions (roster/curve_client_options.h), and the socket
// options that make a ZeroMQ socket a CURVE client of the broker.
//
// Thread safety: the functions share no state.
#pragma once

#include <optional>
#include <string>

#include <zmq.hpp>

#include "roster/curve_client_options.h"

namespace roster {

// The three Z85 keys (40 characters each) a CURVE client socket needs.
struct CurveClientKeys {
  std::string public_key;
  std::string secret_key;
  std::string broker_public_key;
};

// Reads and checks `options`. Returns the keys when CURVE is enabled,
// nullopt when it is not (every field empty). On a problem returns nullopt
// and sets *error (REQUIRES: error not null) to one line naming the option
// or file and what is wrong: one of a pair of files without the other, an
// unreadable or malformed certificate, a secret certificate without its
// secret key, a key that is not 40 characters of Z85, files and keys both
// given. *error is cleared on success.
std::optional<CurveClientKeys> resolve_curve_client(const CurveClientOptions& options,
                                                    std::string* error);

// Makes `socket` a CURVE client of the broker holding `keys.broker_public_key`.
// REQUIRES: called before socket.connect(); the keys come from
// resolve_curve_client(). Throws zmq::error_t if libzmq refuses them (built
// without CURVE).
void apply_curve_client(zmq::socket_t& socket, const CurveClientKeys& keys);

}  // namespace roster
