#include "roster/snapshot_assembler.h"

#include <utility>
#include <variant>

#include "roster/codec.h"

namespace roster {

SnapshotAssembler::Status SnapshotAssembler::fail(std::string error) {
  status_ = Status::kFailed;
  error_ = std::move(error);
  snapshot_ = Snapshot{};
  return status_;
}

SnapshotAssembler::Status SnapshotAssembler::add(std::string_view body) {
  if (status_ == Status::kDone) return fail("a reply after the snapshot_end");
  if (status_ == Status::kFailed) return status_;
  if (bytes_ + body.size() > limits_.max_bytes) {
    return fail("the parts exceed " + std::to_string(limits_.max_bytes) + " bytes");
  }
  bytes_ += body.size();
  auto decoded = decode_snapshot_reply(body);
  if (!decoded.ok()) return fail("malformed reply: " + decoded.error().message);
  replaced_strings_ += decoded.replaced_strings();
  SnapshotReply& reply = decoded.value();
  if (auto* error = std::get_if<ErrorReply>(&reply)) {
    refusal_ = *error;
    return fail(std::string(to_string(error->code)) + ": " + error->message);
  }
  if (auto* whole = std::get_if<Snapshot>(&reply)) {
    if (parts_ > 0) return fail("a whole snapshot after " + std::to_string(parts_) + " parts");
    snapshot_ = std::move(*whole);
    status_ = Status::kDone;
    return status_;
  }
  if (auto* part = std::get_if<SnapshotPart>(&reply)) {
    if (parts_ >= limits_.max_parts) {
      return fail("more than " + std::to_string(limits_.max_parts) + " parts");
    }
    if (parts_ == 0) {
      snapshot_.epoch = part->epoch;
      snapshot_.version = part->version;
    } else if (part->epoch != snapshot_.epoch || part->version != snapshot_.version) {
      return fail("part " + std::to_string(part->part) + " has epoch " +
                  std::to_string(part->epoch) + " version " + std::to_string(part->version) +
                  ", expected epoch " + std::to_string(snapshot_.epoch) + " version " +
                  std::to_string(snapshot_.version));
    }
    if (part->part != parts_) {
      return fail("part " + std::to_string(part->part) + " arrived, expected part " +
                  std::to_string(parts_));
    }
    ++parts_;
    snapshot_.nodes.insert(snapshot_.nodes.end(), std::make_move_iterator(part->nodes.begin()),
                           std::make_move_iterator(part->nodes.end()));
    return status_;
  }
  const SnapshotEnd& end = std::get<SnapshotEnd>(reply);
  if (parts_ > 0 && (end.epoch != snapshot_.epoch || end.version != snapshot_.version)) {
    return fail("snapshot_end has epoch " + std::to_string(end.epoch) + " version " +
                std::to_string(end.version) + ", the parts epoch " +
                std::to_string(snapshot_.epoch) + " version " + std::to_string(snapshot_.version));
  }
  if (end.parts != parts_ || end.node_count != snapshot_.nodes.size()) {
    return fail("snapshot_end names " + std::to_string(end.parts) + " parts and " +
                std::to_string(end.node_count) + " nodes, received " + std::to_string(parts_) +
                " parts and " + std::to_string(snapshot_.nodes.size()) + " nodes");
  }
  snapshot_.epoch = end.epoch;
  snapshot_.version = end.version;
  snapshot_.complete = end.complete;
  snapshot_.time_ms = end.time_ms;
  status_ = Status::kDone;
  return status_;
}

}  // namespace roster
