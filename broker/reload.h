// What SIGHUP does: re-read the settings and apply the ones that can change
// while the broker runs. Today that is the log level only; everything else
// takes effect at the next start.
#pragma once

#include "options.h"

namespace roster::broker {

// Parses the broker's arguments again (`current.arguments`, so the
// --config file is read again and the command line still wins over it)
// and applies the new log level to the running logger and to `current`.
// Logs "SIGHUP: reloading", then what changed; warns, and keeps every
// setting, when the file cannot be read or is invalid; warns when other
// settings changed (they need a restart). Without --config there is
// nothing to reload (it says so).
// REQUIRES: logging started (logging.h).
void reload_settings(BrokerOptions& current);

}  // namespace roster::broker
