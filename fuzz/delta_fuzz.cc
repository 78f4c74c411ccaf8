// Fuzz target: a delta from a hostile broker, as a subscriber (and
// rosterctl watch) decodes it from the state channel (decode_delta).
// Decoded strings are valid UTF-8 and re-encode to themselves; the delta
// then goes to a subscriber synced to a base view (applied, old, gap or
// epoch change) and to one still waiting for its snapshot (buffered, then
// applied once the base snapshot comes), whose views and events must stay
// consistent.
#include "subscriber_fixture.h"

using namespace roster;
using namespace roster::fuzz;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Decoded<Delta> decoded = decode_delta(as_body(data, size));
  if (!decoded.ok()) {
    check_error(decoded.error());
    return 0;
  }
  const Delta& delta = decoded.value();
  ROSTER_FUZZ_CHECK(utf8(delta.changes));
  check_round_trip(delta, decoded.replaced_strings(), decode_delta);

  subscriber::ViewSync synced = synced_view();
  subscriber::SyncOutput out;
  synced.on_delta(delta, kStart + 100, out);
  check_sync(synced, out);

  subscriber::ViewSync waiting(subscriber_options());
  subscriber::SyncOutput buffered;
  waiting.start(kStart, buffered);
  waiting.on_delta(delta, kStart + 100, buffered);
  waiting.on_admin_snapshot(base_snapshot(), kStart + 200, buffered);
  check_sync(waiting, buffered);
  return 0;
}
