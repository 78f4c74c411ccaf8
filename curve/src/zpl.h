// A reader and writer for the subset of ZPL (ZeroMQ RFC 4) that CURVE
// certificates use: a tree of `name` and `name = value` lines, four spaces
// of indentation per level, `#` comments, values bare or in single or double
// quotes (no escapes). Pure string functions, no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace roster::zpl {

// One `name = value` (or bare `name`) line, by its full path: "curve/public-key".
struct Entry {
  std::string path;
  std::string value;
  bool has_value = false;
  size_t line = 0;  // 1-based
};

struct Document {
  std::vector<Entry> entries;  // in file order
  std::string error;           // empty on success; else "line N: problem"
};

// Parses `text`. On the first bad line, returns what was read so far and
// sets `error`. Duplicate paths are an error (a certificate must not be
// ambiguous).
Document parse(std::string_view text);

// True iff `name` is a non-empty ZPL name: [A-Za-z0-9$-_@.&+/]+.
bool is_name(std::string_view name);

// `value` quoted for a ZPL line: in double quotes, or single quotes if it
// holds a double quote. REQUIRES: it does not hold both (else empty string).
std::string quote(std::string_view value);

}  // namespace roster::zpl
