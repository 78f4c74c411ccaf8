#include "roster/agent_state.h"

#include "roster/enum_names.h"

namespace roster {

namespace {
constexpr std::string_view kPhaseNames[] = {
    "idle",    "joining", "joined",       "backoff",   "leaving",
    "stopped", "removed", "config_error", "duplicate",
};
constexpr std::string_view kEventNames[] = {
    "joined",  "rejoined", "broker_lost", "removed",     "config_error", "left",
    "stopped", "refused",  "duplicate",   "broker_done", "auth_failed",  "forbidden",
};
}  // namespace

std::string_view to_string(AgentPhase phase) {
  return enum_name(phase, kPhaseNames, std::string_view("unknown"));
}

std::string_view to_string(AgentEvent event) {
  return enum_name(event, kEventNames, std::string_view("unknown"));
}

bool is_terminal(AgentEvent event) {
  return event == AgentEvent::kRemoved || event == AgentEvent::kConfigError ||
         event == AgentEvent::kLeft || event == AgentEvent::kStopped ||
         event == AgentEvent::kDuplicate;
}

}  // namespace roster
