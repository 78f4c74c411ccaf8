#include "key_set.h"

#include <fnmatch.h>

#include "roster/certificate_directory.h"

namespace roster::broker {

KeySet KeySet::any() {
  KeySet set;
  set.any_ = true;
  return set;
}

KeySet KeySet::load(const std::string& dir, std::vector<std::string>* skipped) {
  CertificateDirectory store = load_certificate_directory(dir);
  KeySet set;
  for (const auto& file : store.skipped) {
    if (skipped) skipped->push_back(file.file_name + ": " + file.reason);
  }
  for (auto& entry : store.certificates) {
    const CurveCertificate& cert = entry.certificate;
    AllowedKey key{certificate_display_name(cert, entry.file_name), certificate_node_globs(cert)};
    auto [it, inserted] = set.keys_.emplace(cert.public_key, std::move(key));
    if (!inserted && skipped) {
      skipped->push_back(entry.file_name + ": same public key as " + it->second.name);
    }
  }
  return set;
}

const AllowedKey* KeySet::find(std::string_view z85_public_key) const {
  const auto it = keys_.find(z85_public_key);
  return it == keys_.end() ? nullptr : &it->second;
}

bool may_claim(const AllowedKey& key, std::string_view node) {
  const std::string id(node);
  for (const auto& glob : key.node_globs) {
    if (::fnmatch(glob.c_str(), id.c_str(), 0) == 0) return true;
  }
  return false;
}

}  // namespace roster::broker
