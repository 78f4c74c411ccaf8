// Fuzz target: a beat from a hostile broker, as a subscriber decodes it
// from the state channel (decode_beat). A decoded beat re-encodes to
// itself, then goes to a subscriber synced to a base view and to one
// waiting for its snapshot, whose views must stay consistent.
#include "subscriber_fixture.h"

using namespace roster;
using namespace roster::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Decoded<Beat> decoded = decode_beat(as_body(data, size));
  if (!decoded.ok()) {
    check_error(decoded.error());
    return 0;
  }
  const Beat& beat = decoded.value();
  ROSTER_FUZZ_CHECK(decoded.replaced_strings() == 0);  // a beat has no strings
  check_round_trip(beat, 0, decode_beat);

  subscriber::ViewSync synced = synced_view();
  subscriber::SyncOutput out;
  synced.on_beat(beat, kStart + 100, out);
  synced.tick(kStart + 100, out);
  check_sync(synced, out);

  subscriber::ViewSync waiting(subscriber_options());
  subscriber::SyncOutput pending;
  waiting.start(kStart, pending);
  waiting.on_beat(beat, kStart + 100, pending);
  waiting.on_admin_snapshot(base_snapshot(), kStart + 200, pending);
  check_sync(waiting, pending);
  return 0;
}
