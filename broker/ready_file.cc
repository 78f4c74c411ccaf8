#include "ready_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

namespace roster::broker {

std::optional<std::string> write_ready_file(const std::string& path, const ReadyInfo& info) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "agents=" << info.agents << "\npublish=" << info.publish << "\nadmin=" << info.admin
        << "\npid=" << info.pid << "\n";
    out.flush();
    if (!out) return "cannot write --ready-file " + tmp + ": " + std::strerror(errno);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string error = "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno);
    std::remove(tmp.c_str());
    return error;
  }
  return std::nullopt;
}

}  // namespace roster::broker
