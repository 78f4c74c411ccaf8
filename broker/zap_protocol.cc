#include "zap_protocol.h"

#include <zmq.h>

namespace roster::broker {

namespace {
constexpr size_t kCurveKeyBytes = 32;
}  // namespace

std::optional<ZapRequest> decode_zap_request(const std::vector<std::string>& frames) {
  // version, request id, domain, address, identity, mechanism, credentials.
  if (frames.size() < 6 || frames[0] != "1.0") return std::nullopt;
  ZapRequest request;
  request.request_id = frames[1];
  request.domain = frames[2];
  request.address = frames[3];
  request.mechanism = frames[5];
  if (request.mechanism == "CURVE") {
    if (frames.size() != 7 || frames[6].size() != kCurveKeyBytes) return std::nullopt;
    char z85[41] = {};
    if (zmq_z85_encode(z85, reinterpret_cast<const uint8_t*>(frames[6].data()), kCurveKeyBytes) ==
        nullptr) {
      return std::nullopt;
    }
    request.client_key = z85;
  }
  return request;
}

std::vector<std::string> zap_reply(const ZapRequest& request, bool allowed,
                                   const std::string& status_text, const std::string& user_id) {
  return {"1.0",
          request.request_id,
          allowed ? "200" : "400",
          status_text,
          allowed ? user_id : std::string(),
          std::string()};
}

}  // namespace roster::broker
