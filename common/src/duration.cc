#include "roster/duration.h"

#include <cmath>
#include <cstdlib>

namespace roster {

namespace {

constexpr double kMaxMs = 100.0 * 365 * 24 * 3'600'000;

// Milliseconds per unit, ranked from the largest (0) to the smallest;
// nullopt for an unknown unit.
struct Unit {
  double scale;
  int rank;
};
std::optional<Unit> unit_of(std::string_view unit) {
  if (unit == "h") return Unit{3'600'000, 0};
  if (unit == "m" || unit == "min") return Unit{60'000, 1};
  if (unit == "s") return Unit{1000, 2};
  if (unit == "ms") return Unit{1, 3};
  return std::nullopt;
}

// Reads a non-negative decimal number at the front of `text`; advances it.
std::optional<double> take_number(std::string_view& text) {
  size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  std::string number(text.substr(0, i));
  if (number == "." || number.find('.') != number.rfind('.')) return std::nullopt;
  char* end = nullptr;
  double value = std::strtod(number.c_str(), &end);
  if (end != number.c_str() + number.size()) return std::nullopt;
  text.remove_prefix(i);
  return value;
}

}  // namespace

std::optional<uint64_t> parse_duration_ms(std::string_view text) {
  // A bare number is milliseconds, and only as the whole text.
  std::string_view rest = text;
  auto bare = take_number(rest);
  if (bare && rest.empty()) {
    double ms = std::round(*bare);
    if (!(ms >= 0) || ms > kMaxMs) return std::nullopt;
    return static_cast<uint64_t>(ms);
  }
  // Otherwise one or more <number><unit> parts, largest unit first, each
  // unit at most once: "1h2m3s500ms".
  rest = text;
  double total = 0;
  int last_rank = -1;
  while (!rest.empty()) {
    auto value = take_number(rest);
    if (!value) return std::nullopt;
    size_t i = 0;
    while (i < rest.size() && rest[i] >= 'a' && rest[i] <= 'z') ++i;
    auto unit = unit_of(rest.substr(0, i));
    if (!unit || unit->rank <= last_rank) return std::nullopt;
    rest.remove_prefix(i);
    last_rank = unit->rank;
    total += *value * unit->scale;
    if (total > kMaxMs) return std::nullopt;
  }
  if (last_rank < 0) return std::nullopt;
  double ms = std::round(total);
  if (!(ms >= 0) || ms > kMaxMs) return std::nullopt;
  return static_cast<uint64_t>(ms);
}

std::string format_duration_ms(uint64_t ms) {
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace roster
