#include "systemd_notify.h"

#include <cstdlib>

#ifdef ROSTER_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace roster::service {

namespace {
// STATUS= is one line: a newline would start another assignment.
std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}
}  // namespace

SystemdNotifier::SystemdNotifier() {
#ifdef ROSTER_HAVE_SYSTEMD
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && socket[0] != '\0';
  uint64_t usec = 0;
  if (enabled_ && sd_watchdog_enabled(0, &usec) > 0) watchdog_timeout_ms_ = usec / 1000;
#endif
}

void SystemdNotifier::send(const std::string& message) {
#ifdef ROSTER_HAVE_SYSTEMD
  if (enabled_) sd_notify(0, message.c_str());
#else
  (void)message;
#endif
}

void SystemdNotifier::ready(const std::string& status) {
  send("READY=1\nSTATUS=" + one_line(status));
}

void SystemdNotifier::status(const std::string& status) {
  send("STATUS=" + one_line(status));
}

void SystemdNotifier::stopping(const std::string& status) {
  send("STOPPING=1\nSTATUS=" + one_line(status));
}

void SystemdNotifier::watchdog(TimeMs now) {
  if (watchdog_timeout_ms_ == 0) return;
  const auto half = static_cast<TimeMs>(watchdog_timeout_ms_ / 2);
  if (watchdog_sent_ && now - last_watchdog_ < half) return;
  watchdog_sent_ = true;
  last_watchdog_ = now;
  send("WATCHDOG=1");
}

bool SystemdNotifier::status_due(TimeMs now, TimeMs interval_ms) {
  if (!enabled_) return false;
  if (status_sent_ && now - last_status_ < interval_ms) return false;
  status_sent_ = true;
  last_status_ = now;
  return true;
}

}  // namespace roster::service
