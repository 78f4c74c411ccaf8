#include "support/admin.h"

#include <gtest/gtest.h>

#include <variant>

#include "support/messages.h"

namespace roster::testing {

namespace {

uint64_t to_ms(std::chrono::milliseconds timeout) {
  return static_cast<uint64_t>(timeout.count());
}

// The reply as T, or nullopt.
template <typename T>
std::optional<T> as(std::optional<AdminReply> reply) {
  if (!reply) return std::nullopt;
  if (auto* value = std::get_if<T>(&*reply)) return std::move(*value);
  return std::nullopt;
}

// as<T>(), reporting a reply of another kind as a test failure.
template <typename T>
std::optional<T> expect(std::optional<AdminReply> reply, const char* what) {
  if (!reply) return std::nullopt;
  auto value = as<T>(reply);
  if (!value) ADD_FAILURE() << "expected " << what << ", got " << describe(*reply);
  return value;
}

}  // namespace

std::optional<AdminReply> AdminClient::call(const AdminRequest& request,
                                            std::chrono::milliseconds timeout) {
  ctl::AdminCall result = client_.call(request, to_ms(timeout));
  if (!result.reply) ADD_FAILURE() << "admin channel: " << result.error;
  return std::move(result.reply);
}

std::optional<Snapshot> AdminClient::snapshot() {
  return expect<Snapshot>(call(SnapshotQuery{}), "a snapshot");
}

std::optional<Stats> AdminClient::stats() {
  return expect<Stats>(call(StatsQuery{}), "stats");
}

std::optional<NodeRecord> AdminClient::node(const std::string& node) {
  auto info = as<NodeInfo>(call(NodeQuery{node}));
  if (!info) return std::nullopt;
  return std::move(info->record);
}

std::optional<AdminReply> admin_call(const std::string& endpoint, const AdminRequest& request,
                                     std::chrono::milliseconds timeout) {
  return ctl::call_admin(endpoint, request, to_ms(timeout)).reply;
}

std::optional<Snapshot> admin_snapshot(const std::string& endpoint) {
  return as<Snapshot>(admin_call(endpoint, SnapshotQuery{}));
}

std::optional<Stats> admin_stats(const std::string& endpoint) {
  return as<Stats>(admin_call(endpoint, StatsQuery{}));
}

}  // namespace roster::testing
