#include "agent_http.h"

#include <variant>

#include "metrics_text.h"
#include "roster_build_version.h"

namespace roster {

namespace {

// Phases after which the agent sends nothing more, or not yet anything.
bool running(AgentPhase phase) {
  return phase != AgentPhase::kIdle && phase != AgentPhase::kStopped &&
         phase != AgentPhase::kRemoved && phase != AgentPhase::kConfigError &&
         phase != AgentPhase::kDuplicate;
}

void feed(prometheus::Counter& counter, uint64_t count, uint64_t& last) {
  if (count <= last) return;
  counter.Increment(static_cast<double>(count - last));
  last = count;
}

constexpr AgentPhase kPhases[] = {
    AgentPhase::kIdle,    AgentPhase::kJoining,     AgentPhase::kJoined,
    AgentPhase::kBackoff, AgentPhase::kLeaving,     AgentPhase::kStopped,
    AgentPhase::kRemoved, AgentPhase::kConfigError, AgentPhase::kDuplicate};

}  // namespace

AgentHttp::AgentHttp(const Agent& agent) : agent_(agent) {
  http::add_build_info(registry_, "roster-agent", kVersion, kGitRevision);
  phase_ = &prometheus::BuildGauge()
                .Name("roster_agent_phase")
                .Help("1 for the agent's current phase, 0 for the others")
                .Register(registry_);
  for (AgentPhase phase : kPhases) phase_->Add({{"phase", std::string(to_string(phase))}});
  incarnation_ = &prometheus::BuildGauge()
                      .Name("roster_agent_incarnation")
                      .Help("The incarnation in use")
                      .Register(registry_)
                      .Add({});
  link_up_ = &prometheus::BuildGauge()
                  .Name("roster_agent_broker_link_up")
                  .Help("1 while joined to a broker (acks arrive), else 0")
                  .Register(registry_)
                  .Add({});
  broker_up_ = &prometheus::BuildGauge()
                    .Name("roster_agent_broker_up")
                    .Help("Per listed broker: 1 while its session is joined (acks arrive), else 0")
                    .Register(registry_);
  sent_ = &prometheus::BuildCounter()
               .Name("roster_agent_heartbeats_sent_total")
               .Help("Heartbeats handed to a broker link")
               .Register(registry_)
               .Add({});
  acked_ = &prometheus::BuildCounter()
                .Name("roster_agent_heartbeats_acked_total")
                .Help("Acks received for heartbeats")
                .Register(registry_)
                .Add({});
  failovers_counter_ = &prometheus::BuildCounter()
                            .Name("roster_agent_failovers_total")
                            .Help("Brokers lost: no reply within the lease, next endpoint tried")
                            .Register(registry_)
                            .Add({});
}

AgentHttp::~AgentHttp() {
  server_.reset();
}

std::optional<std::string> AgentHttp::start(const std::string& address) {
  auto parsed = http::parse_http_address(address);
  if (!parsed) return "invalid --http address '" + address + "'";
  http::HttpHandlers handlers;
  handlers.metrics = [this] { return metrics(); };
  handlers.health = [this] { return health(); };
  auto started = http::HttpServer::start(*parsed, std::move(handlers));
  if (auto* error = std::get_if<std::string>(&started)) return "--http " + address + ": " + *error;
  server_ = std::move(std::get<std::unique_ptr<http::HttpServer>>(started));
  return std::nullopt;
}

std::string AgentHttp::metrics() {
  const AgentStatus status = agent_.status();
  std::lock_guard<std::mutex> lock(mu_);
  for (AgentPhase phase : kPhases) {
    phase_->Add({{"phase", std::string(to_string(phase))}}).Set(phase == status.phase ? 1 : 0);
  }
  incarnation_->Set(static_cast<double>(status.incarnation));
  link_up_->Set(status.phase == AgentPhase::kJoined ? 1 : 0);
  for (const BrokerLinkStatus& link : status.links) {
    broker_up_->Add({{"broker", link.broker}}).Set(link.up ? 1 : 0);
  }
  feed(*sent_, status.heartbeats_sent, sent_last_);
  feed(*acked_, status.heartbeats_acked, acked_last_);
  feed(*failovers_counter_, failovers_.load(std::memory_order_relaxed), failovers_last_);
  return http::metrics_text(registry_);
}

http::ProbeResult AgentHttp::health() const {
  // status() takes the lock the agent's thread holds while it works: a
  // wedged agent makes the probe time out.
  const AgentStatus status = agent_.status();
  const std::string phase(to_string(status.phase));
  if (running(status.phase)) return {true, "ok: " + phase};
  return {false, "not running: " + phase};
}

}  // namespace roster
