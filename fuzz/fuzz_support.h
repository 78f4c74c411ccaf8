// What the fuzz targets share: a check that aborts (libFuzzer reports it as
// a crash, with the input), the separator of the targets that read a
// sequence of messages, the fixed clock, and the invariants every decoded
// message must keep (UTF-8, decode -> encode -> decode).
//
// Thread safety: everything here is pure.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "roster/clock.h"
#include "roster/codec.h"
#include "roster/protocol.h"
#include "roster/utf8.h"

// Aborts with the condition when it does not hold: an invariant broke.
#define ROSTER_FUZZ_CHECK(cond)                                                         \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                     \
    }                                                                                   \
  } while (0)

namespace roster::fuzz {

// Unix ms the targets start at (any fixed time: the runs are reproducible).
inline constexpr TimeMs kStart = 1'700'000'000'000;

// Separates the messages of one input in the sequence targets: 0xc1 is the
// one byte msgpack never uses as a type and UTF-8 never uses at all, so a
// separator is never mistaken for a string byte.
inline constexpr char kSeparator = '\xc1';

inline std::string_view as_body(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// The messages of a sequence input, at most `max` of them.
inline std::vector<std::string_view> split(std::string_view input, size_t max) {
  std::vector<std::string_view> out;
  while (out.size() < max) {
    size_t end = input.find(kSeparator);
    out.push_back(input.substr(0, end));
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + 1);
  }
  return out;
}

inline bool utf8(const Labels& labels) {
  for (const auto& [key, value] : labels) {
    if (!is_valid_utf8(key) || !is_valid_utf8(value)) return false;
  }
  return true;
}

inline bool utf8(const NodeRecord& r) {
  return is_valid_utf8(r.node) && is_valid_utf8(r.addr) && utf8(r.labels);
}

inline bool utf8(const std::vector<NodeRecord>& records) {
  for (const NodeRecord& r : records) {
    if (!utf8(r)) return false;
  }
  return true;
}

// A refusal of a decoder: a protocol code and a readable, non-empty reason
// that fits an error reply.
inline void check_error(const DecodeError& e) {
  ROSTER_FUZZ_CHECK(e.code == ErrorCode::kBadRequest || e.code == ErrorCode::kUnsupportedVersion);
  ROSTER_FUZZ_CHECK(!e.message.empty());
  ROSTER_FUZZ_CHECK(e.message.size() <= kMaxMessageBytes);
  ROSTER_FUZZ_CHECK(is_valid_utf8(e.message));
}

// Encoding `value`, which `decode` produced with `replaced` strings
// repaired, and decoding it again gives `value` back, with nothing left to
// repair. A repaired string may have grown past its limit (U+FFFD takes
// three bytes), so after a repair the second decode may refuse it.
template <typename T, typename Decode>
void check_round_trip(const T& value, size_t replaced, Decode decode) {
  auto again = decode(encode(value));
  if (replaced == 0) {
    ROSTER_FUZZ_CHECK(again.ok());
    ROSTER_FUZZ_CHECK(again.value() == value);
  }
  if (again.ok()) ROSTER_FUZZ_CHECK(again.replaced_strings() == 0);
}

}  // namespace roster::fuzz
