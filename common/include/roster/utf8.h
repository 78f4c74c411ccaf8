// UTF-8 checks for the strings of the wire protocol, and a safe rendering
// of peer strings for terminals.
//
// Well-formed UTF-8 is as RFC 3629 defines it: no overlong forms, no
// surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no truncated
// sequence and no stray continuation byte.
//
// Thread safety: all functions are pure and may be called concurrently.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace roster {

// The length of the longest well-formed prefix of `text`: text.size() when
// all of it is well-formed UTF-8, otherwise the offset of the first
// ill-formed sequence. Allocates nothing.
size_t utf8_valid_prefix(std::string_view text);

// True iff `text` is well-formed UTF-8. Allocates nothing.
inline bool is_valid_utf8(std::string_view text) {
  return utf8_valid_prefix(text) == text.size();
}

// Returns `text` with every ill-formed sequence replaced by U+FFFD (one per
// maximal subpart, the Unicode practice also used by browsers: "\xe2\x82"
// followed by "a" becomes U+FFFD "a", and "\xff\xfe" becomes two U+FFFD).
// Well-formed text is returned unchanged. The result is at most three times
// as long as `text`.
std::string replace_invalid_utf8(std::string_view text);

// Returns `text` safe to print on a terminal, on one line: printable ASCII
// and well-formed non-ASCII characters are kept; C0 controls (CR, LF, ESC,
// ...) and DEL become "\xNN"; C1 controls (U+0080..U+009F), line and
// paragraph separators and bidirectional overrides become "\u{NNNN}";
// every byte of an ill-formed sequence becomes "\xNN"; a backslash becomes
// "\\", so that an escape in the output always means an escaped byte.
std::string escape_for_terminal(std::string_view text);

}  // namespace roster
