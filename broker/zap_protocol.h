// The ZeroMQ Authentication Protocol (ZAP, ZeroMQ RFC 27) as the broker's
// handler speaks it on a ROUTER bound to inproc://zeromq.zap.01: decoding a
// request's frames and encoding the reply. No sockets here.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace roster::broker {

inline constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";

// A request as libzmq sends it, after the ROUTER's routing id and the empty
// delimiter: version "1.0", request id, domain, address, identity,
// mechanism, credentials...
struct ZapRequest {
  std::string request_id;
  std::string domain;      // the socket's ZMQ_ZAP_DOMAIN
  std::string address;     // the peer's address
  std::string mechanism;   // "CURVE", "NULL", "PLAIN"
  std::string client_key;  // CURVE: the client's public key, Z85 (40 characters)
};

// Decodes `frames` (without the routing id and delimiter); nullopt when it
// is not a ZAP 1.0 request (the handler then drops it).
std::optional<ZapRequest> decode_zap_request(const std::vector<std::string>& frames);

// The reply frames (without routing id and delimiter): version, request id,
// status code ("200" or "400"), status text, user id (empty when refused),
// metadata (empty).
std::vector<std::string> zap_reply(const ZapRequest& request, bool allowed,
                                   const std::string& status_text, const std::string& user_id);

}  // namespace roster::broker
