// Rate limiting of repeated warnings, per kind (e.g. one kind per error
// code). At most `burst` warnings of a kind are let through per window;
// the rest are counted, and when the window ends one summary line says how
// many were suppressed.
//
// Thread safety: none; owned by the event loop.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "roster/clock.h"

namespace roster::broker {

class RateLimitedLog {
 public:
  RateLimitedLog(uint64_t burst, TimeMs window_ms) : burst_(burst), window_ms_(window_ms) {}

  // True if a warning of `kind` may be logged at `now`; false if it is to
  // be suppressed (and counted). Starts a new window when the last ended,
  // logging the summary of the last one first.
  bool allow(std::string_view kind, TimeMs now);

  // Logs the summary of every window that has ended at `now` with
  // suppressed warnings. Call regularly (cheap: one entry per kind).
  void flush(TimeMs now);

  // Warnings suppressed so far, all kinds.
  uint64_t suppressed() const { return suppressed_total_; }

 private:
  struct Window {
    TimeMs start = 0;
    uint64_t logged = 0;
    uint64_t suppressed = 0;
  };
  void close(const std::string& kind, Window& window);

  uint64_t burst_;
  TimeMs window_ms_;
  uint64_t suppressed_total_ = 0;
  std::map<std::string, Window, std::less<>> windows_;
};

}  // namespace roster::broker
