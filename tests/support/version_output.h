// The check every binary's --version test makes. Header-only: it needs the
// generated roster_build_version.h, which only tests that link
// roster_version can include.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "roster_build_version.h"
#include "support/process.h"

namespace roster::testing {

// Expects what `<program> --version` gave: exit 0, one line on stdout that
// starts with the program's name and project(VERSION) and is exactly
// version_text(program) (so it carries the git revision when known), and
// nothing on stderr. Failures name `program`.
inline void expect_version_output(const CommandResult& result, const std::string& program) {
  EXPECT_EQ(result.exit_status, 0) << program << ": " << result.err;
  EXPECT_EQ(result.out.rfind(program + " " + kVersion, 0), 0u) << program << ": " << result.out;
  EXPECT_EQ(result.out, version_text(program) + "\n") << program;
  EXPECT_EQ(result.err, "") << program;
}

}  // namespace roster::testing
