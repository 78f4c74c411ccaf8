#include "log_format.h"

#include <sys/stat.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>

#include "roster/utf8.h"

namespace roster::service {

namespace {

// spdlog's names: trace, debug, info, warning, error, critical.
std::string_view level_name(spdlog::level::level_enum level) {
  auto name = spdlog::level::to_string_view(level);
  return std::string_view(name.data(), name.size());
}

// Appends `text` as the contents of a JSON string (no quotes).
void append_json_string(std::string& out, std::string_view text) {
  const std::string valid = replace_invalid_utf8(text);
  for (char c : valid) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
}

class LineFormatter : public spdlog::formatter {
 public:
  LineFormatter(LogFormat format, bool journal) : format_(format), journal_(journal) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line =
        format_log_line(format_, journal_, msg.level, msg.time,
                        std::string_view(msg.logger_name.data(), msg.logger_name.size()),
                        std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<LineFormatter>(format_, journal_);
  }

 private:
  LogFormat format_;
  bool journal_;
};

}  // namespace

std::optional<LogFormat> parse_log_format(std::string_view name) {
  if (name == "text") return LogFormat::kText;
  if (name == "json") return LogFormat::kJson;
  return std::nullopt;
}

bool stderr_is_journal() {
  const char* stream = std::getenv("JOURNAL_STREAM");
  if (stream == nullptr) return false;
  unsigned long long device = 0;
  unsigned long long inode = 0;
  if (std::sscanf(stream, "%llu:%llu", &device, &inode) != 2) return false;
  struct stat status {};
  if (fstat(2, &status) != 0) return false;
  return static_cast<unsigned long long>(status.st_dev) == device &&
         static_cast<unsigned long long>(status.st_ino) == inode;
}

int syslog_priority(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
      return 7;
    case spdlog::level::info:
      return 6;
    case spdlog::level::warn:
      return 4;
    case spdlog::level::err:
      return 3;
    default:
      return 2;
  }
}

std::string rfc3339_utc(std::chrono::system_clock::time_point time) {
  using namespace std::chrono;
  const auto ms = duration_cast<milliseconds>(time.time_since_epoch()).count();
  time_t seconds = static_cast<time_t>(ms / 1000);
  int millis = static_cast<int>(ms % 1000);
  if (millis < 0) {
    millis += 1000;
    --seconds;
  }
  tm utc{};
  gmtime_r(&seconds, &utc);
  char text[80];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, millis);
  return text;
}

std::string format_log_line(LogFormat format, bool journal, spdlog::level::level_enum level,
                            std::chrono::system_clock::time_point time, std::string_view logger,
                            std::string_view message) {
  std::string line;
  line.reserve(message.size() + 64);
  if (format == LogFormat::kJson) {
    line += "{\"ts\":\"";
    line += rfc3339_utc(time);
    line += "\",\"level\":\"";
    line += level_name(level);
    line += "\",\"logger\":\"";
    append_json_string(line, logger);
    line += "\",\"msg\":\"";
    append_json_string(line, message);
    line += "\"}\n";
    return line;
  }
  if (journal) {
    line += '<';
    line += std::to_string(syslog_priority(level));
    line += '>';
  }
  line += rfc3339_utc(time);
  line += ' ';
  line += level_name(level);
  line += ' ';
  line += message;
  line += '\n';
  return line;
}

std::unique_ptr<spdlog::formatter> make_log_formatter(LogFormat format, bool journal) {
  return std::make_unique<LineFormatter>(format, journal);
}

}  // namespace roster::service
