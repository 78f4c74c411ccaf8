#include "rate_limited_log.h"

#include <spdlog/spdlog.h>

namespace roster::broker {

bool RateLimitedLog::allow(std::string_view kind, TimeMs now) {
  auto it = windows_.find(kind);
  if (it == windows_.end()) it = windows_.emplace(std::string(kind), Window{now, 0, 0}).first;
  Window& window = it->second;
  if (now - window.start >= window_ms_) {
    close(it->first, window);
    window = Window{now, 0, 0};
  }
  if (window.logged < burst_) {
    ++window.logged;
    return true;
  }
  ++window.suppressed;
  ++suppressed_total_;
  return false;
}

void RateLimitedLog::flush(TimeMs now) {
  for (auto& [kind, window] : windows_) {
    if (window.suppressed > 0 && now - window.start >= window_ms_) {
      close(kind, window);
      window = Window{now, 0, 0};
    }
  }
}

void RateLimitedLog::close(const std::string& kind, Window& window) {
  if (window.suppressed == 0) return;
  spdlog::warn("suppressed {} more '{}' warnings in the last {} ms", window.suppressed, kind,
               window_ms_);
  window.suppressed = 0;
}

}  // namespace roster::broker
