// Hand-made msgpack bodies for requests the codec's encoders cannot produce
// (another protocol version, unknown types).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace roster::testing {

// A short msgpack string (fixstr, under 32 bytes).
inline std::string mp_str(std::string_view s) {
  return std::string(1, static_cast<char>(0xa0 | s.size())) + std::string(s);
}
// A small msgpack unsigned int (positive fixint, under 128).
inline std::string mp_uint(uint8_t n) {
  return std::string(1, static_cast<char>(n));
}
// A msgpack map of up to 15 (key, already encoded value) pairs.
inline std::string mp_map(const std::vector<std::pair<std::string, std::string>>& entries) {
  std::string out(1, static_cast<char>(0x80 | entries.size()));
  for (const auto& [key, value] : entries) out += mp_str(key) + value;
  return out;
}

}  // namespace roster::testing
