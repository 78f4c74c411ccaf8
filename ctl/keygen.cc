#include <sys/stat.h>

#include <exception>
#include <iostream>

#include "commands.h"
#include "roster/curve_certificate.h"
#include "roster/utf8.h"

namespace roster::ctl {

namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool is_valid_node_glob(const std::string& glob) {
  if (glob.empty() || glob.size() > 256) return false;
  for (char c : glob) {
    const bool id_char = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' || c == '-';
    const bool glob_char = c == '*' || c == '?' || c == '[' || c == ']' || c == '!';
    if (!id_char && !glob_char) return false;
  }
  return true;
}

int run_keygen(const KeygenOptions& keygen) {
  const std::string secret_path = keygen.path + "_secret";
  if (!keygen.force && (exists(keygen.path) || exists(secret_path))) {
    std::cerr << "rosterctl: " << escape_for_terminal(keygen.path) << " or its _secret exists"
              << " (remove it first, or pass --force)" << std::endl;
    return 1;
  }
  CurveCertificate cert = generate_certificate();
  cert.metadata[std::string(kCertificateNameKey)] = base_name(keygen.path);
  if (!keygen.node_globs.empty()) {
    std::string list;
    for (const auto& glob : keygen.node_globs) {
      if (!list.empty()) list += ",";
      list += glob;
    }
    cert.metadata[std::string(kCertificateNodeKey)] = list;
  }
  save_certificate(cert, keygen.path);
  std::cout << "wrote " << escape_for_terminal(keygen.path) << " (public) and "
            << escape_for_terminal(secret_path) << " (secret, mode 0600); public key "
            << cert.public_key << std::endl;
  return 0;
}

}  // namespace roster::ctl
