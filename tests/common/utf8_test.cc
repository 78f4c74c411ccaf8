// The UTF-8 checks of roster/utf8.h, table-driven: well-formed and
// ill-formed sequences (RFC 3629), replacement by U+FFFD per maximal
// subpart, and the terminal escape of peer strings.
#include "roster/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace roster {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

struct Case {
  const char* name;
  std::string text;
};

// Well-formed, including every boundary of RFC 3629's table.
const Case kValid[] = {
    {"Empty", ""},
    {"Ascii", "host-1:8080"},
    {"AsciiControlsAreWellFormed", std::string("\x00\x1b[31m\r\n\x7f", 9)},
    {"TwoByteLowest", "\xC2\x80"},                             // U+0080
    {"TwoByteHighest", "\xDF\xBF"},                            // U+07FF
    {"ThreeByteLowest", "\xE0\xA0\x80"},                       // U+0800
    {"BeforeSurrogates", "\xED\x9F\xBF"},                      // U+D7FF
    {"AfterSurrogates", "\xEE\x80\x80"},                       // U+E000
    {"ThreeByteHighest", "\xEF\xBF\xBF"},                      // U+FFFF
    {"FourByteLowest", "\xF0\x90\x80\x80"},                    // U+10000
    {"HighestCodePoint", "\xF4\x8F\xBF\xBF"},                  // U+10FFFF
    {"ReplacementCharacter", "\xEF\xBF\xBD"},                  // U+FFFD itself
    {"Mixed", "z\xC3\xBCrich \xE2\x82\xAC \xF0\x9F\x98\x80"},  // "zürich € 😀"
};

// Ill-formed: each with the offset of the first ill-formed sequence and the
// text with U+FFFD per maximal subpart.
struct BadCase {
  const char* name;
  std::string text;
  size_t valid_prefix;
  std::string replaced;
};

const BadCase kInvalid[] = {
    {"LoneFF", "\xFF", 0, kFffd},
    {"FFInText",
     "ab\xFF"
     "cd",
     2, "ab" + kFffd + "cd"},
    {"FE", "\xFE", 0, kFffd},
    {"F5LeadByte", "\xF5\x80\x80\x80", 0, kFffd + kFffd + kFffd + kFffd},
    {"StrayContinuation", "a\x80z", 1, "a" + kFffd + "z"},
    {"OverlongC0", "\xC0\xAF", 0, kFffd + kFffd},  // '/' in 2 bytes
    {"OverlongC1", "\xC1\xBF", 0, kFffd + kFffd},
    {"OverlongThreeByte", "\xE0\x80\xAF", 0, kFffd + kFffd + kFffd},  // '/' in 3 bytes
    {"OverlongFourByte", "\xF0\x80\x80\xAF", 0, kFffd + kFffd + kFffd + kFffd},
    {"OverlongNul", "\xC0\x80", 0, kFffd + kFffd},
    {"SurrogateLow", "\xED\xA0\x80", 0, kFffd + kFffd + kFffd},          // U+D800
    {"SurrogateHigh", "\xED\xBF\xBF", 0, kFffd + kFffd + kFffd},         // U+DFFF
    {"AboveMax", "\xF4\x90\x80\x80", 0, kFffd + kFffd + kFffd + kFffd},  // U+110000
    {"TruncatedTwoByteAtEnd", "a\xC3", 1, "a" + kFffd},
    {"TruncatedThreeByteAtEnd", "\xE2\x82", 0, kFffd},
    {"TruncatedFourByteAtEnd", "\xF0\x9F\x98", 0, kFffd},
    {"TruncatedThreeByteBeforeAscii", "\xE2\x82z", 0, kFffd + "z"},
    {"TruncatedBeforeAnotherLead", "\xE2\x82\xE2\x82\xAC", 0, kFffd + "\xE2\x82\xAC"},
    {"ValidThenInvalid", "\xC3\xBC\xFF", 2, "\xC3\xBC" + kFffd},
};

TEST(Utf8, WellFormedTextIsValid) {
  for (const Case& c : kValid) {
    SCOPED_TRACE(c.name);
    EXPECT_TRUE(is_valid_utf8(c.text));
    EXPECT_EQ(utf8_valid_prefix(c.text), c.text.size());
    EXPECT_EQ(replace_invalid_utf8(c.text), c.text);
  }
}

TEST(Utf8, IllFormedTextIsInvalidAndReplacedPerMaximalSubpart) {
  for (const BadCase& c : kInvalid) {
    SCOPED_TRACE(c.name);
    EXPECT_FALSE(is_valid_utf8(c.text));
    EXPECT_EQ(utf8_valid_prefix(c.text), c.valid_prefix);
    const std::string replaced = replace_invalid_utf8(c.text);
    EXPECT_EQ(replaced, c.replaced);
    EXPECT_TRUE(is_valid_utf8(replaced));
  }
}

TEST(Utf8, EveryTwoByteStringIsValidAfterReplacement) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const std::string text{static_cast<char>(a), static_cast<char>(b)};
      const std::string replaced = replace_invalid_utf8(text);
      ASSERT_TRUE(is_valid_utf8(replaced)) << a << " " << b;
      ASSERT_LE(replaced.size(), 3 * text.size());
      ASSERT_EQ(replaced == text, is_valid_utf8(text)) << a << " " << b;
    }
  }
}

TEST(Utf8, IllFormedByteIsFoundAtEveryOffsetOfLongAsciiText) {
  for (size_t at = 0; at < 40; ++at) {
    std::string text(40, 'a');
    text[at] = '\xff';
    EXPECT_EQ(utf8_valid_prefix(text), at);
    text[at] = '\xC3';  // a two-byte character cut at the end, or followed by 'a'
    EXPECT_EQ(utf8_valid_prefix(text), at);
    text.insert(at + 1, 1, '\xBC');  // completed: U+00FC
    EXPECT_TRUE(is_valid_utf8(text)) << at;
  }
}

struct EscapeCase {
  const char* name;
  std::string text;
  std::string escaped;
};

const EscapeCase kEscapes[] = {
    {"PlainTextIsKept", "10.0.0.7:8080 zone=a", "10.0.0.7:8080 zone=a"},
    {"NonAsciiIsKept", "z\xC3\xBCrich \xE2\x82\xAC", "z\xC3\xBCrich \xE2\x82\xAC"},
    {"AnsiEscape", "\x1b[2J\x1b[31mred", "\\x1b[2J\\x1b[31mred"},
    {"NewlinesAndCarriageReturn", "a\r\nb\n", "a\\x0d\\x0ab\\x0a"},
    {"TabAndBell", "\t\a", "\\x09\\x07"},
    {"Nul", std::string("a\0b", 3), "a\\x00b"},
    {"Del", "\x7f", "\\x7f"},
    {"C1Csi",
     "\xC2\x9B"
     "31m",
     "\\u{009b}31m"},  // U+009B: a one-character CSI
    {"C1Nel", "\xC2\x85", "\\u{0085}"},
    {"LineSeparator", "\xE2\x80\xA8", "\\u{2028}"},
    {"RightToLeftOverride",
     "\xE2\x80\xAE"
     "cod.exe",
     "\\u{202e}cod.exe"},
    {"IllFormedBytes", "a\xFF\xC3", "a\\xff\\xc3"},
    {"Backslash", "C:\\x1b", "C:\\\\x1b"},
};

TEST(Utf8, EscapeForTerminalLeavesNoControlBytes) {
  for (const EscapeCase& c : kEscapes) {
    SCOPED_TRACE(c.name);
    const std::string escaped = escape_for_terminal(c.text);
    EXPECT_EQ(escaped, c.escaped);
    EXPECT_TRUE(is_valid_utf8(escaped));
    for (unsigned char byte : escaped) EXPECT_TRUE(byte >= 0x20 && byte != 0x7F) << int(byte);
  }
}

}  // namespace
}  // namespace roster
