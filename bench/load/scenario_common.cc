#include <cstdio>

#include <variant>

#include "agent_channel.h"
#include "scenario.h"

namespace roster::bench {

bool start_named_broker(const BenchContext& ctx, const std::string& name,
                        const std::vector<std::string>& extra_args, ServerProcess* broker,
                        ScenarioResult* r) {
  std::vector<std::string> argv = {ctx.config.broker_path,
                                   "--agents",
                                   "tcp://127.0.0.1:*",
                                   "--publish",
                                   "tcp://127.0.0.1:*",
                                   "--admin",
                                   "tcp://127.0.0.1:*",
                                   "--log-level",
                                   "warn"};
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  std::string error;
  if (!start_server(argv, ctx.config.work_dir, name, std::chrono::seconds(15), broker, &error)) {
    r->fail(error);
    return false;
  }
  return true;
}

bool start_broker(const BenchContext& ctx, const std::vector<std::string>& extra_args,
                  ServerProcess* broker, ScenarioResult* r) {
  std::vector<std::string> args = {"--beat-interval", "100ms"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  if (!start_named_broker(ctx, "broker-" + r->name, args, broker, r)) return false;
  if (broker->endpoints.publish.empty() || broker->endpoints.admin.empty()) {
    r->fail("broker ready file has no publish or admin line");
    return false;
  }
  return true;
}

std::unique_ptr<testing::StateWatcher> watch_state(const ServerProcess& broker,
                                                   testing::StateWatcher::Options options,
                                                   ScenarioResult* r) {
  auto watcher =
      std::make_unique<testing::StateWatcher>(broker.endpoints.publish, std::move(options));
  if (!watcher->wait_live(std::chrono::seconds(10))) {
    r->fail("no message on the state channel within 10 s");
    return nullptr;
  }
  return watcher;
}

bool join_nodes(AgentChannel& channel, const std::vector<std::string>& ids, uint64_t inc,
                uint64_t lease_ms, std::vector<uint64_t>* granted_ms, ScenarioResult* r) {
  granted_ms->assign(ids.size(), 0);
  std::string problem;
  size_t acked = 0;
  auto on_reply = [&](size_t tag, AgentChannel::TimePoint, AgentChannel::TimePoint,
                      const Decoded<AgentReply>& reply) {
    if (!reply.ok()) {
      problem = "undecodable join reply: " + reply.error().message;
    } else if (const auto* ack = std::get_if<Ack>(&reply.value())) {
      (*granted_ms)[tag] = ack->lease_ms;
      ++acked;
    } else {
      const auto& err = std::get<ErrorReply>(reply.value());
      problem = "join refused: " + std::string(to_string(err.code)) + ": " + err.message;
    }
  };
  for (size_t i = 0; i < ids.size(); ++i) {
    while (!channel.send(AgentRequest{JoinRequest{ids[i], inc, 1, lease_ms, "10.0.0.1:9000", {}}},
                         i)) {
      channel.receive(std::chrono::milliseconds(10), on_reply);
    }
    channel.receive_ready(on_reply);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (channel.in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
    channel.receive(std::chrono::milliseconds(50), on_reply);
  }
  if (problem.empty() && acked != ids.size()) {
    problem = std::to_string(ids.size() - acked) + " joins unanswered";
  }
  if (problem.empty()) return true;
  r->fail(problem);
  return false;
}

std::string node_name(const std::string& prefix, size_t index) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%06zu", index);
  return prefix + digits;
}

std::vector<std::string> node_names(const std::string& prefix, size_t count) {
  std::vector<std::string> names;
  names.reserve(count);
  for (size_t i = 0; i < count; ++i) names.push_back(node_name(prefix, i));
  return names;
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string quantiles_text(const nlohmann::json& summary, const std::vector<std::string>& keys) {
  if (summary.value("count", 0) == 0) return "no samples";
  std::string names;
  std::string values;
  for (const auto& key : keys) {
    if (!names.empty()) {
      names += "/";
      values += " / ";
    }
    names += key;
    values += fixed(summary.value(key + "_ms", 0.0), 2);
  }
  return values + " ms (" + names + ")";
}

}  // namespace roster::bench
