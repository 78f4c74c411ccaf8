// The client of the broker's admin channel: request/reply with a deadline
// over a DEALER with ZMQ_LINGER 0, so an unreachable broker is an error
// after the timeout, never a hang. With CURVE, a handshake the broker
// refuses is an error at once ("authentication failed: ..."), not a
// timeout. rosterctl uses it, and so do the tests
// and the load benchmark (through roster_admin_client), so the product's
// client is the tested one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "roster/curve_client_options.h"
#include "roster/protocol.h"

namespace roster::ctl {

// The broker's reply (an ErrorReply included), or why there is none.
struct AdminCall {
  std::optional<AdminReply> reply;
  std::string error;  // set when reply is empty
  // Strings of the reply that were not valid UTF-8 and hold U+FFFD instead
  // of the ill-formed bytes (codec.h).
  size_t replaced_strings = 0;
};

// The body of the broker's reply as received (not decoded), or why there
// is none.
struct AdminExchange {
  std::optional<std::string> body;
  std::string error;  // set when body is empty
};

// One connection to an admin endpoint, kept across requests; one request
// at a time. Never throws.
//
// Thread safety: none; one owner.
class AdminClient {
 public:
  // Connects lazily, at the first request. `curve`: CURVE keys or
  // certificate files (read at each connection; a bad one fails the
  // request with an error naming it); empty for plaintext.
  explicit AdminClient(std::string endpoint, CurveClientOptions curve = {});
  ~AdminClient();
  AdminClient(const AdminClient&) = delete;
  AdminClient& operator=(const AdminClient&) = delete;

  // Sends `body` and waits up to `timeout_ms` for the reply's body (a
  // REQ-style empty delimiter before it is skipped). After a failure the
  // connection is dropped, so a late reply is never read as the answer to
  // a later request.
  AdminExchange exchange(const std::string& body, uint64_t timeout_ms);

  // exchange() of the encoded `request`, its reply decoded. A snapshot
  // request with part_bytes is answered in parts (snapshot_parts.h): they
  // are read until the end marker, all within `timeout_ms`, and assembled
  // (SnapshotAssembler) into one Snapshot reply; a broken or incomplete
  // reply in parts is an error naming the problem.
  AdminCall call(const AdminRequest& request, uint64_t timeout_ms);

  const std::string& endpoint() const { return endpoint_; }

 private:
  struct Connection;

  // Connects `connection` if it is null, then queues `body`; the error
  // is set on failure.
  AdminExchange send(std::unique_ptr<Connection>& connection, const std::string& body);
  // Waits until `deadline` (steady ms) for one reply body.
  AdminExchange receive(Connection& connection, int64_t deadline, uint64_t timeout_ms);
  AdminCall call_in_parts(const AdminRequest& request, uint64_t timeout_ms);

  std::string endpoint_;
  CurveClientOptions curve_;
  std::unique_ptr<Connection> connection_;
};

// One request on a fresh connection: AdminClient(endpoint, curve).call(...).
AdminCall call_admin(const std::string& endpoint, const AdminRequest& request, uint64_t timeout_ms,
                     const CurveClientOptions& curve = {});

// call_admin(), reporting a missing reply or an ErrorReply on stderr as
// "rosterctl: ..." (the broker's message escaped for the terminal), and
// warning on stderr when strings were replaced. Returns the reply only when
// it is not an ErrorReply.
std::optional<AdminReply> call_admin_or_report(const std::string& endpoint,
                                               const AdminRequest& request, uint64_t timeout_ms,
                                               const CurveClientOptions& curve = {});

// What call_admin_or_report() does with the outcome of a call: reports a
// missing reply or an ErrorReply (and replaced strings) on stderr; returns
// the reply only when it is not an ErrorReply.
std::optional<AdminReply> reply_or_report(AdminCall call);

}  // namespace roster::ctl
