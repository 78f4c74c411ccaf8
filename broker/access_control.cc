#include "access_control.h"

#include <spdlog/spdlog.h>
#include <zmq.h>

#include <exception>

#include "roster/curve_certificate.h"
#include "zap_protocol.h"

namespace roster::broker {

namespace {

// ZAP requests answered per serve_zap(), so a flood of handshakes costs
// the loop a bounded time per round.
constexpr int kZapRequestsPerRound = 512;
// Frames of a ZAP request kept (version .. credentials); longer ones are
// not ZAP 1.0 with CURVE.
constexpr size_t kMaxZapFrames = 8;
// Names of removed keys remembered for the logs.
constexpr size_t kMaxFormerNames = 10'000;
constexpr std::string_view kAny = "any";

// The Z85 public key the ZAP handler gave as User-Id; nullptr without one.
const char* user_id(const zmq::message_t& body) {
  // Reading metadata does not change the message; the C API just is not const.
  return zmq_msg_gets(const_cast<zmq_msg_t*>(body.handle()), "User-Id");
}

}  // namespace

const char* AccessControl::zap_domain(Endpoint endpoint) {
  return endpoint_name(endpoint);
}

AccessControl::Directory& AccessControl::directory(Endpoint endpoint) {
  switch (endpoint) {
    case Endpoint::kAgents:
      return agents_;
    case Endpoint::kAdmin:
      return admin_;
    case Endpoint::kState:
      break;
  }
  return subscribers_;
}

const AccessControl::Directory& AccessControl::directory(Endpoint endpoint) const {
  return const_cast<AccessControl*>(this)->directory(endpoint);
}

std::string AccessControl::load(Directory& dir) {
  if (dir.path == kAny) {
    dir.keys = KeySet::any();
    return {};
  }
  std::vector<std::string> skipped;
  try {
    KeySet keys = KeySet::load(dir.path, &skipped);
    for (const auto& file : skipped) spdlog::warn("{}: skipped {}", dir.flag, file);
    dir.keys = std::move(keys);
  } catch (const std::exception& e) {
    return dir.flag + " " + e.what();
  }
  return {};
}

std::optional<StartupError> AccessControl::start(const BrokerOptions& options) {
  if (options.curve_secret.empty()) return std::nullopt;
  try {
    CurveCertificate cert = load_certificate(options.curve_secret);
    if (cert.secret_key.empty()) {
      return StartupError{"--curve-secret " + options.curve_secret +
                              ": no curve/secret-key (give the NAME_secret file)",
                          kExitUsage};
    }
    secret_key_ = cert.secret_key;
  } catch (const std::exception& e) {
    return StartupError{std::string("--curve-secret ") + e.what(), kExitUsage};
  }
  agents_.path = options.agent_keys;
  admin_.path = options.admin_keys;
  subscribers_.path = options.subscriber_keys;
  for (Directory* dir : {&agents_, &admin_}) {
    if (dir->path == kAny) {
      return StartupError{dir->flag + " any: only --subscriber-keys admits any key", kExitUsage};
    }
  }
  for (Directory* dir : {&agents_, &admin_, &subscribers_}) {
    std::string error = load(*dir);
    if (!error.empty()) return StartupError{error, kExitUsage};
  }
  zap_ = zmq::socket_t(context_, zmq::socket_type::router);
  zap_.set(zmq::sockopt::linger, 0);
  try {
    zap_.bind(kZapEndpoint);
  } catch (const zmq::error_t& e) {
    return StartupError{std::string("cannot bind the ZAP handler: ") + e.what(), kExitFailure};
  }
  spdlog::info("CURVE on: {} agent keys, {} admin keys, subscribers: {}", agents_.keys.size(),
               admin_.keys.size(),
               subscribers_.keys.admits_any() ? std::string("any CURVE client")
                                              : std::to_string(subscribers_.keys.size()) + " keys");
  return std::nullopt;
}

void AccessControl::secure(zmq::socket_t& socket, Endpoint endpoint) const {
  if (!enabled()) return;
  socket.set(zmq::sockopt::curve_server, 1);
  socket.set(zmq::sockopt::curve_secretkey, secret_key_);
  socket.set(zmq::sockopt::zap_domain, zap_domain(endpoint));
}

void AccessControl::serve_zap(TimeMs now) {
  for (int i = 0; i < kZapRequestsPerRound; ++i) {
    zmq::message_t routing_id;
    if (!zap_.recv(routing_id, zmq::recv_flags::dontwait)) return;
    std::vector<std::string> frames;
    bool delimiter = false;
    bool more = routing_id.more();
    size_t count = 0;
    while (more) {
      zmq::message_t frame;
      (void)zap_.recv(frame, zmq::recv_flags::none);
      more = frame.more();
      if (count++ == 0) {
        delimiter = frame.size() == 0;
      } else if (frames.size() < kMaxZapFrames) {
        frames.push_back(frame.to_string());
      }
    }
    if (!delimiter) continue;  // not from libzmq's ZAP client: nobody waits for it
    std::vector<std::string> reply;
    handle_zap(frames, &reply, now);
    if (reply.empty()) continue;
    zap_.send(routing_id, zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    zap_.send(zmq::message_t(), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    for (size_t f = 0; f < reply.size(); ++f) {
      const auto flags = f + 1 < reply.size() ? zmq::send_flags::sndmore | zmq::send_flags::dontwait
                                              : zmq::send_flags::dontwait;
      zap_.send(zmq::buffer(reply[f]), flags);
    }
  }
}

void AccessControl::handle_zap(const std::vector<std::string>& frames,
                               std::vector<std::string>* reply, TimeMs now) {
  std::optional<ZapRequest> request = decode_zap_request(frames);
  if (!request) {
    if (warnings_.allow("zap_malformed", now)) spdlog::warn("malformed ZAP request dropped");
    return;
  }
  std::optional<Endpoint> endpoint;
  for (size_t i = 0; i < kEndpointCount; ++i) {
    if (request->domain == endpoint_name(static_cast<Endpoint>(i))) {
      endpoint = static_cast<Endpoint>(i);
    }
  }
  if (!endpoint || request->mechanism != "CURVE") {
    *reply = zap_reply(*request, false, "not a CURVE endpoint of this broker", {});
    return;
  }
  const Directory& dir = directory(*endpoint);
  if (dir.keys.admits(request->client_key)) {
    ++counters_.handshakes_admitted;
    *reply = zap_reply(*request, true, "OK", request->client_key);
    return;
  }
  ++counters_.handshakes_refused[static_cast<size_t>(*endpoint)];
  *reply = zap_reply(*request, false, "key not allowed", {});
  if (!warnings_.allow("handshake_refused", now)) return;
  spdlog::warn("CURVE handshake refused on the {} endpoint from {}: key {} ({}) is not in {}",
               endpoint_name(*endpoint), request->address, request->client_key,
               former_name(request->client_key), dir.flag);
}

std::string AccessControl::former_name(const std::string& key) const {
  const auto it = former_names_.find(key);
  return it == former_names_.end() ? std::string("unknown key") : "removed: " + it->second;
}

std::optional<std::string> AccessControl::check_agent(const zmq::message_t& body,
                                                      std::string_view node) const {
  if (!enabled()) return std::nullopt;
  const char* key = user_id(body);
  const AllowedKey* allowed = key ? agents_.keys.find(key) : nullptr;
  if (allowed == nullptr) {
    return std::string("key ") + (key ? key : "?") + " (" + former_name(key ? key : "") +
           ") is no longer in --agent-keys";
  }
  if (may_claim(*allowed, node)) return std::nullopt;
  std::string globs;
  for (const auto& glob : allowed->node_globs) globs += (globs.empty() ? "" : ",") + glob;
  return "key " + allowed->name + " (node = \"" + globs + "\") may not claim node id " +
         std::string(node);
}

std::optional<std::string> AccessControl::check_admin(const zmq::message_t& body) const {
  if (!enabled()) return std::nullopt;
  const char* key = user_id(body);
  if (key && admin_.keys.find(key) != nullptr) return std::nullopt;
  return std::string("key ") + (key ? key : "?") + " (" + former_name(key ? key : "") +
         ") is no longer in --admin-keys";
}

void AccessControl::reload() {
  if (!enabled()) return;
  for (Directory* dir : {&agents_, &admin_, &subscribers_}) {
    KeySet old = dir->keys;
    std::string error = load(*dir);
    if (!error.empty()) {
      spdlog::warn("SIGHUP: cannot reload {}; keeping its {} keys", error, old.size());
      continue;
    }
    size_t removed = 0;
    size_t added = 0;
    for (const auto& [key, entry] : old.keys()) {
      if (dir->keys.find(key) != nullptr) continue;
      ++removed;
      if (former_names_.size() >= kMaxFormerNames) former_names_.clear();
      former_names_[key] = entry.name;
      spdlog::info("SIGHUP: {}: key {} removed", dir->flag, entry.name);
    }
    for (const auto& [key, entry] : dir->keys.keys()) {
      if (old.find(key) == nullptr) ++added;
    }
    spdlog::info("SIGHUP: {} reloaded: {} keys ({} added, {} removed)", dir->flag,
                 dir->keys.admits_any() ? std::string("any") : std::to_string(dir->keys.size()),
                 added, removed);
    if (dir == &subscribers_ && removed > 0) {
      spdlog::warn(
          "SIGHUP: {} keys removed from {}: they are refused at their next handshake; a "
          "subscriber already connected keeps receiving until it reconnects (restart the broker "
          "to cut it off now)",
          removed, dir->flag);
    }
  }
}

}  // namespace roster::broker
