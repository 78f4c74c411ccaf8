#include "json_format.h"

#include <string>

namespace roster::ctl {

using nlohmann::json;

std::string dump_line(const json& value) {
  // ASCII only: control characters (C0 and C1), bidirectional overrides and
  // every other non-ASCII character become \u escapes, so a line is safe to
  // show on a terminal and still means the same to a JSON parser.
  return value.dump(-1, ' ', /*ensure_ascii=*/true, json::error_handler_t::replace);
}

json to_json(const NodeRecord& record) {
  return json{{"node", record.node},
              {"inc", record.inc},
              {"state", std::string(to_string(record.state))},
              {"addr", record.addr},
              {"labels", record.labels},
              {"lease_ms", record.lease_ms},
              {"since_ms", record.since_ms}};
}

json to_json(const Snapshot& snapshot) {
  json nodes = json::array();
  for (const auto& record : snapshot.nodes) nodes.push_back(to_json(record));
  return json{{"epoch", snapshot.epoch},
              {"version", snapshot.version},
              {"complete", snapshot.complete},
              {"time_ms", snapshot.time_ms},
              {"nodes", std::move(nodes)}};
}

json to_json(const NodeInfo& info) {
  json out = to_json(info.record);
  out["last_seen_ms"] = info.last_seen_ms;
  return out;
}

json to_json(const RemovedReply& removed) {
  return json{{"node", removed.node}, {"inc", removed.inc}, {"version", removed.version}};
}

json to_json(const Stats& stats) {
  return json{{"epoch", stats.epoch},         {"version", stats.version},
              {"nodes", stats.nodes},         {"by_state", stats.by_state},
              {"messages", stats.messages},   {"errors", stats.errors},
              {"uptime_ms", stats.uptime_ms}, {"counters", stats.counters}};
}

json change_event(const NodeChange& change, uint64_t now_ms) {
  return json{{"event", "change"},
              {"time_ms", now_ms},
              {"epoch", change.epoch},
              {"version", change.version},
              {"change_time_ms", change.time_ms},
              {"node", change.record.node},
              {"inc", change.record.inc},
              {"old_state", change.old ? json(std::string(to_string(change.old->state))) : json()},
              {"new_state", std::string(to_string(change.record.state))},
              {"from_resync", change.from_resync},
              {"record", to_json(change.record)}};
}

json resync_event(const View& view, ResyncReason reason, uint64_t now_ms) {
  return json{{"event", "resync"},           {"time_ms", now_ms},
              {"reason", to_string(reason)}, {"epoch", view.epoch()},
              {"version", view.version()},   {"complete", view.complete()},
              {"nodes", view.nodes().size()}};
}

json stale_event(bool stale, uint64_t now_ms) {
  return json{{"event", "stale"}, {"time_ms", now_ms}, {"stale", stale}};
}

}  // namespace roster::ctl
