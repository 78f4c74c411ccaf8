// Fuzz target: a hostile broker's reply to a snapshot request in parts, as
// roster::Subscriber and rosterctl read it: a sequence of bodies (split at
// kSeparator) fed to a SnapshotAssembler. Each body that decodes
// (decode_snapshot_reply) re-encodes to itself with valid UTF-8; the
// assembler never takes more than its limit of parts, and a snapshot it
// yields holds exactly the records of the parts (or the whole snapshot)
// it was fed, with none removed, and syncs a subscriber consistently.
#include <variant>

#include "roster/snapshot_assembler.h"
#include "subscriber_fixture.h"

using namespace roster;
using namespace roster::fuzz;

namespace {

// The round trip of one decoded reply of any kind.
void check_reply(const SnapshotReply& reply, size_t replaced) {
  if (const auto* part = std::get_if<SnapshotPart>(&reply)) {
    ROSTER_FUZZ_CHECK(utf8(part->nodes));
    check_round_trip(*part, replaced,
                     [](std::string_view body) { return decode_snapshot_part(body); });
  } else if (const auto* end = std::get_if<SnapshotEnd>(&reply)) {
    check_round_trip(*end, replaced,
                     [](std::string_view body) { return decode_snapshot_end(body); });
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SnapshotAssembler::Limits limits;
  limits.max_parts = 8;
  SnapshotAssembler assembler(limits);
  size_t fed_records = 0;
  bool whole = false;
  for (std::string_view body : split(as_body(data, size), 16)) {
    Decoded<SnapshotReply> decoded = decode_snapshot_reply(body);
    if (decoded.ok()) {
      check_reply(decoded.value(), decoded.replaced_strings());
      if (const auto* part = std::get_if<SnapshotPart>(&decoded.value())) {
        fed_records += part->nodes.size();
      }
      whole = std::holds_alternative<Snapshot>(decoded.value());
    } else {
      check_error(decoded.error());
    }
    const SnapshotAssembler::Status before = assembler.status();
    const SnapshotAssembler::Status status = assembler.add(body);
    ROSTER_FUZZ_CHECK(assembler.parts() <= limits.max_parts);
    if (status == SnapshotAssembler::Status::kFailed) {
      ROSTER_FUZZ_CHECK(!assembler.error().empty());
      continue;
    }
    if (status != SnapshotAssembler::Status::kDone || before == status) continue;
    Snapshot snapshot = assembler.take();
    ROSTER_FUZZ_CHECK(whole || snapshot.nodes.size() == fed_records);
    ROSTER_FUZZ_CHECK(utf8(snapshot.nodes));
    for (const NodeRecord& r : snapshot.nodes) ROSTER_FUZZ_CHECK(r.state != NodeState::kRemoved);
    subscriber::ViewSync sync = synced_view();
    subscriber::SyncOutput out;
    sync.on_admin_snapshot(snapshot, kStart + 100, out);
    check_sync(sync, out);
  }
  return 0;
}
