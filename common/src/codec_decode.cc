// Decoders of every wire message. Each one tokenizes the body under the
// limits of its channel (codec_reader.h), checks "v" and "type", then reads
// the fields of that type. Nothing escapes: every exception (std::bad_alloc
// included) becomes a kBadRequest DecodeError.
#include <exception>
#include <new>

#include "codec_reader.h"
#include "roster/codec.h"

namespace roster {

namespace {

using codec::kAbsent;
using codec::Kind;
using codec::Reader;
using codec::Slot;
using codec::Token;
using codec::Utf8Policy;

// How deep each channel's bodies nest (a top-level map is depth 1).
constexpr size_t kAgentRequestDepth = 2;  // join > labels
constexpr size_t kAdminRequestDepth = 1;
constexpr size_t kAgentReplyDepth = 1;
constexpr size_t kStateDepth = 4;  // snapshot > nodes > record > labels
constexpr size_t kBeatDepth = 1;
constexpr size_t kAdminReplyDepth = 4;

// Token storage is reused per thread, so that decoding a request does not
// allocate for it; storage grown beyond this by a big body is released.
constexpr size_t kKeptTokens = 4096;

// The calling thread's token storage for one decode call.
class ScratchTokens {
 public:
  ScratchTokens() : tokens_(storage()) { tokens_.clear(); }
  ~ScratchTokens() {
    if (tokens_.capacity() > kKeptTokens) std::vector<Token>().swap(tokens_);
  }
  ScratchTokens(const ScratchTokens&) = delete;
  ScratchTokens& operator=(const ScratchTokens&) = delete;

  std::vector<Token>& get() { return tokens_; }

 private:
  static std::vector<Token>& storage() {
    thread_local std::vector<Token> tokens;
    return tokens;
  }
  std::vector<Token>& tokens_;
};

DecodeError bad_request(std::string message) {
  return DecodeError{ErrorCode::kBadRequest, std::move(message), 0};
}

// Runs `decode` and turns any exception into a kBadRequest error.
template <typename T, typename F>
Decoded<T> guarded(F&& decode) {
  try {
    return decode();
  } catch (const std::bad_alloc&) {
    return bad_request("body needs more memory than is available");
  } catch (const std::exception& e) {
    return bad_request(std::string("not msgpack: ") + e.what());
  } catch (...) {
    return bad_request("not msgpack");
  }
}

// A decoded message with what `r` repaired on the way.
template <typename T>
Decoded<T> decoded(T value, const Reader& r) {
  return Decoded<T>(std::move(value), r.replaced_strings());
}

// Fails unless the string at `slot` is `expected`.
bool expect_type(Reader& r, Slot slot, std::string_view expected) {
  std::string_view type;
  if (!r.str_view_field(slot, "type", &type)) return false;
  if (type != expected) {
    return r.fail("type", "expected '" + std::string(expected) + "', got " + codec::quote(type));
  }
  return true;
}

// Reads the snapshot fields of the top-level map (slots of kSnapshotNames).
constexpr std::string_view kSnapshotNames[] = {"epoch", "version", "complete", "time_ms", "nodes"};
bool read_snapshot(Reader& r, Snapshot* out) {
  enum { kEpoch, kVersion, kComplete, kTimeMs, kNodes, kCount };
  Slot s[kCount];
  return r.collect(0, kSnapshotNames, kCount, s) &&
         r.uint_field(s[kEpoch], "epoch", true, &out->epoch) &&
         r.uint_field(s[kVersion], "version", true, &out->version) &&
         r.bool_field(s[kComplete], "complete", true, &out->complete) &&
         r.uint_field(s[kTimeMs], "time_ms", true, &out->time_ms) &&
         r.records_field(s[kNodes], "nodes", Reader::Removed::kRefused, &out->nodes);
}

bool read_delta(Reader& r, Delta* out) {
  static constexpr std::string_view kNames[] = {"epoch", "version", "prev_version", "time_ms",
                                                "changes"};
  enum { kEpoch, kVersion, kPrevVersion, kTimeMs, kChanges, kCount };
  Slot s[kCount];
  return r.collect(0, kNames, kCount, s) && r.uint_field(s[kEpoch], "epoch", true, &out->epoch) &&
         r.uint_field(s[kVersion], "version", true, &out->version) &&
         r.uint_field(s[kPrevVersion], "prev_version", true, &out->prev_version) &&
         r.uint_field(s[kTimeMs], "time_ms", true, &out->time_ms) &&
         r.records_field(s[kChanges], "changes", Reader::Removed::kAllowed, &out->changes);
}

bool read_beat(Reader& r, Beat* out) {
  static constexpr std::string_view kNames[] = {"epoch", "version", "time_ms"};
  enum { kEpoch, kVersion, kTimeMs, kCount };
  Slot s[kCount];
  return r.collect(0, kNames, kCount, s) && r.uint_field(s[kEpoch], "epoch", true, &out->epoch) &&
         r.uint_field(s[kVersion], "version", true, &out->version) &&
         r.uint_field(s[kTimeMs], "time_ms", true, &out->time_ms);
}

bool read_node_info(Reader& r, NodeInfo* out) {
  static constexpr std::string_view kNames[] = {"last_seen_ms"};
  Slot s[1];
  return r.record(0, Reader::Removed::kAllowed, &out->record) && r.collect(0, kNames, 1, s) &&
         r.uint_field(s[0], "last_seen_ms", true, &out->last_seen_ms);
}

bool read_removed(Reader& r, RemovedReply* out) {
  static constexpr std::string_view kNames[] = {"node", "inc", "version"};
  enum { kNode, kInc, kVersion, kCount };
  Slot s[kCount];
  return r.collect(0, kNames, kCount, s) && r.node_id_field(s[kNode], "node", &out->node) &&
         r.uint_field(s[kInc], "inc", true, &out->inc) &&
         r.uint_field(s[kVersion], "version", true, &out->version);
}

bool read_stats(Reader& r, Stats* out) {
  static constexpr std::string_view kNames[] = {"epoch",    "version", "nodes",     "by_state",
                                                "messages", "errors",  "uptime_ms", "counters"};
  enum { kEpoch, kVersion, kNodes, kByState, kMessages, kErrors, kUptimeMs, kCounters, kCount };
  Slot s[kCount];
  return r.collect(0, kNames, kCount, s) && r.uint_field(s[kEpoch], "epoch", true, &out->epoch) &&
         r.uint_field(s[kVersion], "version", true, &out->version) &&
         r.uint_field(s[kNodes], "nodes", true, &out->nodes) &&
         r.counts_field(s[kByState], "by_state", true, &out->by_state) &&
         r.uint_field(s[kMessages], "messages", true, &out->messages) &&
         r.counts_field(s[kErrors], "errors", true, &out->errors) &&
         r.uint_field(s[kUptimeMs], "uptime_ms", true, &out->uptime_ms) &&
         r.counts_field(s[kCounters], "counters", false, &out->counters);
}

// Reads code, message and the optional inc hint of an error reply (seq is
// read by the caller).
bool read_error(Reader& r, ErrorReply* out) {
  static constexpr std::string_view kNames[] = {"code", "message", "inc"};
  Slot s[3];
  uint64_t inc = 0;
  if (!(r.collect(0, kNames, 3, s) && r.code_field(s[0], "code", &out->code) &&
        r.str_field(s[1], "message", false, kMaxMessageBytes, &out->message) &&
        r.uint_field(s[2], "inc", false, &inc))) {
    return false;
  }
  if (s[2] != kAbsent) out->inc = inc;
  return true;
}

bool read_snapshot_part(Reader& r, SnapshotPart* out) {
  static constexpr std::string_view kNames[] = {"epoch", "version", "part", "nodes"};
  enum { kEpoch, kVersion, kPart, kNodes, kCount };
  Slot s[kCount];
  return r.collect(0, kNames, kCount, s) && r.uint_field(s[kEpoch], "epoch", true, &out->epoch) &&
         r.uint_field(s[kVersion], "version", true, &out->version) &&
         r.uint_field(s[kPart], "part", true, &out->part) &&
         r.records_field(s[kNodes], "nodes", Reader::Removed::kRefused, &out->nodes);
}

bool read_snapshot_end(Reader& r, SnapshotEnd* out) {
  static constexpr std::string_view kNames[] = {"epoch",   "version", "complete",
                                                "time_ms", "parts",   "node_count"};
  enum { kEpoch, kVersion, kComplete, kTimeMs, kParts, kNodeCount, kCount };
  Slot s[kCount];
  return r.collect(0, kNames, kCount, s) && r.uint_field(s[kEpoch], "epoch", true, &out->epoch) &&
         r.uint_field(s[kVersion], "version", true, &out->version) &&
         r.bool_field(s[kComplete], "complete", true, &out->complete) &&
         r.uint_field(s[kTimeMs], "time_ms", true, &out->time_ms) &&
         r.uint_field(s[kParts], "parts", true, &out->parts) &&
         r.uint_field(s[kNodeCount], "node_count", true, &out->node_count);
}

// Tokenizes `body` and checks "v"; on success `type` is the type slot.
bool open_body(std::string_view body, size_t max_body, size_t max_depth, std::vector<Token>* tokens,
               Reader& r, Slot* type) {
  std::string why;
  if (!codec::tokenize(body, max_body, max_depth, tokens, &why)) return r.fail_body(why);
  static constexpr std::string_view kNames[] = {"v", "type"};
  Slot s[2];
  if (!r.collect(0, kNames, 2, s) || !r.version_field(s[0])) return false;
  *type = s[1];
  return true;
}

Decoded<AgentRequest> agent_request(std::string_view body) {
  ScratchTokens scratch;
  std::vector<Token>& tokens = scratch.get();
  Reader r(tokens, Utf8Policy::kRefuse);
  std::string why;
  if (!codec::tokenize(body, kMaxBodyBytes, kAgentRequestDepth, &tokens, &why)) {
    return bad_request(std::move(why));
  }
  static constexpr std::string_view kNames[] = {"v",        "type", "seq",    "node",  "inc",
                                                "lease_ms", "addr", "labels", "reason"};
  enum { kV, kType, kSeq, kNode, kInc, kLeaseMs, kAddr, kLabels, kReason, kCount };
  Slot s[kCount];
  if (!r.collect(0, kNames, kCount, s)) return r.error();
  // Read seq first, so that every later error can echo it.
  if (s[kSeq] != kAbsent && r.at(s[kSeq]).kind == Kind::kUint) r.set_seq(r.at(s[kSeq]).uint);
  if (!r.version_field(s[kV])) return r.error();
  std::string_view type;
  if (!r.str_view_field(s[kType], "type", &type)) return r.error();

  if (type == "heartbeat") {
    HeartbeatRequest m;
    if (r.node_id_field(s[kNode], "node", &m.node) && r.uint_field(s[kInc], "inc", true, &m.inc) &&
        r.uint_field(s[kSeq], "seq", true, &m.seq)) {
      return AgentRequest(std::move(m));
    }
    return r.error();
  }
  if (type == "join") {
    JoinRequest m;
    if (r.node_id_field(s[kNode], "node", &m.node) && r.uint_field(s[kInc], "inc", true, &m.inc) &&
        r.uint_field(s[kSeq], "seq", true, &m.seq) &&
        r.uint_field(s[kLeaseMs], "lease_ms", true, &m.lease_ms) &&
        r.str_field(s[kAddr], "addr", false, kMaxAddrBytes, &m.addr) &&
        r.labels_field(s[kLabels], "labels", false, &m.labels)) {
      return AgentRequest(std::move(m));
    }
    return r.error();
  }
  if (type == "leave") {
    LeaveRequest m;
    if (r.node_id_field(s[kNode], "node", &m.node) && r.uint_field(s[kInc], "inc", true, &m.inc) &&
        r.uint_field(s[kSeq], "seq", true, &m.seq) &&
        r.str_field(s[kReason], "reason", false, kMaxReasonBytes, &m.reason)) {
      return AgentRequest(std::move(m));
    }
    return r.error();
  }
  r.fail("type", "unknown type " + codec::quote(type) + " (expected join, heartbeat or leave)");
  return r.error();
}

Decoded<AdminRequest> admin_request(std::string_view body) {
  ScratchTokens scratch;
  std::vector<Token>& tokens = scratch.get();
  Reader r(tokens, Utf8Policy::kRefuse);
  Slot type_slot = kAbsent;
  if (!open_body(body, kMaxBodyBytes, kAdminRequestDepth, &tokens, r, &type_slot)) {
    return r.error();
  }
  static constexpr std::string_view kNames[] = {"node", "inc", "part_bytes"};
  Slot s[3];
  std::string_view type;
  if (!r.str_view_field(type_slot, "type", &type) || !r.collect(0, kNames, 3, s)) {
    return r.error();
  }
  if (type == "snapshot") {
    SnapshotQuery m;
    uint64_t part_bytes = 0;
    if (!r.uint_field(s[2], "part_bytes", false, &part_bytes)) return r.error();
    if (s[2] != kAbsent) m.part_bytes = part_bytes;
    return AdminRequest(m);
  }
  if (type == "stats") return AdminRequest(StatsQuery{});
  if (type == "node") {
    NodeQuery m;
    if (r.node_id_field(s[0], "node", &m.node)) return AdminRequest(std::move(m));
    return r.error();
  }
  if (type == "remove") {
    RemoveCommand m;
    uint64_t inc = 0;
    if (!r.node_id_field(s[0], "node", &m.node) || !r.uint_field(s[1], "inc", false, &inc)) {
      return r.error();
    }
    if (s[1] != kAbsent) m.inc = inc;
    return AdminRequest(std::move(m));
  }
  r.fail("type",
         "unknown type " + codec::quote(type) + " (expected snapshot, node, remove or stats)");
  return r.error();
}

Decoded<AgentReply> agent_reply(std::string_view body) {
  ScratchTokens scratch;
  std::vector<Token>& tokens = scratch.get();
  Reader r(tokens, Utf8Policy::kReplace);
  Slot type_slot = kAbsent;
  if (!open_body(body, kMaxStateBodyBytes, kAgentReplyDepth, &tokens, r, &type_slot)) {
    return r.error();
  }
  static constexpr std::string_view kNames[] = {"seq", "epoch", "lease_ms", "state"};
  enum { kSeq, kEpoch, kLeaseMs, kState, kCount };
  Slot s[kCount];
  std::string_view type;
  if (!r.collect(0, kNames, kCount, s)) return r.error();
  if (s[kSeq] != kAbsent && r.at(s[kSeq]).kind == Kind::kUint) r.set_seq(r.at(s[kSeq]).uint);
  if (!r.str_view_field(type_slot, "type", &type)) return r.error();
  if (type == "ack") {
    Ack m;
    if (r.uint_field(s[kSeq], "seq", true, &m.seq) &&
        r.uint_field(s[kEpoch], "epoch", true, &m.epoch) &&
        r.uint_field(s[kLeaseMs], "lease_ms", true, &m.lease_ms) &&
        r.state_field(s[kState], "state", &m.state)) {
      return decoded(AgentReply(m), r);
    }
    return r.error();
  }
  if (type == "error") {
    ErrorReply m;
    if (r.uint_field(s[kSeq], "seq", false, &m.seq) && read_error(r, &m)) {
      return decoded(AgentReply(std::move(m)), r);
    }
    return r.error();
  }
  r.fail("type", "unknown type " + codec::quote(type) + " (expected ack or error)");
  return r.error();
}

Decoded<AdminReply> admin_reply(std::string_view body) {
  ScratchTokens scratch;
  std::vector<Token>& tokens = scratch.get();
  Reader r(tokens, Utf8Policy::kReplace);
  Slot type_slot = kAbsent;
  if (!open_body(body, kMaxStateBodyBytes, kAdminReplyDepth, &tokens, r, &type_slot)) {
    return r.error();
  }
  std::string_view type;
  if (!r.str_view_field(type_slot, "type", &type)) return r.error();
  if (type == "snapshot") {
    Snapshot m;
    if (read_snapshot(r, &m)) return decoded(AdminReply(std::move(m)), r);
  } else if (type == "node") {
    NodeInfo m;
    if (read_node_info(r, &m)) return decoded(AdminReply(std::move(m)), r);
  } else if (type == "removed") {
    RemovedReply m;
    if (read_removed(r, &m)) return decoded(AdminReply(std::move(m)), r);
  } else if (type == "stats") {
    Stats m;
    if (read_stats(r, &m)) return decoded(AdminReply(std::move(m)), r);
  } else if (type == "error") {
    ErrorReply m;
    if (read_error(r, &m)) return decoded(AdminReply(std::move(m)), r);
  } else {
    r.fail("type", "unknown type " + codec::quote(type) +
                       " (expected snapshot, node, removed, stats or error)");
  }
  return r.error();
}

Decoded<SnapshotReply> snapshot_reply(std::string_view body) {
  ScratchTokens scratch;
  std::vector<Token>& tokens = scratch.get();
  Reader r(tokens, Utf8Policy::kReplace);
  Slot type_slot = kAbsent;
  if (!open_body(body, kMaxStateBodyBytes, kAdminReplyDepth, &tokens, r, &type_slot)) {
    return r.error();
  }
  std::string_view type;
  if (!r.str_view_field(type_slot, "type", &type)) return r.error();
  if (type == "snapshot_part") {
    SnapshotPart m;
    if (read_snapshot_part(r, &m)) return decoded(SnapshotReply(std::move(m)), r);
  } else if (type == "snapshot_end") {
    SnapshotEnd m;
    if (read_snapshot_end(r, &m)) return decoded(SnapshotReply(std::move(m)), r);
  } else if (type == "snapshot") {
    Snapshot m;
    if (read_snapshot(r, &m)) return decoded(SnapshotReply(std::move(m)), r);
  } else if (type == "error") {
    ErrorReply m;
    if (read_error(r, &m)) return decoded(SnapshotReply(std::move(m)), r);
  } else {
    r.fail("type", "unknown type " + codec::quote(type) +
                       " (expected snapshot_part, snapshot_end, snapshot or error)");
  }
  return r.error();
}

// Decodes a state-channel body of type `type` with `read`.
template <typename T, typename ReadFn>
Decoded<T> state_body(std::string_view body, size_t max_depth, std::string_view type, ReadFn read) {
  ScratchTokens scratch;
  std::vector<Token>& tokens = scratch.get();
  Reader r(tokens, Utf8Policy::kReplace);
  Slot type_slot = kAbsent;
  if (!open_body(body, kMaxStateBodyBytes, max_depth, &tokens, r, &type_slot)) {
    return r.error();
  }
  T m;
  if (expect_type(r, type_slot, type) && read(r, &m)) return decoded(std::move(m), r);
  return r.error();
}

}  // namespace

Decoded<AgentRequest> decode_agent_request(std::string_view body) {
  return guarded<AgentRequest>([&] { return agent_request(body); });
}

Decoded<AdminRequest> decode_admin_request(std::string_view body) {
  return guarded<AdminRequest>([&] { return admin_request(body); });
}

Decoded<AgentReply> decode_agent_reply(std::string_view body) {
  return guarded<AgentReply>([&] { return agent_reply(body); });
}

Decoded<AdminReply> decode_admin_reply(std::string_view body) {
  return guarded<AdminReply>([&] { return admin_reply(body); });
}

Decoded<Snapshot> decode_snapshot(std::string_view body) {
  return guarded<Snapshot>(
      [&] { return state_body<Snapshot>(body, kStateDepth, "snapshot", read_snapshot); });
}

Decoded<Delta> decode_delta(std::string_view body) {
  return guarded<Delta>([&] { return state_body<Delta>(body, kStateDepth, "delta", read_delta); });
}

Decoded<Beat> decode_beat(std::string_view body) {
  return guarded<Beat>([&] { return state_body<Beat>(body, kBeatDepth, "beat", read_beat); });
}

Decoded<SnapshotPart> decode_snapshot_part(std::string_view body) {
  return guarded<SnapshotPart>([&] {
    return state_body<SnapshotPart>(body, kStateDepth, "snapshot_part", read_snapshot_part);
  });
}

Decoded<SnapshotReply> decode_snapshot_reply(std::string_view body) {
  return guarded<SnapshotReply>([&] { return snapshot_reply(body); });
}

Decoded<SnapshotEnd> decode_snapshot_end(std::string_view body) {
  return guarded<SnapshotEnd>(
      [&] { return state_body<SnapshotEnd>(body, kBeatDepth, "snapshot_end", read_snapshot_end); });
}

}  // namespace roster
