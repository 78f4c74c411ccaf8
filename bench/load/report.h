// Output of the load benchmark: the table on stdout and the JSON document
// under bench/results/, both describing the machine they were measured on.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_config.h"
#include "scenario.h"

namespace roster::bench {

// nproc, CPU model (/proc/cpuinfo), kernel, memory.
nlohmann::json machine_info();

// Current UTC time as 2026-01-31T12:34:56Z.
std::string utc_timestamp();

// One line per row of every scenario, then its targets (met / MISSED), and
// failures with their reason.
void print_table(std::ostream& out, const std::vector<ScenarioResult>& results, Mode mode);

// The whole run as one JSON document.
nlohmann::json run_document(const std::vector<ScenarioResult>& results, const BenchConfig& config,
                            const std::string& timestamp, const std::string& command_line);

// Writes `doc` to DIR/<mode>-<timestamp>.json and DIR/latest-<mode>.json.
// Returns the first path, or an empty string (and *error) on failure.
std::string write_results(const nlohmann::json& doc, const std::string& dir, Mode mode,
                          const std::string& timestamp, std::string* error);

}  // namespace roster::bench
