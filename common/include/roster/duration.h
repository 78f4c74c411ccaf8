// Human durations for flags and config files: "250ms", "3s", "1.5s", "5m",
// "1h". A bare number is milliseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace roster {

// Parses a duration into milliseconds; nullopt if malformed, negative, or
// over ~100 years. Units: ms, s, m, h (optional; default ms).
std::optional<uint64_t> parse_duration_ms(std::string_view text);

// Formats milliseconds the shortest exact way: 250 -> "250ms", 3000 -> "3s",
// 300000 -> "5m".
std::string format_duration_ms(uint64_t ms);

}  // namespace roster
