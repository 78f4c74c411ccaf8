#include "zpl.h"

#include <cctype>
#include <map>

namespace roster::zpl {

namespace {

constexpr size_t kIndent = 4;

bool is_name_char(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  switch (c) {
    case '$':
    case '-':
    case '_':
    case '@':
    case '.':
    case '&':
    case '+':
    case '/':
      return true;
    default:
      return false;
  }
}

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

std::string line_error(size_t line, const std::string& problem) {
  return "line " + std::to_string(line) + ": " + problem;
}

// Whether only blanks and an optional comment remain from `pos`.
bool rest_is_empty(std::string_view line, size_t pos) {
  while (pos < line.size() && is_blank(line[pos])) ++pos;
  return pos == line.size() || line[pos] == '#';
}

}  // namespace

bool is_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

std::string quote(std::string_view value) {
  const bool has_double = value.find('"') != std::string_view::npos;
  const bool has_single = value.find('\'') != std::string_view::npos;
  if (has_double && has_single) return {};
  const char q = has_double ? '\'' : '"';
  std::string out;
  out.reserve(value.size() + 2);
  out += q;
  out += value;
  out += q;
  return out;
}

Document parse(std::string_view text) {
  Document doc;
  std::vector<std::string> stack;      // names of the open sections, by depth
  std::map<std::string, size_t> seen;  // path -> line
  size_t line_no = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    size_t pos = 0;
    while (pos < line.size() && line[pos] == ' ') ++pos;
    // Blank and comment lines carry nothing, whatever their indentation.
    if (rest_is_empty(line, pos)) {
      if (end == text.size()) break;
      continue;
    }
    if (line[pos] == '\t') {
      doc.error = line_error(line_no, "tab in indentation");
      return doc;
    }
    if (pos % kIndent != 0) {
      doc.error = line_error(line_no, "indentation is not a multiple of 4 spaces");
      return doc;
    }
    const size_t depth = pos / kIndent;
    if (depth > stack.size()) {
      doc.error = line_error(line_no, "indented deeper than its section");
      return doc;
    }
    stack.resize(depth);

    const size_t name_start = pos;
    while (pos < line.size() && is_name_char(line[pos])) ++pos;
    if (pos == name_start) {
      doc.error = line_error(line_no, "expected a name");
      return doc;
    }
    Entry entry;
    entry.line = line_no;
    const std::string name(line.substr(name_start, pos - name_start));
    for (const auto& parent : stack) entry.path += parent + "/";
    entry.path += name;

    while (pos < line.size() && is_blank(line[pos])) ++pos;
    if (pos < line.size() && line[pos] == '=') {
      ++pos;
      while (pos < line.size() && is_blank(line[pos])) ++pos;
      entry.has_value = true;
      if (pos < line.size() && (line[pos] == '"' || line[pos] == '\'')) {
        const char q = line[pos];
        const size_t close = line.find(q, pos + 1);
        if (close == std::string_view::npos) {
          doc.error = line_error(line_no, "unterminated quoted value");
          return doc;
        }
        entry.value = std::string(line.substr(pos + 1, close - pos - 1));
        pos = close + 1;
      } else {
        const size_t value_start = pos;
        while (pos < line.size() && !is_blank(line[pos]) && line[pos] != '#') ++pos;
        entry.value = std::string(line.substr(value_start, pos - value_start));
      }
    }
    if (!rest_is_empty(line, pos)) {
      doc.error = line_error(line_no, "unexpected text after " +
                                          std::string(entry.has_value ? "the value" : "the name"));
      return doc;
    }
    const auto [it, inserted] = seen.emplace(entry.path, line_no);
    if (!inserted) {
      doc.error = line_error(line_no, "duplicate " + entry.path + " (first on line " +
                                          std::to_string(it->second) + ")");
      return doc;
    }
    stack.push_back(name);
    doc.entries.push_back(std::move(entry));
    if (end == text.size()) break;
  }
  return doc;
}

}  // namespace roster::zpl
