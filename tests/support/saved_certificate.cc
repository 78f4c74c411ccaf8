#include "support/saved_certificate.h"

namespace roster::testing {

CurveCertificate saved_certificate(const std::string& path, const std::string& name,
                                   const std::string& node_globs) {
  CurveCertificate cert = generate_certificate();
  cert.metadata["name"] = name;
  if (!node_globs.empty()) cert.metadata["node"] = node_globs;
  save_certificate(cert, path);
  return cert;
}

}  // namespace roster::testing
