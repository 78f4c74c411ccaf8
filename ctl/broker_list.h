// rosterctl with several brokers (a redundant pair, docs/OPERATIONS.md):
// endpoint lists as given to --admin/--state, and asking the first broker
// that answers. Socket options are not this file's business: it calls the
// admin client (admin_client.h) once per endpoint.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "roster/curve_client_options.h"
#include "roster/protocol.h"

namespace roster::ctl {

// Splits a comma-separated endpoint list ("tcp://a:7402,tcp://b:7402"; one
// endpoint has no comma). Spaces around an item are ignored. Returns
// nullopt with *error set when an item is empty.
std::optional<std::vector<std::string>> split_endpoints(const std::string& text,
                                                        std::string* error);

// Asks `request` of each endpoint in turn, each waiting up to
// `timeout_ms`, until one replies, and returns what call_admin_or_report()
// makes of that reply (nullopt after an error reply, reported on stderr).
// With several endpoints, each that did not reply is reported on stderr
// ("rosterctl: EP: ...; asking the next broker"); with one, the output is
// call_admin_or_report()'s. nullopt when none replied.
// REQUIRES: !endpoints.empty()
std::optional<AdminReply> call_first_or_report(const std::vector<std::string>& endpoints,
                                               const AdminRequest& request, uint64_t timeout_ms,
                                               const CurveClientOptions& curve = {});

}  // namespace roster::ctl
