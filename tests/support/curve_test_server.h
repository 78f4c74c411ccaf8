// CURVE servers for client tests: fresh key pairs written as certificate
// files, a ZAP handler that admits a list of client keys, and a CURVE
// server socket behind it on tcp://127.0.0.1:*, so the agent, subscriber
// and rosterctl can be tested against a broker that authenticates (or
// refuses) them without a roster-broker process.
//
// Thread safety: CurveTestServer's socket belongs to the test thread; its
// ZAP handler runs on its own thread.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "roster/curve_client_options.h"
#include "support/process.h"
#include "support/stoppable_thread.h"

namespace roster::testing {

// A key pair saved as DIR/NAME (public certificate) and DIR/NAME_secret.
struct CurveKeyFiles {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
  std::string public_file;
  std::string secret_file;
};

// Generates a pair and saves it in `dir` under `name` (save_certificate).
CurveKeyFiles make_curve_keys(const TempDir& dir, const std::string& name);

// The client options for `client`'s secret file and `broker`'s public one.
CurveClientOptions curve_files(const CurveKeyFiles& client, const CurveKeyFiles& broker);

// The keys of a CURVE client test, saved in a fresh temporary directory:
// the broker's ("broker"), a client's that the test servers are to admit
// (`allowed_name`) and one they are to refuse ("stranger"). A base of test
// fixtures, so that their members can admit allowed.public_key.
struct CurveTestKeys {
  explicit CurveTestKeys(const std::string& allowed_name);

  TempDir dir;
  CurveKeyFiles broker;
  CurveKeyFiles allowed;
  CurveKeyFiles stranger;
};

// An admin reply for a test server to answer with: a complete, empty
// snapshot at epoch 7, version 3, time 1.
std::string curve_test_snapshot_reply();

// Answers ZAP requests in `context` (binds inproc://zeromq.zap.01): admits
// a CURVE client whose public key is in `allowed` (Z85), refuses any other
// with status 400. Counts both.
class ZapAllowList {
 public:
  // REQUIRES: `context` outlives the handler; nothing else bound the ZAP
  // endpoint in it.
  ZapAllowList(zmq::context_t& context, std::vector<std::string> allowed);
  ~ZapAllowList();

  uint64_t admitted() const { return admitted_; }
  uint64_t refused() const { return refused_; }

 private:
  zmq::socket_t handler_;
  std::vector<std::string> allowed_;
  std::atomic<uint64_t> admitted_{0};
  std::atomic<uint64_t> refused_{0};
  StoppableThread thread_;  // last: stopped first
};

// A CURVE server socket of `type` bound to tcp://127.0.0.1:*, with its own
// context and a ZapAllowList admitting `allowed`. `broker` are its keys.
class CurveTestServer {
 public:
  CurveTestServer(zmq::socket_type type, const CurveKeyFiles& broker,
                  std::vector<std::string> allowed);
  ~CurveTestServer();

  const std::string& endpoint() const { return endpoint_; }
  zmq::socket_t& socket() { return socket_; }
  // For a ROUTER: answers every request waiting with `body` (one frame
  // after the routing id); returns how many it answered. Never blocks.
  int answer_waiting(const std::string& body);
  const ZapAllowList& zap() const { return *zap_; }

 private:
  zmq::context_t context_;
  std::unique_ptr<ZapAllowList> zap_;
  zmq::socket_t socket_;
  std::string endpoint_;
};

}  // namespace roster::testing
