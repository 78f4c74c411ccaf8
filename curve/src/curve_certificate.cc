#include "roster/curve_certificate.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "zpl.h"

namespace roster {

namespace {

constexpr size_t kZ85KeyChars = 40;
// A certificate is a few hundred bytes; a bigger file is not one.
constexpr std::streamsize kMaxCertificateBytes = 64 * 1024;

constexpr std::string_view kPublicKeyPath = "curve/public-key";
constexpr std::string_view kSecretKeyPath = "curve/secret-key";
constexpr std::string_view kMetadataPrefix = "metadata/";

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw std::runtime_error(path + ": " + problem);
}

std::string read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
  std::string text(static_cast<size_t>(kMaxCertificateBytes) + 1, '\0');
  in.read(text.data(), kMaxCertificateBytes + 1);
  if (in.bad()) fail(path, "read error");
  const auto got = in.gcount();
  if (got > kMaxCertificateBytes) fail(path, "larger than 64 KiB, not a certificate");
  text.resize(static_cast<size_t>(got));
  return text;
}

std::string generated_line() {
  char stamp[32] = {};
  const std::time_t now = std::time(nullptr);
  std::tm tm_now{};
  localtime_r(&now, &tm_now);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm_now);
  return std::string("#   ****  Generated on ") + stamp + " by roster  ****\n";
}

std::string render(const CurveCertificate& cert, bool secret, const std::string& path) {
  std::ostringstream out;
  out << generated_line();
  if (secret) {
    out << "#   ZeroMQ CURVE **Secret** Certificate\n"
        << "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n\n";
  } else {
    out << "#   ZeroMQ CURVE Public Certificate\n"
        << "#   Exchange securely, or use a secure mechanism to verify the contents\n"
        << "#   of this file after exchange. Store public certificates in your home\n"
        << "#   directory, in the .curve subdirectory.\n\n";
  }
  out << "metadata\n";
  for (const auto& [key, value] : cert.metadata) {
    if (!zpl::is_name(key)) fail(path, "metadata key is not a ZPL name: " + key);
    const std::string quoted = zpl::quote(value);
    if (quoted.empty()) fail(path, "metadata value holds both quote characters: " + key);
    if (value.find_first_of("\r\n") != std::string::npos) {
      fail(path, "metadata value holds a line break: " + key);
    }
    out << "    " << key << " = " << quoted << "\n";
  }
  out << "curve\n";
  out << "    public-key = \"" << cert.public_key << "\"\n";
  if (secret) out << "    secret-key = \"" << cert.secret_key << "\"\n";
  return out.str();
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) fail(path, std::string("cannot create: ") + std::strerror(errno));
  // An existing file keeps its mode through O_CREAT: set it.
  bool ok = ::fchmod(fd, mode) == 0;
  size_t done = 0;
  while (ok && done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = false;
      break;
    }
    done += static_cast<size_t>(n);
  }
  const int saved = errno;
  if (::close(fd) != 0) ok = false;
  if (!ok) fail(path, std::string("cannot write: ") + std::strerror(saved));
}

}  // namespace

bool is_valid_z85_key(std::string_view key) {
  if (key.size() != kZ85KeyChars) return false;
  const std::string text(key);
  uint8_t bytes[32];
  return zmq_z85_decode(bytes, text.c_str()) != nullptr;
}

CurveCertificate load_certificate(const std::string& path) {
  const zpl::Document doc = zpl::parse(read_small_file(path));
  if (!doc.error.empty()) fail(path, "not a ZPL certificate: " + doc.error);
  CurveCertificate cert;
  bool has_public = false;
  for (const auto& entry : doc.entries) {
    if (entry.path == kPublicKeyPath) {
      cert.public_key = entry.value;
      has_public = true;
    } else if (entry.path == kSecretKeyPath) {
      cert.secret_key = entry.value;
    } else if (entry.has_value && entry.path.size() > kMetadataPrefix.size() &&
               entry.path.compare(0, kMetadataPrefix.size(), kMetadataPrefix) == 0) {
      const std::string key = entry.path.substr(kMetadataPrefix.size());
      // Deeper levels under metadata are not key/value pairs zcert knows.
      if (key.find('/') == std::string::npos) cert.metadata[key] = entry.value;
    }
  }
  if (!has_public) fail(path, "no curve/public-key");
  if (!is_valid_z85_key(cert.public_key)) {
    fail(path, "curve/public-key is not a 40-character Z85 key");
  }
  if (!cert.secret_key.empty()) {
    if (!is_valid_z85_key(cert.secret_key)) {
      fail(path, "curve/secret-key is not a 40-character Z85 key");
    }
    char derived[kZ85KeyChars + 1] = {};
    if (zmq_curve_public(derived, cert.secret_key.c_str()) != 0) {
      fail(path, "cannot derive the public key (libzmq without CURVE?)");
    }
    if (cert.public_key != derived) fail(path, "curve/public-key does not match curve/secret-key");
  }
  return cert;
}

CurveCertificate generate_certificate() {
  char public_key[kZ85KeyChars + 1] = {};
  char secret_key[kZ85KeyChars + 1] = {};
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    throw std::runtime_error(std::string("cannot generate a CURVE key pair: ") +
                             zmq_strerror(zmq_errno()));
  }
  CurveCertificate cert;
  cert.public_key = public_key;
  cert.secret_key = secret_key;
  return cert;
}

void save_certificate(const CurveCertificate& cert, const std::string& path) {
  if (!is_valid_z85_key(cert.public_key)) fail(path, "public key is not a 40-character Z85 key");
  if (!is_valid_z85_key(cert.secret_key)) fail(path, "secret key is not a 40-character Z85 key");
  const std::string secret_path = path + "_secret";
  // Render both first: a bad metadata key writes nothing.
  const std::string public_text = render(cert, false, path);
  const std::string secret_text = render(cert, true, secret_path);
  write_file(secret_path, secret_text, 0600);
  write_file(path, public_text, 0644);
}

std::string certificate_display_name(const CurveCertificate& cert, std::string_view fallback) {
  const auto it = cert.metadata.find(std::string(kCertificateNameKey));
  if (it != cert.metadata.end() && !it->second.empty()) return it->second;
  return std::string(fallback);
}

std::vector<std::string> certificate_node_globs(const CurveCertificate& cert) {
  std::vector<std::string> globs;
  const auto it = cert.metadata.find(std::string(kCertificateNodeKey));
  if (it == cert.metadata.end()) return globs;
  const std::string& list = it->second;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    size_t a = start;
    size_t b = end;
    while (a < b && (list[a] == ' ' || list[a] == '\t')) ++a;
    while (b > a && (list[b - 1] == ' ' || list[b - 1] == '\t')) --b;
    if (b > a) globs.push_back(list.substr(a, b - a));
    start = end + 1;
  }
  return globs;
}

}  // namespace roster
