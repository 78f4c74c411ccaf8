// The --ready-file contract: once every socket is bound, the broker writes
//   agents=EP
//   publish=EP
//   admin=EP
//   pid=N
//   http=HOST:PORT   (only with --http)
// (resolved endpoints, e.g. tcp://127.0.0.1:* becomes the real port) to
// FILE.tmp and renames it to FILE, so a reader never sees a partial file.
// The reader is for tests and tools that start a broker (or the benchmark's
// ceiling ROUTER, which writes only the agents line) and wait for it.
#pragma once

#include <optional>
#include <string>

namespace roster::broker {

struct ReadyInfo {
  std::string agents;
  std::string publish;
  std::string admin;
  long pid = 0;
  std::string http;  // HOST:PORT of --http; empty without it
};

// Writes `info` to `path` atomically (written and synced to FILE.tmp, then
// renamed). Returns a one-line error or nullopt; on error no FILE.tmp is
// left behind.
std::optional<std::string> write_ready_file(const std::string& path, const ReadyInfo& info);

// Reads a ready file written by write_ready_file(). Returns nullopt while
// `path` does not exist or holds no agents line; a line that is absent
// leaves its field empty (pid 0). Unknown lines are ignored.
std::optional<ReadyInfo> read_ready_file(const std::string& path);

}  // namespace roster::broker
