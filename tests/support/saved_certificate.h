// A fresh CURVE certificate written as files, for tests of the code that
// reads certificates and key directories.
//
// Thread safety: none needed; a plain function.
#pragma once

#include <string>

#include "roster/curve_certificate.h"

namespace roster::testing {

// Generates a key pair with metadata name=`name` (and node=`node_globs`
// unless that is empty), saves it with save_certificate() as `path` (public)
// and `path`_secret, and returns it. Throws what save_certificate() throws.
CurveCertificate saved_certificate(const std::string& path, const std::string& name,
                                   const std::string& node_globs = "");

}  // namespace roster::testing
