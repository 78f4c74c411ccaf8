#include "admin.h"

#include <type_traits>
#include <variant>

#include "roster/codec.h"

namespace roster::broker {

AdminAnswer AdminHandler::error(ErrorCode code, std::string message) {
  ErrorReply reply;
  reply.code = code;
  reply.message = message;
  AdminAnswer answer;
  answer.body = encode(AdminReply(reply));
  answer.error = code;
  answer.error_message = std::move(message);
  return answer;
}

AdminAnswer AdminHandler::handle(std::string_view body, TimeMs now) {
  Decoded<AdminRequest> decoded = decode_admin_request(body);
  if (!decoded.ok()) return error(decoded.error().code, decoded.error().message);
  AdminAnswer answer = std::visit(
      [&](const auto& request) -> AdminAnswer {
        using T = std::decay_t<decltype(request)>;
        if constexpr (std::is_same_v<T, SnapshotQuery>) {
          AdminAnswer answer;
          answer.snapshot = true;
          answer.part_bytes = request.part_bytes;
          return answer;
        } else if constexpr (std::is_same_v<T, NodeQuery>) {
          std::optional<NodeInfo> info = membership_.node(request.node);
          if (!info) return error(ErrorCode::kUnknownNode, "no node '" + request.node + "'");
          return AdminAnswer{encode(AdminReply(*info)), false, std::nullopt, {}};
        } else if constexpr (std::is_same_v<T, RemoveCommand>) {
          RemoveResult result = membership_.remove(request.node, request.inc, now);
          if (auto* refused = std::get_if<ErrorReply>(&result)) {
            return error(refused->code, refused->message);
          }
          // The removal is published before the operator hears it is done.
          commit_now_(now);
          return AdminAnswer{
              encode(AdminReply(std::get<RemovedReply>(result))), false, std::nullopt, {}};
        } else {
          static_assert(std::is_same_v<T, StatsQuery>);
          return AdminAnswer{encode(AdminReply(stats(now))), false, std::nullopt, {}};
        }
      },
      decoded.value());
  answer.request_type = decoded.value().index();
  return answer;
}

Stats AdminHandler::stats(TimeMs now) const {
  MembershipCounters core = membership_.counters();
  const PublisherCounters& published = publisher_.counters();
  Stats stats;
  stats.epoch = membership_.epoch();
  stats.version = membership_.version();
  stats.nodes = core.nodes;
  for (size_t i = 0; i < kNodeStateCount; ++i) {
    auto state = static_cast<NodeState>(i);
    if (state == NodeState::kRemoved) continue;  // never held
    stats.by_state[std::string(to_string(state))] = core.by_state[i];
  }
  stats.messages = loop_counters_.agent_requests + loop_counters_.admin_requests;
  for (size_t i = 0; i < kErrorCodeCount; ++i) {
    auto code = static_cast<ErrorCode>(i);
    if (code == ErrorCode::kUnrecognized) continue;  // never sent
    stats.errors[std::string(to_string(code))] = loop_counters_.errors[i];
  }
  stats.uptime_ms = static_cast<uint64_t>(now > start_ ? now - start_ : 0);
  auto& c = stats.counters;
  c["agent_requests"] = loop_counters_.agent_requests;
  c["admin_requests"] = loop_counters_.admin_requests;
  c["bad_frames"] = loop_counters_.bad_frames;
  c["busy_rounds"] = loop_counters_.busy_rounds;
  c["accept_failures"] = loop_counters_.accept_failures;
  c["close_failures"] = loop_counters_.close_failures;
  c["handshakes_admitted"] = loop_counters_.handshakes_admitted;
  c["handshakes_failed"] = loop_counters_.handshakes_failed;
  for (size_t i = 0; i < kEndpointCount; ++i) {
    c[std::string("handshakes_refused_") + endpoint_name(static_cast<Endpoint>(i))] =
        loop_counters_.handshakes_refused[i];
  }
  c["deltas"] = loop_counters_.deltas;
  c["joins"] = loop_counters_.joins;
  c["leaves"] = loop_counters_.leaves;
  c["expiries"] = loop_counters_.expiries;
  c["removals"] = loop_counters_.removals;
  c["forgotten"] = loop_counters_.forgotten;
  c["subscribers_connected"] = subscribers_connected(loop_counters_);
  c["stalls"] = core.stalls;
  c["stalled_ms"] = core.stalled_ms;
  c["tombstones"] = core.tombstones;
  c["tombstones_evicted"] = core.tombstones_evicted;
  c["warnings_suppressed"] = warnings_.suppressed();
  c["deltas_published"] = published.deltas.load(std::memory_order_relaxed);
  c["snapshots_published"] = published.snapshots.load(std::memory_order_relaxed);
  c["admin_snapshots"] = published.admin_snapshots.load(std::memory_order_relaxed);
  c["beats_published"] = published.beats.load(std::memory_order_relaxed);
  c["subscriptions"] = published.subscriptions.load(std::memory_order_relaxed);
  c["view_errors"] = published.view_errors.load(std::memory_order_relaxed);
  c["snapshots_deferred"] = published.snapshots_deferred.load(std::memory_order_relaxed);
  c["delta_bytes_published"] = published.delta_bytes.load(std::memory_order_relaxed);
  c["snapshot_bytes_published"] = published.snapshot_bytes.load(std::memory_order_relaxed);
  c["snapshot_bytes_held"] = published.snapshot_bytes_held.load(std::memory_order_relaxed);
  c["state_snapshots_held"] = published.state_snapshots_held.load(std::memory_order_relaxed);
  c["snapshot_builds"] = published.snapshot_builds.load(std::memory_order_relaxed);
  c["snapshot_built_bytes"] = published.snapshot_built_bytes.load(std::memory_order_relaxed);
  c["snapshot_build_us"] = published.snapshot_build_us.load(std::memory_order_relaxed);
  c["snapshots_skipped"] = published.snapshots_skipped.load(std::memory_order_relaxed);
  c["admin_snapshot_parts"] = published.admin_snapshot_parts.load(std::memory_order_relaxed);
  c["record_store_bytes"] = published.record_store_bytes.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace roster::broker
