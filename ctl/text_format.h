// Human-readable renderings for rosterctl's default (non-JSON) output.
// Every string that came from the broker is printed through
// escape_for_terminal() (roster/utf8.h): no control character from a peer
// (ANSI escape, CR, LF, ...) reaches the terminal.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "roster/protocol.h"

namespace roster::ctl {

// Unix ms as UTC "2026-11-27T21:05:00.123Z".
std::string format_time(uint64_t unix_ms);

// "k=v,k2=v2" with keys and values escaped for the terminal, or "-" when
// there are none.
std::string format_labels(const Labels& labels);

// Rows as aligned columns: two spaces between columns, no trailing blanks.
// REQUIRES: every row has as many cells as `header`.
std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows);

}  // namespace roster::ctl
