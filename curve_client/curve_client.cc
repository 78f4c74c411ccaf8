#include "curve_client.h"

#include <exception>
#include <string_view>

#include "roster/curve_certificate.h"

namespace roster {

namespace {

bool has_keys(const CurveClientOptions& o) {
  return !o.public_key.empty() || !o.secret_key.empty() || !o.broker_public_key.empty();
}
bool has_files(const CurveClientOptions& o) {
  return !o.secret_certificate_file.empty() || !o.broker_certificate_file.empty();
}

std::optional<std::string> check_key(std::string_view what, const std::string& key) {
  if (is_valid_z85_key(key)) return std::nullopt;
  return std::string(what) + " is not a CURVE key (40 characters of Z85)";
}

std::optional<CurveClientKeys> from_keys(const CurveClientOptions& o, std::string* error) {
  if (o.public_key.empty() || o.secret_key.empty() || o.broker_public_key.empty()) {
    *error = "CURVE keys: set all three of public_key, secret_key and broker_public_key, or none";
    return std::nullopt;
  }
  for (const auto& [what, key] :
       {std::pair<std::string_view, const std::string&>{"public_key", o.public_key},
        {"secret_key", o.secret_key},
        {"broker_public_key", o.broker_public_key}}) {
    if (auto bad = check_key(what, key)) {
      *error = *bad;
      return std::nullopt;
    }
  }
  return CurveClientKeys{o.public_key, o.secret_key, o.broker_public_key};
}

std::optional<CurveClientKeys> from_files(const CurveClientOptions& o, std::string* error) {
  if (o.secret_certificate_file.empty() || o.broker_certificate_file.empty()) {
    *error = o.secret_certificate_file.empty()
                 ? "--broker-key is given without --curve-secret: CURVE needs both (this "
                   "client's secret certificate and the broker's public certificate)"
                 : "--curve-secret is given without --broker-key: CURVE needs both (this "
                   "client's secret certificate and the broker's public certificate)";
    return std::nullopt;
  }
  CurveClientKeys keys;
  try {
    const CurveCertificate own = load_certificate(o.secret_certificate_file);
    if (own.secret_key.empty()) {
      *error = "--curve-secret " + o.secret_certificate_file +
               ": no secret-key in this certificate (give the NAME_secret file of the pair)";
      return std::nullopt;
    }
    keys.public_key = own.public_key;
    keys.secret_key = own.secret_key;
  } catch (const std::exception& e) {
    *error = std::string("--curve-secret: ") + e.what();
    return std::nullopt;
  }
  try {
    keys.broker_public_key = load_certificate(o.broker_certificate_file).public_key;
  } catch (const std::exception& e) {
    *error = std::string("--broker-key: ") + e.what();
    return std::nullopt;
  }
  return keys;
}

}  // namespace

std::optional<CurveClientKeys> resolve_curve_client(const CurveClientOptions& options,
                                                    std::string* error) {
  error->clear();
  if (!options.enabled()) return std::nullopt;
  if (has_keys(options) && has_files(options)) {
    *error = "CURVE: give either certificate files or keys, not both";
    return std::nullopt;
  }
  return has_files(options) ? from_files(options, error) : from_keys(options, error);
}

void apply_curve_client(zmq::socket_t& socket, const CurveClientKeys& keys) {
  socket.set(zmq::sockopt::curve_serverkey, keys.broker_public_key);
  socket.set(zmq::sockopt::curve_publickey, keys.public_key);
  socket.set(zmq::sockopt::curve_secretkey, keys.secret_key);
}

}  // namespace roster
