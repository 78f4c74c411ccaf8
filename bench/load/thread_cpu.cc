#include "thread_cpu.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace roster::bench {

namespace {

// utime + stime of a /proc stat file, in seconds; 0 when unreadable.
double stat_cpu_seconds(const std::string& path) {
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command (which may hold spaces) start after ") ".
  const auto close = text.rfind(')');
  if (close == std::string::npos || close + 2 > text.size()) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  uint64_t ticks = 0;
  // utime and stime are fields 14 and 15; field 3 comes first here.
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index == 14 || index == 15) ticks += std::stoull(field);
  }
  return static_cast<double>(ticks) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

std::map<std::string, double> thread_cpu_seconds(pid_t pid) {
  std::map<std::string, double> threads;
  const std::string dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return threads;
  while (struct dirent* e = ::readdir(d)) {
    const std::string tid = e->d_name;
    if (tid.empty() || tid[0] < '0' || tid[0] > '9') continue;
    std::ifstream comm(dir + "/" + tid + "/comm");
    std::string name;
    std::getline(comm, name);
    threads[name + "/" + tid] = stat_cpu_seconds(dir + "/" + tid + "/stat");
  }
  ::closedir(d);
  return threads;
}

std::map<std::string, double> thread_cpu_pct(const std::map<std::string, double>& before,
                                             const std::map<std::string, double>& after,
                                             double wall_seconds) {
  std::map<std::string, double> pct;
  if (wall_seconds <= 0) return pct;
  for (const auto& [thread, seconds] : after) {
    auto earlier = before.find(thread);
    const double start = earlier == before.end() ? 0 : earlier->second;
    pct[thread] = (seconds - start) / wall_seconds * 100;
  }
  return pct;
}

}  // namespace roster::bench
