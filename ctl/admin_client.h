// One request/reply on the broker's admin channel, with a deadline: a
// DEALER with ZMQ_LINGER 0, so an unreachable broker is an error after the
// timeout, never a hang.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "roster/protocol.h"

namespace roster::ctl {

// The broker's reply (an ErrorReply included), or why there is none.
struct AdminCall {
  std::optional<AdminReply> reply;
  std::string error;  // set when reply is empty
  // Strings of the reply that were not valid UTF-8 and hold U+FFFD instead
  // of the ill-formed bytes (codec.h).
  size_t replaced_strings = 0;
};

// Sends `request` to `endpoint` and waits up to `timeout_ms` for the reply.
// Never throws.
AdminCall call_admin(const std::string& endpoint, const AdminRequest& request, uint64_t timeout_ms);

// call_admin(), reporting a missing reply or an ErrorReply on stderr as
// "rosterctl: ..." (the broker's message escaped for the terminal), and
// warning on stderr when strings were replaced. Returns the reply only when
// it is not an ErrorReply.
std::optional<AdminReply> call_admin_or_report(const std::string& endpoint,
                                               const AdminRequest& request, uint64_t timeout_ms);

}  // namespace roster::ctl
