#include "roster/duration.h"

#include <cmath>
#include <cstdlib>

namespace roster {

std::optional<uint64_t> parse_duration_ms(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  std::string number(text.substr(0, i));
  if (number == "." || number.find('.') != number.rfind('.')) return std::nullopt;
  std::string_view unit = text.substr(i);
  double scale;
  if (unit.empty() || unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m" || unit == "min") {
    scale = 60'000;
  } else if (unit == "h") {
    scale = 3'600'000;
  } else {
    return std::nullopt;
  }
  char* end = nullptr;
  double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size()) return std::nullopt;
  double ms = std::round(value * scale);
  if (!(ms >= 0) || ms > 100.0 * 365 * 24 * 3'600'000) return std::nullopt;
  return static_cast<uint64_t>(ms);
}

std::string format_duration_ms(uint64_t ms) {
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace roster
