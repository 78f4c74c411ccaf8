// Encoders of every wire message: one msgpack map with "v" and "type" first,
// then the fields of PROTOCOL.md. msgpack-cxx's packer writes straight into
// the std::string that is returned.
#include <msgpack.hpp>

#include "roster/codec.h"

namespace roster {

namespace {

// The output stream msgpack's packer appends to.
class StringSink {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  void write(const char* data, size_t size) { out_->append(data, size); }

 private:
  std::string* out_;
};

// Returns the longest prefix of `text` of at most `max` bytes that does not
// cut a UTF-8 sequence in half.
std::string_view truncated(std::string_view text, size_t max) {
  if (text.size() <= max) return text;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
  return text.substr(0, n);
}

// Writes maps field by field; counts are computed by the callers.
class Writer {
 public:
  Writer(std::string* out, uint32_t fields, std::string_view type) : sink_(out), pk_(sink_) {
    pk_.pack_map(fields + 2);
    field("v", kProtocolVersion);
    field("type", type);
  }

  // A writer that starts nothing: for values appended to an open body.
  explicit Writer(std::string* out) : sink_(out), pk_(sink_) {}

  void key(std::string_view name) { str(name); }
  void str(std::string_view s) {
    pk_.pack_str(static_cast<uint32_t>(s.size()));
    pk_.pack_str_body(s.data(), static_cast<uint32_t>(s.size()));
  }
  void field(std::string_view name, std::string_view value) {
    key(name);
    str(value);
  }
  void field(std::string_view name, uint64_t value) {
    key(name);
    pk_.pack_uint64(value);
  }
  void field(std::string_view name, bool value) {
    key(name);
    if (value) {
      pk_.pack_true();
    } else {
      pk_.pack_false();
    }
  }
  void field(std::string_view name, const std::map<std::string, std::string>& map) {
    key(name);
    pk_.pack_map(static_cast<uint32_t>(map.size()));
    for (const auto& [k, v] : map) {
      str(k);
      str(v);
    }
  }
  void field(std::string_view name, const std::map<std::string, uint64_t>& map) {
    key(name);
    pk_.pack_map(static_cast<uint32_t>(map.size()));
    for (const auto& [k, v] : map) {
      str(k);
      pk_.pack_uint64(v);
    }
  }
  void field(std::string_view name, const std::vector<NodeRecord>& records) {
    key(name);
    pk_.pack_array(static_cast<uint32_t>(records.size()));
    for (const NodeRecord& r : records) record(r);
  }
  // The same array as for a vector of the map's records, in map order.
  void field(std::string_view name, const std::map<std::string, NodeRecord>& records) {
    key(name);
    pk_.pack_array(static_cast<uint32_t>(records.size()));
    for (const auto& [id, r] : records) record(r);
  }

  // Writes the key of an array of `count` elements and its header; the
  // caller appends the elements.
  void array(std::string_view name, size_t count) {
    key(name);
    pk_.pack_array(static_cast<uint32_t>(count));
  }

  // Writes one record as a map.
  void record(const NodeRecord& r) {
    pk_.pack_map(record_field_count(r));
    record_fields(r);
  }

  // Number of fields record_fields() writes for `r`.
  static uint32_t record_field_count(const NodeRecord& r) {
    return r.state == NodeState::kRemoved ? 3 : 7;
  }
  // Writes the fields of a record (without a map header): a removed record
  // carries only node, inc and state.
  void record_fields(const NodeRecord& r) {
    field("node", r.node);
    field("inc", r.inc);
    field("state", to_string(r.state));
    if (r.state == NodeState::kRemoved) return;
    field("addr", r.addr);
    field("labels", r.labels);
    field("lease_ms", r.lease_ms);
    field("since_ms", r.since_ms);
  }

 private:
  StringSink sink_;
  msgpack::packer<StringSink> pk_;
};

std::string encode_join(const JoinRequest& m) {
  std::string out;
  out.reserve(64 + m.node.size() + m.addr.size() + m.labels.size() * 24);
  Writer w(&out, 6, "join");
  w.field("node", m.node);
  w.field("inc", m.inc);
  w.field("seq", m.seq);
  w.field("lease_ms", m.lease_ms);
  w.field("addr", m.addr);
  w.field("labels", m.labels);
  return out;
}

std::string encode_heartbeat(const HeartbeatRequest& m) {
  std::string out;
  out.reserve(48 + m.node.size());
  Writer w(&out, 3, "heartbeat");
  w.field("node", m.node);
  w.field("inc", m.inc);
  w.field("seq", m.seq);
  return out;
}

std::string encode_leave(const LeaveRequest& m) {
  std::string out;
  bool has_reason = !m.reason.empty();
  Writer w(&out, has_reason ? 4 : 3, "leave");
  w.field("node", m.node);
  w.field("inc", m.inc);
  w.field("seq", m.seq);
  if (has_reason) w.field("reason", truncated(m.reason, kMaxReasonBytes));
  return out;
}

std::string encode_ack(const Ack& m) {
  std::string out;
  Writer w(&out, 4, "ack");
  w.field("seq", m.seq);
  w.field("epoch", m.epoch);
  w.field("lease_ms", m.lease_ms);
  w.field("state", to_string(m.state));
  return out;
}

// An ErrorReply; `with_seq` is false on the admin channel.
std::string encode_error(const ErrorReply& m, bool with_seq) {
  std::string out;
  Writer w(&out, (with_seq ? 3 : 2) + (m.inc ? 1 : 0), "error");
  if (with_seq) w.field("seq", m.seq);
  w.field("code", to_string(m.code));
  w.field("message", truncated(m.message, kMaxMessageBytes));
  if (m.inc) w.field("inc", *m.inc);
  return out;
}

std::string encode_node_info(const NodeInfo& m) {
  std::string out;
  Writer w(&out, Writer::record_field_count(m.record) + 1, "node");
  w.record_fields(m.record);
  w.field("last_seen_ms", m.last_seen_ms);
  return out;
}

std::string encode_removed(const RemovedReply& m) {
  std::string out;
  Writer w(&out, 3, "removed");
  w.field("node", m.node);
  w.field("inc", m.inc);
  w.field("version", m.version);
  return out;
}

std::string encode_stats(const Stats& m) {
  std::string out;
  Writer w(&out, 8, "stats");
  w.field("epoch", m.epoch);
  w.field("version", m.version);
  w.field("nodes", m.nodes);
  w.field("by_state", m.by_state);
  w.field("messages", m.messages);
  w.field("errors", m.errors);
  w.field("uptime_ms", m.uptime_ms);
  w.field("counters", m.counters);
  return out;
}

std::string encode_remove(const RemoveCommand& m) {
  std::string out;
  Writer w(&out, m.inc ? 2 : 1, "remove");
  w.field("node", m.node);
  if (m.inc) w.field("inc", *m.inc);
  return out;
}

std::string encode_node_query(const NodeQuery& m) {
  std::string out;
  Writer w(&out, 1, "node");
  w.field("node", m.node);
  return out;
}

// A snapshot whose nodes are `nodes`: a vector of records or a map of them.
template <typename Records>
std::string encode_snapshot_of(const SnapshotHeader& header, const Records& nodes) {
  std::string out;
  out.reserve(64 + nodes.size() * 96);
  Writer w(&out, 5, "snapshot");
  w.field("epoch", header.epoch);
  w.field("version", header.version);
  w.field("complete", header.complete);
  w.field("time_ms", header.time_ms);
  w.field("nodes", nodes);
  return out;
}

// The fields of a snapshot part, up to the header of its `nodes` array.
void write_part_head(std::string* out, const SnapshotPartHeader& header, size_t node_count) {
  Writer w(out, 4, "snapshot_part");
  w.field("epoch", header.epoch);
  w.field("version", header.version);
  w.field("part", header.part);
  w.array("nodes", node_count);
}

std::string encode_empty(std::string_view type) {
  std::string out;
  Writer w(&out, 0, type);
  return out;
}

}  // namespace

std::string encode(const AgentRequest& msg) {
  if (const auto* join = std::get_if<JoinRequest>(&msg)) return encode_join(*join);
  if (const auto* hb = std::get_if<HeartbeatRequest>(&msg)) return encode_heartbeat(*hb);
  return encode_leave(std::get<LeaveRequest>(msg));
}

std::string encode(const AgentReply& msg) {
  if (const auto* ack = std::get_if<Ack>(&msg)) return encode_ack(*ack);
  return encode_error(std::get<ErrorReply>(msg), /*with_seq=*/true);
}

std::string encode(const Snapshot& msg) {
  return encode_snapshot_of(SnapshotHeader{msg.epoch, msg.version, msg.complete, msg.time_ms},
                            msg.nodes);
}

std::string encode_snapshot(const SnapshotHeader& header,
                            const std::map<std::string, NodeRecord>& nodes) {
  return encode_snapshot_of(header, nodes);
}

void append_record(std::string* out, const NodeRecord& record) {
  Writer(out).record(record);
}

std::string encode_snapshot_head(const SnapshotHeader& header, size_t node_count) {
  std::string out;
  Writer w(&out, 5, "snapshot");
  w.field("epoch", header.epoch);
  w.field("version", header.version);
  w.field("complete", header.complete);
  w.field("time_ms", header.time_ms);
  w.array("nodes", node_count);
  return out;
}

std::string encode_delta_head(const DeltaHeader& header, size_t change_count) {
  std::string out;
  Writer w(&out, 5, "delta");
  w.field("epoch", header.epoch);
  w.field("version", header.version);
  w.field("prev_version", header.prev_version);
  w.field("time_ms", header.time_ms);
  w.array("changes", change_count);
  return out;
}

std::string encode_snapshot_part_head(const SnapshotPartHeader& header, size_t node_count) {
  std::string out;
  write_part_head(&out, header, node_count);
  return out;
}

std::string encode(const SnapshotPart& msg) {
  std::string out;
  write_part_head(&out, {msg.epoch, msg.version, msg.part}, msg.nodes.size());
  for (const NodeRecord& r : msg.nodes) append_record(&out, r);
  return out;
}

std::string encode(const SnapshotEnd& msg) {
  std::string out;
  Writer w(&out, 6, "snapshot_end");
  w.field("epoch", msg.epoch);
  w.field("version", msg.version);
  w.field("complete", msg.complete);
  w.field("time_ms", msg.time_ms);
  w.field("parts", msg.parts);
  w.field("node_count", msg.node_count);
  return out;
}

std::string encode(const Delta& msg) {
  std::string out;
  out.reserve(64 + msg.changes.size() * 96);
  Writer w(&out, 5, "delta");
  w.field("epoch", msg.epoch);
  w.field("version", msg.version);
  w.field("prev_version", msg.prev_version);
  w.field("time_ms", msg.time_ms);
  w.field("changes", msg.changes);
  return out;
}

std::string encode(const Beat& msg) {
  std::string out;
  Writer w(&out, 3, "beat");
  w.field("epoch", msg.epoch);
  w.field("version", msg.version);
  w.field("time_ms", msg.time_ms);
  return out;
}

std::string encode(const AdminRequest& msg) {
  if (const auto* snapshot = std::get_if<SnapshotQuery>(&msg)) {
    if (!snapshot->part_bytes) return encode_empty("snapshot");
    std::string out;
    Writer w(&out, 1, "snapshot");
    w.field("part_bytes", *snapshot->part_bytes);
    return out;
  }
  if (const auto* node = std::get_if<NodeQuery>(&msg)) return encode_node_query(*node);
  if (const auto* remove = std::get_if<RemoveCommand>(&msg)) return encode_remove(*remove);
  return encode_empty("stats");
}

std::string encode(const AdminReply& msg) {
  if (const auto* snapshot = std::get_if<Snapshot>(&msg)) return encode(*snapshot);
  if (const auto* info = std::get_if<NodeInfo>(&msg)) return encode_node_info(*info);
  if (const auto* removed = std::get_if<RemovedReply>(&msg)) return encode_removed(*removed);
  if (const auto* stats = std::get_if<Stats>(&msg)) return encode_stats(*stats);
  return encode_error(std::get<ErrorReply>(msg), /*with_seq=*/false);
}

}  // namespace roster
