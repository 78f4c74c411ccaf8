// roster-agent: registers this node with a roster broker and keeps it alive
// until SIGTERM/SIGINT (then leaves), or until the broker says the operator
// removed it (exit status 3).
#include <pthread.h>
#include <signal.h>
#include <spdlog/fmt/ranges.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>

#include "agent_flags.h"
#include "roster/agent.h"

namespace {

// The exit status chosen by the agent's thread (removed, refused), or -1.
std::atomic<int> g_agent_exit{-1};
pthread_t g_main_thread;

int exit_status_for(roster::AgentEvent event) {
  switch (event) {
    case roster::AgentEvent::kRemoved:
      return roster::kExitRemoved;
    case roster::AgentEvent::kConfigError:
      return roster::kExitFailure;
    default:
      return -1;
  }
}

// Runs on the agent's thread: hands a terminal event to the main thread,
// which waits in sigwait().
void on_state(const roster::AgentStateChange& change) {
  const int status = exit_status_for(change.event);
  if (status < 0) return;
  g_agent_exit.store(status);
  pthread_kill(g_main_thread, SIGUSR1);
}

}  // namespace

int main(int argc, char** argv) {
  // Every thread (ZeroMQ's, the agent's) inherits this mask, so the signals
  // reach only sigwait() below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  g_main_thread = pthread_self();

  roster::ParsedFlags parsed = roster::parse_agent_flags(argc, argv);
  if (!parsed.flags) return parsed.exit_status;
  auto logger = spdlog::stderr_color_mt("roster-agent");
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(parsed.flags->log_level));

  roster::Agent agent(parsed.flags->config, on_state);
  if (auto error = agent.start()) {
    spdlog::error("cannot start: {}", *error);
    return roster::kExitFailure;
  }
  spdlog::info("agent {} started; brokers: {}", parsed.flags->config.node_id,
               fmt::join(parsed.flags->config.brokers, ", "));
  while (true) {
    int signal = 0;
    if (sigwait(&signals, &signal) != 0) continue;
    if (signal == SIGUSR1) {
      const int status = g_agent_exit.load();
      if (status < 0) continue;
      agent.stop(false);
      if (status == roster::kExitRemoved) {
        spdlog::error("removed by the operator; exiting with status {} (do not restart blindly)",
                      status);
      }
      return status;
    }
    spdlog::info("signal {}: leaving", signal);
    agent.stop(true);
    return roster::kExitOk;
  }
}
