// msgpack encoding and decoding of every wire message (protocol.h).
//
// Encoding cannot fail: it does not check limits (decoders do), except that
// free text over its limit (leave reason, error message) is cut at a UTF-8
// character boundary. Decoding never throws and never allocates more than
// the protocol limits allow: it returns either the message or a DecodeError
// whose code is kBadRequest (naming the field and the problem) or
// kUnsupportedVersion. Decoders of untrusted input (agent and admin
// requests) refuse bodies over kMaxBodyBytes; decoders of broker output
// (replies, state channel) refuse bodies over kMaxStateBodyBytes.
//
// Every string must be well-formed UTF-8 (utf8.h). Decoders of untrusted
// input refuse a string that is not (bad_request: "field 'addr': value is
// not valid UTF-8 ..."). Decoders of broker output replace each ill-formed
// sequence by U+FFFD instead, so that a client keeps its view of a buggy or
// hostile broker, and count the strings they repaired
// (Decoded::replaced_strings()) so that the client can say so.
//
// Thread safety: all functions are pure and may be called concurrently.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "roster/protocol.h"
#include "roster/snapshot_parts.h"

namespace roster {

// Why a body was refused. `seq` is the request's seq when it could be read
// (so the error reply can echo it), 0 otherwise.
struct DecodeError {
  ErrorCode code = ErrorCode::kBadRequest;
  std::string message;
  uint64_t seq = 0;
};

// Either a decoded T or a DecodeError.
template <typename T>
class Decoded {
 public:
  Decoded(T value) : v_(std::move(value)) {}            // NOLINT: implicit by design
  Decoded(DecodeError error) : v_(std::move(error)) {}  // NOLINT: implicit by design
  Decoded(T value, size_t replaced_strings)
      : v_(std::move(value)), replaced_strings_(replaced_strings) {}

  bool ok() const { return v_.index() == 0; }
  // How many strings of the value had ill-formed UTF-8 replaced by U+FFFD
  // (decoders of broker output only; 0 otherwise).
  size_t replaced_strings() const { return replaced_strings_; }
  // REQUIRES: ok()
  const T& value() const& { return std::get<0>(v_); }
  T& value() & { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  // REQUIRES: !ok()
  const DecodeError& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, DecodeError> v_;
  size_t replaced_strings_ = 0;
};

// Encoders: one msgpack map with "v": 1 and "type" set, as in PROTOCOL.md.
std::string encode(const AgentRequest& msg);
std::string encode(const AgentReply& msg);
std::string encode(const Snapshot& msg);  // type "snapshot": state channel and admin reply
std::string encode(const Delta& msg);
std::string encode(const Beat& msg);
std::string encode(const AdminRequest& msg);
std::string encode(const AdminReply& msg);  // an ErrorReply here carries no seq

// The fields of a snapshot other than its nodes.
struct SnapshotHeader {
  uint64_t epoch = 0;
  uint64_t version = 0;
  bool complete = false;
  uint64_t time_ms = 0;
};

// A snapshot of `header` and the records of `nodes` (in map order, e.g.
// View::nodes()), encoded without copying them: the same bytes as
// encode(Snapshot) of a Snapshot with those fields and nodes.
std::string encode_snapshot(const SnapshotHeader& header,
                            const std::map<std::string, NodeRecord>& nodes);

// Appends the encoding of one node record (the map inside a snapshot's
// `nodes` or a delta's `changes`) to *out.
void append_record(std::string* out, const NodeRecord& record);

// The start of a snapshot body: the fields of `header` and the header of a
// `nodes` array of `node_count` records. Appending the encodings of those
// records (append_record) completes the body, byte for byte the same as
// encode(Snapshot) of the same fields and records.
std::string encode_snapshot_head(const SnapshotHeader& header, size_t node_count);

// The fields of a delta other than its changes.
struct DeltaHeader {
  uint64_t epoch = 0;
  uint64_t version = 0;
  uint64_t prev_version = 0;
  uint64_t time_ms = 0;
};
// The start of a delta body, completed as encode_snapshot_head()'s is: the
// same bytes as encode(Delta).
std::string encode_delta_head(const DeltaHeader& header, size_t change_count);

// Chunked admin snapshots (snapshot_parts.h). A part body is
// encode_snapshot_part_head() followed by its records' encodings: the same
// bytes as encode(SnapshotPart).
std::string encode_snapshot_part_head(const SnapshotPartHeader& header, size_t node_count);
std::string encode(const SnapshotPart& msg);
std::string encode(const SnapshotEnd& msg);

// Decoders of untrusted input (limit kMaxBodyBytes).
Decoded<AgentRequest> decode_agent_request(std::string_view body);
Decoded<AdminRequest> decode_admin_request(std::string_view body);

// A heartbeat whose node id views the body it was decoded from
// (decode_heartbeat_ref, codec.h): valid only while that body is.
struct HeartbeatRef {
  std::string_view node;
  uint64_t inc = 0;
  uint64_t seq = 0;
};

// The heartbeat fast path of the agents endpoint: decodes `body` without
// allocating. Returns true, with *out viewing `body`, exactly when
// decode_agent_request(body) would return a HeartbeatRequest with those
// fields, except that it may return false for some of those (values that
// are arrays or maps, under unknown keys); on false *out is unspecified and
// the caller decodes with decode_agent_request, which says why or returns
// the other request types.
bool decode_heartbeat_ref(std::string_view body, HeartbeatRef* out);

// Room for any encoded Ack.
inline constexpr size_t kMaxAckBytes = 96;
// Encodes `ack` into `out` without allocating: the same bytes as
// encode(AgentReply(ack)). Returns how many bytes it wrote.
size_t encode_ack(const Ack& ack, char (&out)[kMaxAckBytes]);

// Decoders of broker output (limit kMaxStateBodyBytes). A snapshot (also
// in an admin reply) holds the nodes present: a record `removed` in it is
// refused (bad_request); only a delta's records may be `removed`.
Decoded<AgentReply> decode_agent_reply(std::string_view body);
Decoded<AdminReply> decode_admin_reply(std::string_view body);
Decoded<Snapshot> decode_snapshot(std::string_view body);
Decoded<Delta> decode_delta(std::string_view body);
Decoded<Beat> decode_beat(std::string_view body);
// The pieces of a chunked admin snapshot. A part's records may not be
// `removed`, as in a snapshot.
Decoded<SnapshotPart> decode_snapshot_part(std::string_view body);
Decoded<SnapshotEnd> decode_snapshot_end(std::string_view body);
// One reply to a snapshot request that asked for parts: a part, the end, a
// whole snapshot (a broker from before parts) or an error.
Decoded<SnapshotReply> decode_snapshot_reply(std::string_view body);

}  // namespace roster
