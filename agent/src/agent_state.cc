#include "roster/agent_state.h"

namespace roster {

std::string_view to_string(AgentPhase phase) {
  switch (phase) {
    case AgentPhase::kIdle:
      return "idle";
    case AgentPhase::kJoining:
      return "joining";
    case AgentPhase::kJoined:
      return "joined";
    case AgentPhase::kBackoff:
      return "backoff";
    case AgentPhase::kLeaving:
      return "leaving";
    case AgentPhase::kStopped:
      return "stopped";
    case AgentPhase::kRemoved:
      return "removed";
    case AgentPhase::kConfigError:
      return "config_error";
  }
  return "unknown";
}

std::string_view to_string(AgentEvent event) {
  switch (event) {
    case AgentEvent::kJoined:
      return "joined";
    case AgentEvent::kRejoined:
      return "rejoined";
    case AgentEvent::kBrokerLost:
      return "broker_lost";
    case AgentEvent::kRemoved:
      return "removed";
    case AgentEvent::kConfigError:
      return "config_error";
    case AgentEvent::kLeft:
      return "left";
    case AgentEvent::kStopped:
      return "stopped";
    case AgentEvent::kRefused:
      return "refused";
  }
  return "unknown";
}

bool is_terminal(AgentEvent event) {
  return event == AgentEvent::kRemoved || event == AgentEvent::kConfigError ||
         event == AgentEvent::kLeft || event == AgentEvent::kStopped;
}

}  // namespace roster
