// JSON renderings of protocol values for rosterctl --json. Field names
// follow the wire protocol (docs/PROTOCOL.md), so scripts read the same
// names everywhere.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "roster/protocol.h"
#include "roster/subscriber.h"
#include "roster/view.h"

namespace roster::ctl {

// `value` as one line of JSON, in ASCII (every control or non-ASCII
// character is a \u escape, so nothing a peer sent can drive a terminal).
// Never throws on text: a string that is not valid UTF-8 (the decoders
// already repair what the broker sends) is written with U+FFFD in place of
// the ill-formed bytes.
std::string dump_line(const nlohmann::json& value);

// {node, inc, state, addr, labels{}, lease_ms, since_ms}
nlohmann::json to_json(const NodeRecord& record);
// {epoch, version, complete, time_ms, nodes: [record]}
nlohmann::json to_json(const Snapshot& snapshot);
// the record plus last_seen_ms
nlohmann::json to_json(const NodeInfo& info);
// {node, inc, version}
nlohmann::json to_json(const RemovedReply& removed);
// {epoch, version, nodes, by_state{}, messages, errors{}, uptime_ms, counters{}}
nlohmann::json to_json(const Stats& stats);

// Lines of `watch --json`, each with "event" and the local "time_ms".
// {event: "change", time_ms, epoch, version, change_time_ms (the broker's
//  time of the delta), node, inc, old_state (null if new), new_state,
//  from_resync, record}
nlohmann::json change_event(const NodeChange& change, uint64_t now_ms);
// {event: "resync", time_ms, reason, epoch, version, complete, nodes (count)}
nlohmann::json resync_event(const View& view, ResyncReason reason, uint64_t now_ms);
// {event: "stale", time_ms, stale}
nlohmann::json stale_event(bool stale, uint64_t now_ms);

}  // namespace roster::ctl
