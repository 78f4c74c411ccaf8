// CURVE certificates of roster, in the ZeroMQ ecosystem's format: a ZPL file
// (ZeroMQ RFC 4) laid out as CZMQ's zcert_save writes it, so CZMQ, pyzmq
// (zmq.auth.load_certificate) and roster read each other's files:
//
//   metadata
//       name = "web-1"
//       node = "web-*,api-1"
//   curve
//       public-key = "<40 characters of Z85>"
//       secret-key = "<40 characters of Z85>"   (only in NAME_secret)
//
// A pair is two files: NAME (public: metadata and public-key, safe to
// distribute) and NAME_secret (both keys, mode 0600, never leaves the host
// that uses it).
//
// All functions are thread-safe (no shared state). They throw
// std::runtime_error, whose message names the file and the problem, on
// every failure; callers at a module boundary catch it.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace roster {

struct CurveCertificate {
  std::string public_key;  // 40-character Z85
  std::string secret_key;  // 40-character Z85; empty in a public certificate
  std::map<std::string, std::string> metadata;
};

// Metadata key naming a certificate's holder (CZMQ's convention).
inline constexpr std::string_view kCertificateNameKey = "name";
// Metadata key holding the node-id globs a key may claim on the agents
// endpoint, comma-separated: node = "web-*,db-1". Node ids cannot contain a
// comma, so the list is unambiguous.
inline constexpr std::string_view kCertificateNodeKey = "node";

// Reads a ZPL certificate (public NAME or secret NAME_secret) as CZMQ's
// zcert_save writes it; throws std::runtime_error naming the file and the
// problem. The public key must be present; a secret key, when present, must
// be the one the public key belongs to.
CurveCertificate load_certificate(const std::string& path);

// A fresh key pair (zmq_curve_keypair), no metadata. Throws
// std::runtime_error if libzmq was built without CURVE.
CurveCertificate generate_certificate();

// Writes PATH (public: metadata + public-key) and PATH_secret (both keys),
// the secret file mode 0600, in CZMQ's layout. Replaces existing files.
// REQUIRES: cert.secret_key is set; metadata keys are ZPL names
// ([A-Za-z0-9$-_@.&+/]) and no value holds both quote characters (else
// std::runtime_error).
void save_certificate(const CurveCertificate& cert, const std::string& path);

// True iff `key` is 40 characters of Z85 that decode to a 32-byte key.
bool is_valid_z85_key(std::string_view key);

// The name to log for a key: metadata "name" if set, else `fallback`
// (typically the certificate's file name).
std::string certificate_display_name(const CurveCertificate& cert, std::string_view fallback);

// The node-id globs of metadata "node" (comma-separated, spaces around each
// trimmed, empty items dropped); empty when there is none.
std::vector<std::string> certificate_node_globs(const CurveCertificate& cert);

}  // namespace roster
