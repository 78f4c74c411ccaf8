// Human durations for flags and config files: "250ms", "3s", "1.5s", "5m",
// "1h", and compound ones such as "1m30s" or "1h2m3s500ms". A bare number
// is milliseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace roster {

// Parses a duration into milliseconds; nullopt if malformed, negative, or
// over ~100 years. Units: h, m (or min), s, ms. A bare number (no unit) is
// milliseconds. A compound value is several <number><unit> parts with no
// space, largest unit first, each unit at most once ("1m30s", not "30s1m"
// nor "1m1m"); each number may have a fraction ("1m1.5s").
std::optional<uint64_t> parse_duration_ms(std::string_view text);

// Formats milliseconds the shortest exact way: 250 -> "250ms", 3000 -> "3s",
// 300000 -> "5m".
std::string format_duration_ms(uint64_t ms);

}  // namespace roster
