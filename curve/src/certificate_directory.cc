#include "roster/certificate_directory.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace roster {

namespace {

constexpr std::string_view kSecretSuffix = "_secret";

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

CertificateDirectory load_certificate_directory(const std::string& dir) {
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) {
    throw std::runtime_error(dir + ": cannot read the key directory: " + std::strerror(errno));
  }
  std::vector<std::string> names;
  while (const dirent* ent = ::readdir(handle)) {
    const std::string name = ent->d_name;
    if (name == "." || name == "..") continue;
    names.push_back(name);
  }
  ::closedir(handle);
  std::sort(names.begin(), names.end());

  CertificateDirectory out;
  for (const auto& name : names) {
    const std::string path = dir + "/" + name;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      out.skipped.push_back({name, std::string("cannot stat: ") + std::strerror(errno)});
      continue;
    }
    if (!S_ISREG(st.st_mode)) {
      out.skipped.push_back({name, "not a regular file"});
      continue;
    }
    if (ends_with(name, kSecretSuffix)) {
      out.skipped.push_back({name, "secret certificate (only public ones are read)"});
      continue;
    }
    try {
      CurveCertificate cert = load_certificate(path);
      cert.secret_key.clear();
      out.certificates.push_back({name, std::move(cert)});
    } catch (const std::exception& e) {
      out.skipped.push_back({name, e.what()});
    }
  }
  return out;
}

}  // namespace roster
