// CURVE authentication and authorization of the broker's three endpoints
// (--curve-secret, --agent-keys, --admin-keys, --subscriber-keys).
//
// Authentication: a ZAP handler of our own (zap_protocol.h) on a ROUTER
// bound to inproc://zeromq.zap.01 before any CURVE socket, served from the
// event loop's poll set (a ZAP request costs one hash lookup; it never
// holds an ack back by more than that). Each endpoint has its own
// ZMQ_ZAP_DOMAIN ("agents", "admin", "state") and its own KeySet; an
// admitted connection's messages carry the client's Z85 public key as
// their "User-Id" property.
//
// Authorization, per request: the key must still be in its endpoint's set
// (a key removed by SIGHUP is refused from its next request on, even on an
// established connection), and on the agents endpoint it may only claim
// node ids its certificate's globs match (key_set.h). Refusals are counted
// (LoopCounters) and logged rate limited with the key's name.
//
// Thread safety: none; owned by the event loop.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <zmq.hpp>

#include "counters.h"
#include "key_set.h"
#include "options.h"
#include "rate_limited_log.h"
#include "roster/clock.h"
#include "startup_error.h"

namespace roster::broker {

class AccessControl {
 public:
  // `context`, `counters` and `warnings` must outlive this object.
  AccessControl(zmq::context_t& context, LoopCounters& counters, RateLimitedLog& warnings)
      : context_(context), counters_(counters), warnings_(warnings) {}

  // Without options.curve_secret: does nothing (CURVE off). Otherwise loads
  // the broker's secret certificate and the key directories and binds the
  // ZAP handler. Returns why it cannot (kExitUsage, naming the flag and
  // file) or nullopt. REQUIRES: before any socket of `context` is bound.
  std::optional<StartupError> start(const BrokerOptions& options);
  bool enabled() const { return !secret_key_.empty(); }

  // Makes `socket` a CURVE server with the broker's key and the endpoint's
  // ZAP domain; does nothing when CURVE is off. REQUIRES: before bind.
  void secure(zmq::socket_t& socket, Endpoint endpoint) const;
  // The broker's secret key (Z85) and an endpoint's ZAP domain, for the
  // publisher thread's XPUB. Empty key when CURVE is off.
  const std::string& secret_key() const { return secret_key_; }
  static const char* zap_domain(Endpoint endpoint);

  // The ZAP socket, to poll. REQUIRES: enabled().
  zmq::socket_t& zap() { return zap_; }
  // Answers the ZAP requests waiting (at most a bounded number per call).
  void serve_zap(TimeMs now);

  // Whether the sender of `body` (a request read on the agents endpoint)
  // may send a request for `node`: nullopt if so, else the message of the
  // `forbidden` reply. Always nullopt when CURVE is off.
  std::optional<std::string> check_agent(const zmq::message_t& body, std::string_view node) const;
  // The same for a request on the admin endpoint.
  std::optional<std::string> check_admin(const zmq::message_t& body) const;

  // SIGHUP: reads the key directories again and swaps the new sets in;
  // logs what changed. On an error keeps the sets of that endpoint.
  void reload();

 private:
  struct Directory {
    std::string flag;  // "--agent-keys"
    std::string path;  // empty: none; "any" for subscribers
    KeySet keys;
  };
  Directory& directory(Endpoint endpoint);
  const Directory& directory(Endpoint endpoint) const;
  std::string load(Directory& dir);
  // The name of a key no longer in its set (for logs), or the key itself.
  std::string former_name(const std::string& key) const;
  void handle_zap(const std::vector<std::string>& frames, std::vector<std::string>* reply,
                  TimeMs now);

  zmq::context_t& context_;
  LoopCounters& counters_;
  RateLimitedLog& warnings_;
  std::string secret_key_;
  zmq::socket_t zap_;
  Directory agents_{"--agent-keys", {}, {}};
  Directory admin_{"--admin-keys", {}, {}};
  Directory subscribers_{"--subscriber-keys", {}, {}};
  // Names of keys removed by a reload (bounded), for the refusal logs.
  std::unordered_map<std::string, std::string> former_names_;
};

}  // namespace roster::broker
