// Sets an environment variable for the scope of a test; children started
// meanwhile inherit it.
//
// Thread safety: none; setenv/unsetenv race with any other thread reading
// the environment.
#pragma once

#include <stdlib.h>

#include <string>

namespace roster::testing {

class ScopedEnv {
 public:
  // Sets `name` to `value`; the destructor unsets it. REQUIRES: `name`
  // outlives this object.
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

}  // namespace roster::testing
