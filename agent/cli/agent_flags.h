// The command line of roster-agent, parsed into an AgentConfig.
#pragma once

#include <optional>
#include <string>

#include "roster/agent_config.h"

namespace roster {

// Exit statuses of roster-agent (documented in docs/OPERATIONS.md).
inline constexpr int kExitOk = 0;         // left (or stopped) after SIGTERM/SIGINT
inline constexpr int kExitFailure = 1;    // refused by the broker (bad_request...), runtime error
inline constexpr int kExitUsage = 2;      // invalid command line
inline constexpr int kExitRemoved = 3;    // removed by the operator: must not be restarted blindly
inline constexpr int kExitDuplicate = 4;  // another agent holds this node id: fix the config

// Prefix of the environment variables that flags can come from: --node-id
// from ROSTER_AGENT_NODE_ID, --config from ROSTER_AGENT_CONFIG. Distinct from
// the broker's ROSTER_ (no broker option starts with "agent-"), so one
// environment can hold both. The command line wins over the config file,
// which wins over the environment.
inline constexpr const char* kAgentEnvironmentPrefix = "ROSTER_AGENT_";

// What the command line asks for.
struct AgentFlags {
  AgentConfig config;
  std::string log_level = "info";
  // "text" or "json" (service/log_format.h).
  std::string log_format = "text";
};

// Either the flags, or the exit status to leave with at once (help printed:
// kExitOk; invalid flags, message printed to stderr: kExitUsage).
struct ParsedFlags {
  std::optional<AgentFlags> flags;
  int exit_status = kExitOk;
};

// Parses argv, the --config file if given and the ROSTER_AGENT_* environment
// variables. Prints help or a clear error message itself.
ParsedFlags parse_agent_flags(int argc, char** argv);

}  // namespace roster
