#include "startup_error.h"

#include <cerrno>

namespace roster::broker {

StartupError bind_failure(std::string_view flag, const std::string& endpoint,
                          const zmq::error_t& error) {
  const int e = error.num();
  const bool never =
      e == EINVAL || e == EPROTONOSUPPORT || e == ENOCOMPATPROTO || e == EAFNOSUPPORT;
  return StartupError{"cannot bind " + std::string(flag) + " " + endpoint + ": " + error.what(),
                      never ? kExitUsage : kExitFailure};
}

}  // namespace roster::broker
