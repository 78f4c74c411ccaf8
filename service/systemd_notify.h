// Tells systemd how a service is doing (sd_notify(3)): READY=1 once it
// serves, WATCHDOG=1 while its loop turns, STATUS= lines for `systemctl
// status`, STOPPING=1 on shutdown. Outside systemd (no NOTIFY_SOCKET in the
// environment) every call does nothing. Built without libsystemd, likewise.
//
// Thread safety: every member function may be called from any thread; the
// rate limits (watchdog(), status_due()) are meant for one thread, the
// loop that owns them.
#pragma once

#include <cstdint>
#include <string>

#include "roster/clock.h"

namespace roster::service {

class SystemdNotifier {
 public:
  // Reads NOTIFY_SOCKET and the watchdog settings (WATCHDOG_USEC, and
  // WATCHDOG_PID when set) from the environment, once.
  SystemdNotifier();
  SystemdNotifier(const SystemdNotifier&) = delete;
  SystemdNotifier& operator=(const SystemdNotifier&) = delete;

  // True under systemd with Type=notify (NOTIFY_SOCKET set).
  bool enabled() const { return enabled_; }
  // The watchdog timeout (WatchdogSec) in milliseconds; 0 without one.
  uint64_t watchdog_timeout_ms() const { return watchdog_timeout_ms_; }

  // READY=1 with a STATUS= line.
  void ready(const std::string& status);
  // STATUS= line alone.
  void status(const std::string& status);
  // STOPPING=1 with a STATUS= line.
  void stopping(const std::string& status);

  // Sends WATCHDOG=1 if half the watchdog timeout passed since the last
  // one (or none was sent yet). Call it from every round of the loop whose
  // progress proves the service alive: if the loop wedges, the pings stop
  // and systemd restarts the service. Does nothing without a watchdog.
  void watchdog(TimeMs now);

  // True at most once per `interval_ms` (the first call is true): limits
  // how often a loop sends its STATUS= line. False when not enabled().
  bool status_due(TimeMs now, TimeMs interval_ms);

 private:
  void send(const std::string& message);

  bool enabled_ = false;
  uint64_t watchdog_timeout_ms_ = 0;
  TimeMs last_watchdog_ = 0;
  bool watchdog_sent_ = false;
  TimeMs last_status_ = 0;
  bool status_sent_ = false;
};

}  // namespace roster::service
