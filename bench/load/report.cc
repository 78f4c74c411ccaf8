#include "report.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>

namespace roster::bench {

namespace {

std::string cpuinfo_value(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    return value;
  }
  return "unknown";
}

std::string meminfo_total() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  std::getline(in, line);
  return line.rfind("MemTotal:", 0) == 0 ? line.substr(9) : "unknown";
}

std::string trimmed(std::string s) {
  s.erase(0, s.find_first_not_of(' '));
  return s;
}

}  // namespace

nlohmann::json machine_info() {
  nlohmann::json m;
  m["nproc"] = ::sysconf(_SC_NPROCESSORS_ONLN);
  m["cpu_model"] = cpuinfo_value("model name");
  m["memory"] = trimmed(meminfo_total());
  struct utsname u {};
  if (::uname(&u) == 0) m["kernel"] = std::string(u.sysname) + " " + u.release;
  double load[3] = {0, 0, 0};
  if (::getloadavg(load, 3) == 3) m["loadavg_1m_at_end"] = load[0];
  return m;
}

std::string utc_timestamp() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

void print_table(std::ostream& out, const std::vector<ScenarioResult>& results, Mode mode) {
  const int metric_width = 52;
  // The longest scenario name ("ingest_curve", "ceiling_curve") plus a space.
  const int name_width = 15;
  out << "\n"
      << std::left << std::setw(name_width) << "scenario" << std::setw(metric_width) << "metric"
      << "value\n";
  out << std::string(name_width + metric_width + 30, '-') << "\n";
  for (const auto& r : results) {
    for (const auto& row : r.rows) {
      out << std::setw(name_width) << r.name << std::setw(metric_width) << row.metric << row.value
          << "\n";
    }
    for (const auto& t : r.targets) {
      const std::string verdict = t.met() ? "met" : (mode == Mode::kFull ? "MISSED" : "missed");
      out << std::setw(name_width) << r.name << std::setw(metric_width) << ("target: " + t.name)
          << fixed(t.value, 2) << " " << t.unit << (t.at_most ? " <= " : " >= ")
          << fixed(t.limit, 2) << " " << t.unit << "  " << verdict << "\n";
    }
    if (!r.ran) out << std::setw(name_width) << r.name << "FAILED TO RUN: " << r.error << "\n";
  }
  if (mode != Mode::kFull) {
    out << "(" << to_string(mode)
        << " mode runs scaled-down scenarios: targets apply to full mode only)\n";
  }
}

nlohmann::json run_document(const std::vector<ScenarioResult>& results, const BenchConfig& config,
                            const std::string& timestamp, const std::string& command_line) {
  nlohmann::json doc;
  doc["tool"] = "roster-bench";
  doc["date"] = timestamp;
  doc["mode"] = to_string(config.mode);
  doc["command"] = command_line;
  doc["machine"] = machine_info();
  doc["scenarios"] = nlohmann::json::object();
  for (const auto& r : results) {
    nlohmann::json s = r.metrics;
    s["ran"] = r.ran;
    if (!r.ran) s["error"] = r.error;
    nlohmann::json targets = nlohmann::json::array();
    for (const auto& t : r.targets) {
      targets.push_back({{"name", t.name},
                         {"value", t.value},
                         {"limit", t.limit},
                         {"at_most", t.at_most},
                         {"unit", t.unit},
                         {"met", t.met()}});
    }
    s["targets"] = targets;
    doc["scenarios"][r.name] = s;
  }
  return doc;
}

std::string write_results(const nlohmann::json& doc, const std::string& dir, Mode mode,
                          const std::string& timestamp, std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    *error = "cannot create " + dir + ": " + ec.message();
    return {};
  }
  std::string stamp = timestamp;
  for (char& c : stamp) {
    if (c == ':') c = '-';
  }
  const std::string path = dir + "/" + to_string(mode) + "-" + stamp + ".json";
  for (const std::string& p : {path, dir + "/latest-" + to_string(mode) + ".json"}) {
    std::ofstream out(p);
    out << doc.dump(2) << "\n";
    if (!out) {
      *error = "cannot write " + p;
      return {};
    }
  }
  return path;
}

}  // namespace roster::bench
