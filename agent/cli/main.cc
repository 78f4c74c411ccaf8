// roster-agent: registers this node with a roster broker and keeps it alive
// until SIGTERM/SIGINT (then leaves), until the broker says the operator
// removed it (exit status 3), or until another live agent has held its node
// id for longer than lease + dead-after (exit status 4). Under systemd (Type=notify) it reports
// READY=1 once started, STATUS= on every change of state, WATCHDOG=1 and
// STOPPING=1 (docs/OPERATIONS.md, "Agent under systemd").
#include <pthread.h>
#include <signal.h>
#include <spdlog/fmt/ranges.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <ctime>
#include <string>

#include "agent_flags.h"
#include "log_format.h"
#include "roster/agent.h"
#include "roster/clock.h"
#include "systemd_notify.h"

namespace {

// The exit status chosen by the agent's thread (removed, refused), or -1.
std::atomic<int> g_agent_exit{-1};
pthread_t g_main_thread;
roster::service::SystemdNotifier* g_systemd = nullptr;

int exit_status_for(roster::AgentEvent event) {
  switch (event) {
    case roster::AgentEvent::kRemoved:
      return roster::kExitRemoved;
    case roster::AgentEvent::kConfigError:
      return roster::kExitFailure;
    case roster::AgentEvent::kDuplicate:
      return roster::kExitDuplicate;
    default:
      return -1;
  }
}

// Runs on the agent's thread: hands a terminal event to the main thread,
// which waits in sigwait().
void on_state(const roster::AgentStateChange& change) {
  g_systemd->status(std::string(roster::to_string(change.event)) + " (" + change.broker + ") inc " +
                    std::to_string(change.incarnation) + ": " + change.detail);
  const int status = exit_status_for(change.event);
  if (status < 0) return;
  g_agent_exit.store(status);
  pthread_kill(g_main_thread, SIGUSR1);
}

// Waits for one of `signals`; with a watchdog, wakes at least every half
// timeout to ping it. Returns the signal, or 0 on a wake-up without one.
int wait_signal(const sigset_t& signals, const roster::service::SystemdNotifier& systemd) {
  if (systemd.watchdog_timeout_ms() == 0) {
    int signal = 0;
    return sigwait(&signals, &signal) == 0 ? signal : 0;
  }
  const uint64_t half_ms = systemd.watchdog_timeout_ms() / 2;
  timespec timeout{static_cast<time_t>(half_ms / 1000),
                   static_cast<long>((half_ms % 1000) * 1'000'000)};
  int signal = sigtimedwait(&signals, nullptr, &timeout);
  return signal > 0 ? signal : 0;
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
  auto logger = spdlog::stderr_logger_mt("roster-agent");
  logger->set_formatter(roster::service::make_log_formatter(
      roster::service::parse_log_format(parsed.flags->log_format)
          .value_or(roster::service::LogFormat::kText),
      roster::service::stderr_is_journal()));
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(parsed.flags->log_level));

  roster::service::SystemdNotifier systemd;
  g_systemd = &systemd;
  roster::SystemClock clock;
  roster::Agent agent(parsed.flags->config, on_state);
  if (auto error = agent.start()) {
    spdlog::error("cannot start: {}", *error);
    return roster::kExitFailure;
  }
  spdlog::info("agent {} started; brokers: {}", parsed.flags->config.node_id,
               fmt::join(parsed.flags->config.brokers, ", "));
  // Ready once running, not once joined: a broker that is down must not
  // fail the start (systemd would kill an agent still waiting to join).
  systemd.ready("joining " + parsed.flags->config.brokers.front());
  while (true) {
    const int signal = wait_signal(signals, systemd);
    // The ping needs the agent to answer status(), which takes the lock
    // its thread holds while it works: a wedged agent stops the pings.
    agent.status();
    systemd.watchdog(clock.now_ms());
    if (signal == 0) continue;
    if (signal == SIGUSR1) {
      const int status = g_agent_exit.load();
      if (status < 0) continue;
      systemd.stopping("exiting with status " + std::to_string(status));
      agent.stop(false);
      if (status == roster::kExitRemoved) {
        spdlog::error("removed by the operator; exiting with status {} (do not restart blindly)",
                      status);
      }
      if (status == roster::kExitDuplicate) {
        spdlog::error(
            "another agent holds node id {}; exiting with status {} (give every node "
            "its own --node-id)",
            parsed.flags->config.node_id, status);
      }
      return status;
    }
    spdlog::info("signal {}: leaving", signal);
    systemd.stopping("leaving");
    agent.stop(true);
    return roster::kExitOk;
  }
}
