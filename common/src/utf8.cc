#include "roster/utf8.h"

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace roster {

namespace {

// One step of decoding at text[at]: a well-formed character of `size`
// bytes, or an ill-formed sequence whose maximal subpart is `size` bytes
// (at least 1).
struct Step {
  uint32_t code_point = 0;
  size_t size = 1;
  bool ok = false;
};

// RFC 3629, section 4: the first byte decides how many continuation bytes
// follow and the range of the first of them (which is what excludes
// overlong forms, surrogates and code points above U+10FFFF).
Step decode(std::string_view text, size_t at) {
  const auto lead = static_cast<unsigned char>(text[at]);
  if (lead < 0x80) return {lead, 1, true};
  size_t follow = 0;
  uint32_t code_point = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    follow = 1;
    code_point = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    follow = 2;
    code_point = lead & 0x0F;
    if (lead == 0xE0) low = 0xA0;   // below: overlong
    if (lead == 0xED) high = 0x9F;  // above: surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    follow = 3;
    code_point = lead & 0x07;
    if (lead == 0xF0) low = 0x90;   // below: overlong
    if (lead == 0xF4) high = 0x8F;  // above: beyond U+10FFFF
  } else {
    return {};  // a continuation byte, C0/C1 (overlong) or F5..FF
  }
  for (size_t k = 1; k <= follow; ++k) {
    if (at + k >= text.size()) return {0, k, false};  // truncated
    const auto byte = static_cast<unsigned char>(text[at + k]);
    if (byte < low || byte > high) return {0, k, false};
    low = 0x80;
    high = 0xBF;
    code_point = (code_point << 6) | (byte & 0x3F);
  }
  return {code_point, follow + 1, true};
}

// Characters that move the cursor or reorder text without being controls.
bool is_format_hazard(uint32_t c) {
  return c == 0x2028 || c == 0x2029 ||    // line and paragraph separators
         c == 0x200E || c == 0x200F ||    // left-to-right and right-to-left marks
         (c >= 0x202A && c <= 0x202E) ||  // bidirectional embeddings and overrides
         (c >= 0x2066 && c <= 0x2069);    // bidirectional isolates
}

void append_byte_escape(unsigned char byte, std::string& out) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "\\x%02x", byte);
  out += buf;
}

void append_code_point_escape(uint32_t code_point, std::string& out) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "\\u{%04x}", static_cast<unsigned>(code_point));
  out += buf;
}

}  // namespace

size_t utf8_valid_prefix(std::string_view text) {
  size_t at = 0;
  while (at < text.size()) {
    // Most protocol strings are ASCII: skip them eight bytes at a time.
    uint64_t word;
    if (text.size() - at >= sizeof word) {
      std::memcpy(&word, text.data() + at, sizeof word);
      if ((word & 0x8080808080808080ull) == 0) {
        at += sizeof word;
        continue;
      }
    }
    if (static_cast<unsigned char>(text[at]) < 0x80) {
      ++at;
      continue;
    }
    const Step step = decode(text, at);
    if (!step.ok) return at;
    at += step.size;
  }
  return at;
}

std::string replace_invalid_utf8(std::string_view text) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD
  size_t at = utf8_valid_prefix(text);
  std::string out(text.substr(0, at));
  while (at < text.size()) {
    const Step step = decode(text, at);
    if (step.ok) {
      out.append(text.substr(at, step.size));
    } else {
      out.append(kReplacement);
    }
    at += step.size;
  }
  return out;
}

std::string escape_for_terminal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t at = 0;
  while (at < text.size()) {
    const auto byte = static_cast<unsigned char>(text[at]);
    if (byte < 0x80) {
      if (byte == '\\') {
        out += "\\\\";
      } else if (byte < 0x20 || byte == 0x7F) {
        append_byte_escape(byte, out);
      } else {
        out += static_cast<char>(byte);
      }
      ++at;
      continue;
    }
    const Step step = decode(text, at);
    if (!step.ok) {
      for (size_t k = 0; k < step.size; ++k) {
        append_byte_escape(static_cast<unsigned char>(text[at + k]), out);
      }
    } else if (step.code_point <= 0x9F || is_format_hazard(step.code_point)) {
      append_code_point_escape(step.code_point, out);
    } else {
      out.append(text.substr(at, step.size));
    }
    at += step.size;
  }
  return out;
}

}  // namespace roster
