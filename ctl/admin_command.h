// The shape every admin subcommand of rosterctl shares: one request, one
// expected kind of reply, printed as JSON or as text.
#pragma once

#include <iostream>
#include <variant>

#include "admin_client.h"
#include "broker_list.h"
#include "commands.h"
#include "json_format.h"

namespace roster::ctl {

// Asks `request` of the first broker that answers (call_first_or_report());
// when it answers with a Reply, prints it as one JSON line (options.json)
// or with `print_text`. Returns the exit status: 0, or 1 (reported on
// stderr) when no broker replies, on an error reply or on a reply of
// another kind ("unexpected reply to a `what` request").
template <typename Reply, typename PrintText>
int run_admin_command(const CtlOptions& options, const AdminRequest& request, const char* what,
                      PrintText print_text) {
  auto reply =
      call_first_or_report(options.admin_endpoints, request, options.timeout_ms, options.curve);
  if (!reply) return 1;
  const auto* answer = std::get_if<Reply>(&*reply);
  if (!answer) {
    std::cerr << "rosterctl: unexpected reply to a " << what << " request\n";
    return 1;
  }
  if (options.json) {
    std::cout << dump_line(to_json(*answer)) << std::endl;
    return 0;
  }
  print_text(*answer);
  return 0;
}

}  // namespace roster::ctl
