// The CURVE keys of one benchmark run, generated at its start into its work
// directory: the broker's pair, and one client pair that the broker admits
// on every endpoint and that may claim any node id.
#pragma once

#include <optional>
#include <string>

#include "curve_client.h"

namespace roster::bench {

struct BenchKeys {
  std::string broker_secret_file;  // --curve-secret of the broker and the ceiling
  std::string agent_keys_dir;      // --agent-keys: the client's public certificate
  std::string admin_keys_dir;      // --admin-keys: the same
  CurveClientKeys client;          // the load generator's keys
};

// Writes the keys under `work_dir`/curve. Returns nullopt with *error set
// when a file cannot be written.
std::optional<BenchKeys> make_bench_keys(const std::string& work_dir, std::string* error);

}  // namespace roster::bench
