// Fuzz target: a snapshot from a hostile broker, as a subscriber (and
// rosterctl watch) decodes it from the state channel (decode_snapshot).
// Decoded strings are valid UTF-8 and re-encode to themselves; the snapshot
// then syncs a fresh subscriber and resyncs one already synced to a base
// view, whose view and events must stay consistent.
#include "subscriber_fixture.h"

using namespace roster;
using namespace roster::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Decoded<Snapshot> decoded = decode_snapshot(as_body(data, size));
  if (!decoded.ok()) {
    check_error(decoded.error());
    return 0;
  }
  const Snapshot& snapshot = decoded.value();
  ROSTER_FUZZ_CHECK(utf8(snapshot.nodes));
  check_round_trip(snapshot, decoded.replaced_strings(), decode_snapshot);

  subscriber::ViewSync fresh(subscriber_options());
  subscriber::SyncOutput out;
  fresh.start(kStart, out);
  fresh.on_published_snapshot(snapshot, kStart + 100, out);
  check_sync(fresh, out);

  subscriber::ViewSync synced = synced_view();
  subscriber::SyncOutput resync;
  synced.on_published_snapshot(snapshot, kStart + 100, resync);
  check_sync(synced, resync);
  synced.tick(kStart + 60'000, resync);
  check_sync(synced, resync);
  return 0;
}
