// The admin channel's requests, answered from the membership core: node,
// remove and stats here; snapshot is encoded by the publisher (the event
// loop forwards it).
//
// Thread safety: none; used by the event loop only.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "counters.h"
#include "publisher.h"
#include "rate_limited_log.h"
#include "roster/membership.h"
#include "roster/protocol.h"

namespace roster::broker {

// The answer to one admin request.
struct AdminAnswer {
  // The encoded reply; nullopt when the publisher will answer (snapshot).
  std::optional<std::string> body;
  // A snapshot request: the caller forwards it to the publisher once the
  // round's changes are committed, so the snapshot holds them.
  bool snapshot = false;
  // Set when the reply is an error (for counting and logging).
  std::optional<ErrorCode> error;
  std::string error_message;
  // The request's index in AdminRequest (snapshot, node, remove, stats);
  // kAdminRequestTypes - 1 when it could not be decoded.
  size_t request_type = kAdminRequestTypes - 1;
  // A snapshot request to answer in parts of about this many bytes
  // (snapshot_parts.h); one reply when unset.
  std::optional<uint64_t> part_bytes = std::nullopt;
};

class AdminHandler {
 public:
  // `commit_now` commits and publishes the pending batch at once (used by
  // remove, so the removal is visible before the reply). Every reference
  // must outlive the handler.
  AdminHandler(Membership& membership, Publisher& publisher, const LoopCounters& loop_counters,
               const RateLimitedLog& warnings, TimeMs start, std::function<void(TimeMs)> commit_now)
      : membership_(membership),
        publisher_(publisher),
        loop_counters_(loop_counters),
        warnings_(warnings),
        start_(start),
        commit_now_(std::move(commit_now)) {}

  // Decodes and answers one request body.
  AdminAnswer handle(std::string_view body, TimeMs now);

  // An encoded error reply on the admin channel.
  static AdminAnswer error(ErrorCode code, std::string message);

  // The stats reply at `now`.
  Stats stats(TimeMs now) const;

 private:
  Membership& membership_;
  Publisher& publisher_;
  const LoopCounters& loop_counters_;
  const RateLimitedLog& warnings_;
  TimeMs start_;
  std::function<void(TimeMs)> commit_now_;
};

}  // namespace roster::broker
