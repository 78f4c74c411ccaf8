// How a roster client (roster::Agent, roster::Subscriber, rosterctl)
// secures its connections to the broker with CURVE (docs/OPERATIONS.md,
// "Securing roster"). Plain data: reading the files and setting up the
// sockets is done by the client when it starts.
#pragma once

#include <string>

namespace roster {

// The client's own key pair and the broker's public key, given either as
// certificate files or as keys already loaded. Everything empty (the
// default) means plaintext, as before.
//
// Files (what `--curve-secret` and `--broker-key` take): the ZPL
// certificates CZMQ's zcert writes and `rosterctl keygen NAME` produces.
// `secret_certificate_file` is this client's NAME_secret file (it holds
// both its public and its secret key); `broker_certificate_file` is the
// broker's public certificate (its NAME file; a secret one works too, only
// its public key is read). Set both or neither. They are read when the
// client starts (Agent::start(), Subscriber::create(), ...), and a missing
// or malformed file is an error naming the file.
//
// Keys (for a service that keeps its keys elsewhere): Z85 text, 40
// characters each (zmq_curve_keypair(), CurveCertificate). Set all three or
// none, and no file then.
struct CurveClientOptions {
  std::string secret_certificate_file;
  std::string broker_certificate_file;

  std::string public_key;
  std::string secret_key;
  std::string broker_public_key;

  // True when any field is set: the client uses CURVE (and start-up fails
  // when the fields do not form one of the two complete forms above).
  bool enabled() const {
    return !secret_certificate_file.empty() || !broker_certificate_file.empty() ||
           !public_key.empty() || !secret_key.empty() || !broker_public_key.empty();
  }
};

}  // namespace roster
