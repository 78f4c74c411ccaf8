// Reading the log lines of roster processes in tests (service/log_format.h).
#pragma once

#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace roster::testing {

// `text` split at newlines (no empty last line).
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// True if `text` starts with an RFC 3339 UTC timestamp with milliseconds,
// "2026-12-01T03:04:05.123Z" (24 characters).
inline bool starts_with_rfc3339_utc_ms(std::string_view text) {
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (text.size() < kShape.size()) return false;
  for (size_t i = 0; i < kShape.size(); ++i) {
    const bool ok = kShape[i] == 'd' ? (text[i] >= '0' && text[i] <= '9') : text[i] == kShape[i];
    if (!ok) return false;
  }
  return true;
}

// True if `text` is exactly such a timestamp.
inline bool is_rfc3339_utc_ms(std::string_view text) {
  return text.size() == 24 && starts_with_rfc3339_utc_ms(text);
}

}  // namespace roster::testing
