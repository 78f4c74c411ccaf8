// Table-driven spelling of enums whose values run 0, 1, 2, ...: one array of
// names indexed by the value replaces a switch ladder in each direction.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace roster {

// Returns names[value], or `fallback` when `value` is past the end of `names`.
template <typename Enum, typename Name, size_t N>
constexpr Name enum_name(Enum value, const Name (&names)[N], Name fallback) {
  const auto index = static_cast<size_t>(value);
  return index < N ? names[index] : fallback;
}

// Returns the value whose name among the first `count` of `names` is `text`,
// or nullopt when none is.
template <typename Enum, typename Name, size_t N>
std::optional<Enum> enum_from_name(std::string_view text, const Name (&names)[N],
                                   size_t count = N) {
  for (size_t i = 0; i < count && i < N; ++i) {
    if (names[i] == text) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace roster
