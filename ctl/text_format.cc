#include "text_format.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "roster/utf8.h"

namespace roster::ctl {

std::string format_time(uint64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &utc);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03uZ", date, static_cast<unsigned>(unix_ms % 1000));
  return out;
}

std::string format_labels(const Labels& labels) {
  if (labels.empty()) return "-";
  std::string out;
  for (const auto& [key, value] : labels) {
    if (!out.empty()) out += ',';
    out += escape_for_terminal(key) + '=' + escape_for_terminal(value);
  }
  return out;
}

std::string format_table(const std::vector<std::string>& header,
                         const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size());
  for (size_t c = 0; c < header.size(); ++c) widths[c] = header[c].size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t c = 0; c < cells.size(); ++c) {
      text += cells[c];
      if (c + 1 < cells.size()) text += std::string(widths[c] - cells[c].size() + 2, ' ');
    }
    out += text + '\n';
  };
  line(header);
  for (const auto& row : rows) line(row);
  return out;
}

}  // namespace roster::ctl
