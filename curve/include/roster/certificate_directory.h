// A directory of public CURVE certificates, read as CZMQ's zcertstore reads
// one: every regular file in the directory (not recursive) that parses as a
// certificate. Files whose name ends in "_secret" and files that do not
// parse are skipped, each with a reason the caller can log.
#pragma once

#include <string>
#include <vector>

#include "roster/curve_certificate.h"

namespace roster {

struct DirectoryCertificate {
  std::string file_name;  // the name inside the directory, e.g. "web-1"
  CurveCertificate certificate;
};

struct SkippedCertificateFile {
  std::string file_name;
  std::string reason;  // e.g. "secret certificate", or the parse error
};

struct CertificateDirectory {
  // In file-name order. Secret keys are never kept: a secret certificate
  // is skipped, and a public file that carries one has it cleared.
  std::vector<DirectoryCertificate> certificates;
  std::vector<SkippedCertificateFile> skipped;
};

// Reads every certificate of `dir`. Throws std::runtime_error naming the
// directory if it cannot be listed (missing, not a directory, no access);
// a bad file never throws, it is listed in `skipped`.
CertificateDirectory load_certificate_directory(const std::string& dir);

}  // namespace roster
